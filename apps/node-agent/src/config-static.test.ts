import { ConfigError, parseAgentConfig } from './config';

const base = ['--labels', 'zone=a', '--node-name', 'node-a'];

describe('--static-handoff-grace', () => {
  it('defaults to 30 s', () => {
    expect(parseAgentConfig(base, {}, '/p')).toMatchObject({ staticHandOffGraceMs: 30_000 });
  });

  it.each([
    ['2s', 2000],
    ['1m30s', 90_000],
    ['500ms', 500],
    ['0', 0],
  ])('takes the Go duration %s', (text, ms) => {
    expect(parseAgentConfig([...base, '--static-handoff-grace', text], {}, '/p')).toMatchObject({ staticHandOffGraceMs: ms });
  });

  it('takes ATOLL_STATIC_HANDOFF_GRACE', () => {
    expect(parseAgentConfig(base, { ATOLL_STATIC_HANDOFF_GRACE: '45s' }, '/p')).toMatchObject({ staticHandOffGraceMs: 45_000 });
  });

  it.each(['30', '-5s', 'soon', '25h'])('refuses %s, naming the flag', (text) => {
    const args = [...base, `--static-handoff-grace=${text}`];
    expect(() => parseAgentConfig(args, {}, '/p')).toThrow(ConfigError);
    expect(() => parseAgentConfig(args, {}, '/p')).toThrow(/^--static-handoff-grace: /);
  });
});
