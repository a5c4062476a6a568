import { readCniEnv, readCommand } from './env';
import { CniError } from './errors';

const full = {
  CNI_COMMAND: 'ADD',
  CNI_CONTAINERID: 'abc.123_x-y',
  CNI_NETNS: '/proc/4242/ns/net',
  CNI_IFNAME: 'eth0',
  CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=p',
  CNI_PATH: '/opt/cni/bin:/usr/lib/cni',
};

function codeOf(fn: () => unknown): [number, string, string] {
  try {
    fn();
  } catch (err) {
    if (err instanceof CniError) return [err.code, err.message, err.details];
    throw err;
  }
  throw new Error('expected a CniError');
}

describe('readCniEnv', () => {
  it('returns every variable for ADD', () => {
    expect(readCniEnv(full)).toEqual({
      command: 'ADD',
      containerId: 'abc.123_x-y',
      netns: '/proc/4242/ns/net',
      ifname: 'eth0',
      args: 'IgnoreUnknown=1;K8S_POD_NAME=p',
      path: '/opt/cni/bin:/usr/lib/cni',
    });
  });

  it('lets DEL run without a network namespace (it may be gone already)', () => {
    expect(readCniEnv({ ...full, CNI_COMMAND: 'DEL', CNI_NETNS: undefined }).netns).toBe('');
  });

  it('does not require CNI_PATH: the plugin executes nothing', () => {
    expect(readCniEnv({ ...full, CNI_PATH: undefined }).path).toBe('');
  });

  it.each(['GC', 'STATUS', 'VERSION'])('needs only CNI_COMMAND for %s', (command) => {
    expect(readCniEnv({ CNI_COMMAND: command })).toMatchObject({ command, containerId: '', ifname: '', netns: '' });
  });

  it('does not judge container variables that GC does not use', () => {
    expect(readCniEnv({ CNI_COMMAND: 'GC', CNI_CONTAINERID: 'bad/id', CNI_IFNAME: '..' }).command).toBe('GC');
  });

  it.each([
    ['every missing variable, in skel order', { CNI_CONTAINERID: '', CNI_NETNS: '', CNI_IFNAME: '' }, 'required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME] missing', ''],
    ['an interface name of 16 bytes', { CNI_IFNAME: 'a'.repeat(16) }, 'interface name is too long', 'interface name should be less than 16 characters'],
    ['an interface name of 15 multi-byte characters', { CNI_IFNAME: 'é'.repeat(8) }, 'interface name is too long', 'interface name should be less than 16 characters'],
    ['the interface name .', { CNI_IFNAME: '.' }, 'interface name is . or ..', ''],
    ['an interface name with a newline', { CNI_IFNAME: 'eth\n0' }, 'interface name contains / or : or whitespace characters', '"eth\\n0"'],
    ['a container ID with a semicolon', { CNI_CONTAINERID: 'a;b' }, 'invalid characters in containerID', 'a;b'],
  ])('refuses %s with code 4', (_title, over, msg, details) => {
    expect(codeOf(() => readCniEnv({ ...full, ...over }))).toEqual([4, msg, details]);
  });

  it('accepts a 15-byte interface name', () => {
    expect(readCniEnv({ ...full, CNI_IFNAME: 'a'.repeat(15) }).ifname).toHaveLength(15);
  });
});

describe('readCommand', () => {
  it.each(['ADD', 'DEL', 'CHECK', 'GC', 'STATUS', 'VERSION'])('accepts %s', (command) => {
    expect(readCommand({ CNI_COMMAND: command })).toBe(command);
  });

  it('lists the commands it understands when refusing one', () => {
    expect(codeOf(() => readCommand({ CNI_COMMAND: 'FINALIZE' }))).toEqual([4, 'unknown CNI_COMMAND: FINALIZE', 'atoll-ipam understands ADD, DEL, CHECK, GC, STATUS, VERSION']);
  });
});
