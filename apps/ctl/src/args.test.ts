import { allocatorAddress, outputFormat, parseCommandArgs } from './args';
import { UsageError } from './errors';

describe('parseCommandArgs', () => {
  const options = { ip: { type: 'string' }, 'show-blocks': { type: 'boolean' }, output: { type: 'string', short: 'o' } } as const;

  it('takes --flag=value, --flag value and -o value alike', () => {
    expect(parseCommandArgs('ipam show', ['--ip=10.0.0.1'], options).values['ip']).toBe('10.0.0.1');
    expect(parseCommandArgs('ipam show', ['--ip', '10.0.0.1'], options).values['ip']).toBe('10.0.0.1');
    expect(parseCommandArgs('ipam show', ['-o', 'json'], options).values['output']).toBe('json');
    expect(parseCommandArgs('ipam show', ['-ojson'], options).values['output']).toBe('json');
  });

  it('accepts the global flags anywhere', () => {
    const parsed = parseCommandArgs('get', ['ippools', '--allocator', '10.0.0.9:7443', '-h'], {});
    expect(parsed.values).toMatchObject({ allocator: '10.0.0.9:7443', help: true });
    expect(parsed.positionals).toEqual(['ippools']);
  });

  it.each([
    [['--bogus'], "unknown flag --bogus for 'atollctl ipam show'; see 'atollctl ipam show --help'"],
    [['-x'], "unknown flag -x for 'atollctl ipam show'; see 'atollctl ipam show --help'"],
    [['--ip'], "flag --ip needs a value; see 'atollctl ipam show --help'"],
    [['-o'], "flag --output needs a value; see 'atollctl ipam show --help'"],
    [['--show-blocks=yes'], "flag --show-blocks takes no value; see 'atollctl ipam show --help'"],
    [['--ip', '-1'], "flag --ip needs a value (write --ip=-VALUE for one starting with '-'); see 'atollctl ipam show --help'"],
  ])('names the flag in the usage error for %p', (argv, message) => {
    expect(() => parseCommandArgs('ipam show', argv, options)).toThrow(new UsageError(message));
  });
});

describe('allocatorAddress', () => {
  const parsed = (argv: string[]) => parseCommandArgs('get', argv, {});

  it.each<[string, string[], Record<string, string>, string]>([
    ['the flag over the environment', ['--allocator=10.0.0.1:1'], { ATOLL_ALLOCATOR: '10.0.0.2:2' }, '10.0.0.1:1'],
    ['the environment over the default', [], { ATOLL_ALLOCATOR: '10.0.0.2:2' }, '10.0.0.2:2'],
    ['the default without either', [], {}, '127.0.0.1:7443'],
    ['the default when the environment variable is empty', [], { ATOLL_ALLOCATOR: ' ' }, '127.0.0.1:7443'],
  ])('takes %s', (_title, argv, env, expected) => {
    expect(allocatorAddress(parsed(argv), env)).toBe(expected);
  });

  it('refuses an empty --allocator', () => {
    expect(() => allocatorAddress(parsed(['--allocator=']), {})).toThrow(UsageError);
  });
});

describe('outputFormat', () => {
  it('refuses a format the command does not have, listing those it has', () => {
    const parsed = parseCommandArgs('get', ['-o', 'xml'], { output: { type: 'string', short: 'o' } });
    expect(() => outputFormat('get', parsed, ['table', 'json'], 'table')).toThrow(
      new UsageError(`flag --output must be one of table, json, got "xml"; see 'atollctl get --help'`),
    );
  });
});
