import { FakeAllocator, runCtl } from './testing/fake-allocator';

describe('atollctl dispatch', () => {
  it.each([
    [['--help'], 'atollctl [options] <command>'],
    [['-h'], 'atollctl [options] <command>'],
    [['ipam', '--help'], 'atollctl ipam <command>'],
    [['get', '--help'], 'atollctl get <KIND>'],
    [['apply', '-h'], 'atollctl apply --filename'],
    [['create', '--help'], 'atollctl create --filename'],
    [['delete', '--help'], 'atollctl delete ( <KIND> <NAME>...'],
    [['ipam', 'show', '--help'], 'atollctl ipam show'],
    [['ipam', 'check', '-h'], 'atollctl ipam check'],
    [['ipam', 'release', '--help'], 'atollctl ipam release'],
    [['ipam', 'configure', '--help'], 'atollctl ipam configure'],
    [['ipam', 'split', '--help'], 'atollctl ipam split <NUMBER>'],
  ])('prints help for %p on stdout without connecting', async (argv, expected) => {
    const fake = new FakeAllocator();
    const run = await runCtl(argv, fake);
    expect(run).toMatchObject({ code: 0, stderr: '', connectedTo: [] });
    expect(run.stdout).toContain(expected);
  });

  it.each([
    [[], "atollctl: no command given; see 'atollctl --help'\n"],
    [['frobnicate'], `atollctl: unknown command "frobnicate"; see 'atollctl --help'\n`],
    [['ipam'], "atollctl: no ipam command given; see 'atollctl ipam --help'\n"],
    [['ipam', 'frob'], `atollctl: unknown command "ipam frob"; see 'atollctl ipam --help'\n`],
    [['--verbose', 'get', 'ippools'], "atollctl: unknown flag --verbose for 'atollctl'; see 'atollctl --help'\n"],
    [['get', 'ippools', '--verbose'], "atollctl: unknown flag --verbose for 'atollctl get'; see 'atollctl get --help'\n"],
    [['get'], "atollctl: missing KIND for 'atollctl get'; see 'atollctl get --help'\n"],
    [['apply'], "atollctl: 'atollctl apply' needs -f FILE (or -f - for stdin); see 'atollctl apply --help'\n"],
    [['ipam', 'show', 'extra'], `atollctl: unexpected argument "extra" for 'atollctl ipam show'; see 'atollctl ipam show --help'\n`],
  ])('refuses %p with one usage line and exit code 2', async (argv, stderr) => {
    const run = await runCtl(argv, new FakeAllocator());
    expect(run).toMatchObject({ code: 2, stdout: '', stderr });
  });

  it.each<[string, string[], Record<string, string>, string]>([
    ['the default address', ['get', 'ippools'], {}, '127.0.0.1:7443'],
    ['$ATOLL_ALLOCATOR', ['get', 'ippools'], { ATOLL_ALLOCATOR: '10.0.0.5:7443' }, '10.0.0.5:7443'],
    ['--allocator before the command', ['--allocator', '10.0.0.6:7443', 'get', 'ippools'], { ATOLL_ALLOCATOR: '10.0.0.5:7443' }, '10.0.0.6:7443'],
    ['--allocator= after the command', ['get', 'ippools', '--allocator=10.0.0.7:7443'], {}, '10.0.0.7:7443'],
    ['--allocator between ipam and its command', ['ipam', '--allocator', '10.0.0.8:7443', 'show'], {}, '10.0.0.8:7443'],
  ])('connects to %s', async (_title, argv, env, address) => {
    const run = await runCtl(argv, new FakeAllocator(), { env });
    expect(run.code).toBe(0);
    expect(run.connectedTo).toEqual([address]);
  });

  it('says the allocator cannot be reached when nothing answers, in one line', async () => {
    const fake = new FakeAllocator();
    fake.unreachable = true;
    const run = await runCtl(['get', 'ippools'], fake);
    expect(run).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'atollctl: cannot reach the allocator at 127.0.0.1:7443: No connection established. Last error: connect ECONNREFUSED 127.0.0.1:7443\n',
    });
  });

  it('tells an allocator that answers but cannot serve from one that cannot be reached', async () => {
    const fake = new FakeAllocator();
    fake.backendDown = true;
    const run = await runCtl(['ipam', 'show'], fake);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('atollctl: the allocator at 127.0.0.1:7443 could not complete the request: etcd is unavailable: deadline exceeded; try again\n');
  });

  it('closes the connection after the command, also when it fails', async () => {
    const ok = new FakeAllocator();
    await runCtl(['get', 'ippools'], ok);
    const failing = new FakeAllocator();
    failing.unreachable = true;
    await runCtl(['get', 'ippools'], failing);
    expect([ok.closed, failing.closed]).toEqual([true, true]);
  });
});
