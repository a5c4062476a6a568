import { Readable } from 'node:stream';
import { runPlugin, type PluginOutcome } from './plugin';
import { answerEmpty, answerError, answerResult, startFakeAgent, type FakeAgent } from './testing/fake-agent';

// Every refused invocation must be refused by the plugin itself: the fake agent counts
// connections, and each malformed case asserts there was none.

let agent: FakeAgent;
beforeAll(async () => {
  agent = await startFakeAgent();
});
afterAll(() => agent.close());
beforeEach(() => agent.answerWith(answerEmpty()));

const baseEnv = (command = 'ADD'): Record<string, string> => ({
  CNI_COMMAND: command,
  CNI_CONTAINERID: 'c0ffee1234',
  CNI_NETNS: '/var/run/netns/pod-1',
  CNI_IFNAME: 'eth0',
  CNI_ARGS: 'K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0',
  CNI_PATH: '/usr/lib/cni',
});

type Json = Record<string, unknown>;
const config = (over: Json = {}, ipamOver: Json = {}): string =>
  JSON.stringify({
    cniVersion: '1.0.0',
    name: 'atoll-net',
    type: 'bridge',
    ipam: { type: 'atoll-ipam', agent_socket: agent.socketPath, ...ipamOver },
    ...over,
  });
const without = (key: string): string => {
  const o = JSON.parse(config()) as Json;
  delete o[key];
  return JSON.stringify(o);
};
const withIpam = (ipam: unknown): string => JSON.stringify({ ...(JSON.parse(config()) as Json), ipam });

async function run(env: Record<string, string | undefined>, stdin: string | Buffer, stdinIsTTY = false): Promise<PluginOutcome> {
  return runPlugin({ env, stdin: Readable.from([Buffer.from(stdin)]), stdinIsTTY });
}

interface Malformed {
  readonly env?: Record<string, string | undefined>;
  readonly stdin?: string | (() => string);
  readonly code: number;
  readonly msg: string | RegExp;
}

const unset = undefined;
const MALFORMED: Record<string, Malformed> = {
  // CNI_COMMAND
  'no CNI_COMMAND': { env: { CNI_COMMAND: unset }, code: 4, msg: 'required env variables [CNI_COMMAND] missing' },
  'an empty CNI_COMMAND': { env: { CNI_COMMAND: '' }, code: 4, msg: 'required env variables [CNI_COMMAND] missing' },
  'a lower-case command': { env: { CNI_COMMAND: 'add' }, code: 4, msg: 'unknown CNI_COMMAND: add' },
  'the retired GET command': { env: { CNI_COMMAND: 'GET' }, code: 4, msg: 'unknown CNI_COMMAND: GET' },
  'an INIT command': { env: { CNI_COMMAND: 'INIT' }, code: 4, msg: 'unknown CNI_COMMAND: INIT' },
  'a command with spaces': { env: { CNI_COMMAND: ' ADD ' }, code: 4, msg: 'unknown CNI_COMMAND:  ADD ' },
  // required variables
  'ADD without CNI_CONTAINERID': { env: { CNI_CONTAINERID: unset }, code: 4, msg: 'required env variables [CNI_CONTAINERID] missing' },
  'ADD without CNI_NETNS': { env: { CNI_NETNS: unset }, code: 4, msg: 'required env variables [CNI_NETNS] missing' },
  'ADD without CNI_IFNAME': { env: { CNI_IFNAME: '' }, code: 4, msg: 'required env variables [CNI_IFNAME] missing' },
  'ADD without any of them': {
    env: { CNI_CONTAINERID: unset, CNI_NETNS: unset, CNI_IFNAME: unset },
    code: 4,
    msg: 'required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME] missing',
  },
  'DEL without CNI_CONTAINERID': { env: { ...baseEnv('DEL'), CNI_CONTAINERID: unset }, code: 4, msg: 'required env variables [CNI_CONTAINERID] missing' },
  'DEL without CNI_IFNAME': { env: { ...baseEnv('DEL'), CNI_IFNAME: unset }, code: 4, msg: 'required env variables [CNI_IFNAME] missing' },
  'CHECK without CNI_NETNS': { env: { ...baseEnv('CHECK'), CNI_NETNS: unset }, code: 4, msg: 'required env variables [CNI_NETNS] missing' },
  // values of variables
  'a container ID with a slash': { env: { CNI_CONTAINERID: 'abc/def' }, code: 4, msg: 'invalid characters in containerID' },
  'a container ID starting with a dash': { env: { CNI_CONTAINERID: '-abc' }, code: 4, msg: 'invalid characters in containerID' },
  'a container ID with a space': { env: { CNI_CONTAINERID: 'abc def' }, code: 4, msg: 'invalid characters in containerID' },
  'an interface name of 16 characters': { env: { CNI_IFNAME: 'eth0123456789abc' }, code: 4, msg: 'interface name is too long' },
  'the interface name ..': { env: { CNI_IFNAME: '..' }, code: 4, msg: 'interface name is . or ..' },
  'an interface name with a slash': { env: { CNI_IFNAME: 'eth/0' }, code: 4, msg: 'interface name contains / or : or whitespace characters' },
  'an interface name with a colon': { env: { CNI_IFNAME: 'eth:0' }, code: 4, msg: 'interface name contains / or : or whitespace characters' },
  'an interface name with a tab': { env: { CNI_IFNAME: 'eth\t0' }, code: 4, msg: 'interface name contains / or : or whitespace characters' },
  // stdin that is not a JSON object
  'empty stdin': { stdin: '', code: 6, msg: /^failed to decode network configuration: Unexpected end of JSON input/ },
  'stdin that is not JSON': { stdin: 'name=atoll-net', code: 6, msg: /^failed to decode network configuration: / },
  'truncated JSON': { stdin: '{"cniVersion":"1.0.0","name":"n"', code: 6, msg: /^failed to decode network configuration: / },
  'JSON with trailing text': { stdin: () => `${config()} trailing`, code: 6, msg: /^failed to decode network configuration: / },
  'JSON behind a byte-order mark': { stdin: () => `\ufeff${config()}`, code: 6, msg: /^failed to decode network configuration: / },
  'a JSON array': { stdin: '[]', code: 6, msg: 'failed to decode network configuration: expected a JSON object, got array' },
  'JSON null': { stdin: 'null', code: 6, msg: 'failed to decode network configuration: expected a JSON object, got null' },
  'a JSON string': { stdin: '"atoll"', code: 6, msg: 'failed to decode network configuration: expected a JSON object, got string' },
  'a JSON number': { stdin: '42', code: 6, msg: 'failed to decode network configuration: expected a JSON object, got number' },
  'stdin over 1 MiB': {
    stdin: () => config({ padding: 'x'.repeat(1024 * 1024) }),
    code: 6,
    msg: 'failed to decode network configuration: stdin is larger than 1048576 bytes',
  },
  // name
  'no name': { stdin: () => without('name'), code: 7, msg: 'missing network name' },
  'an empty name': { stdin: () => config({ name: '' }), code: 7, msg: 'missing network name' },
  'a numeric name': { stdin: () => config({ name: 42 }), code: 6, msg: 'failed to decode network configuration: "name" must be a string, got number' },
  'a name with a space': { stdin: () => config({ name: 'my net' }), code: 7, msg: 'invalid characters found in network name' },
  // cniVersion
  'no cniVersion': { stdin: () => without('cniVersion'), code: 1, msg: 'incompatible CNI versions' },
  'a numeric cniVersion': { stdin: () => config({ cniVersion: 1 }), code: 6, msg: 'failed to decode network configuration: "cniVersion" must be a string, got number' },
  'cniVersion 0.1.0': { stdin: () => config({ cniVersion: '0.1.0' }), code: 1, msg: 'incompatible CNI versions' },
  'cniVersion 0.2.0': { stdin: () => config({ cniVersion: '0.2.0' }), code: 1, msg: 'incompatible CNI versions' },
  'cniVersion 1.2.0 from the future': { stdin: () => config({ cniVersion: '1.2.0' }), code: 1, msg: 'incompatible CNI versions' },
  'cniVersion "1.0" without a patch number': { stdin: () => config({ cniVersion: '1.0' }), code: 1, msg: 'incompatible CNI versions' },
  'CHECK with a 0.3.1 config': { env: baseEnv('CHECK'), stdin: () => config({ cniVersion: '0.3.1' }), code: 1, msg: 'config version does not allow CHECK' },
  'GC with a 1.0.0 config': { env: baseEnv('GC'), stdin: () => config({ 'cni.dev/valid-attachments': [] }), code: 1, msg: 'config version does not allow GC' },
  'STATUS with a 0.4.0 config': { env: baseEnv('STATUS'), stdin: () => config({ cniVersion: '0.4.0' }), code: 1, msg: 'config version does not allow STATUS' },
  // ipam
  'no ipam section': { stdin: () => without('ipam'), code: 7, msg: 'missing "ipam" section' },
  'a null ipam section': { stdin: () => withIpam(null), code: 7, msg: 'missing "ipam" section' },
  'an ipam section that is a string': { stdin: () => withIpam('atoll-ipam'), code: 6, msg: 'failed to decode network configuration: "ipam" must be an object, got string' },
  'an ipam section that is an array': { stdin: () => withIpam([]), code: 6, msg: 'failed to decode network configuration: "ipam" must be an object, got array' },
  'no ipam.type': { stdin: () => withIpam({ agent_socket: agent.socketPath }), code: 7, msg: 'missing "ipam.type"' },
  'an empty ipam.type': { stdin: () => config({}, { type: '' }), code: 7, msg: 'missing "ipam.type"' },
  'a numeric ipam.type': { stdin: () => config({}, { type: 5 }), code: 6, msg: 'failed to decode network configuration: "ipam.type" must be a string, got number' },
  'a numeric agent_socket': { stdin: () => config({}, { agent_socket: 5 }), code: 6, msg: 'failed to decode network configuration: "ipam.agent_socket" must be a string, got number' },
  'a relative agent_socket': { stdin: () => config({}, { agent_socket: 'agent.sock' }), code: 7, msg: 'ipam.agent_socket must be an absolute path' },
  'an empty agent_socket': { stdin: () => config({}, { agent_socket: '' }), code: 7, msg: 'ipam.agent_socket must be an absolute path' },
  'an agent_socket longer than sun_path': {
    stdin: () => config({}, { agent_socket: `/run/${'a'.repeat(120)}.sock` }),
    code: 7,
    msg: 'ipam.agent_socket must be a unix socket path of at most 107 bytes',
  },
  'a string agent_timeout_seconds': {
    stdin: () => config({}, { agent_timeout_seconds: '30' }),
    code: 6,
    msg: 'failed to decode network configuration: "ipam.agent_timeout_seconds" must be a number, got string',
  },
  'a zero agent_timeout_seconds': { stdin: () => config({}, { agent_timeout_seconds: 0 }), code: 7, msg: 'ipam.agent_timeout_seconds must be more than 0 and at most 600' },
  'a negative agent_timeout_seconds': { stdin: () => config({}, { agent_timeout_seconds: -1 }), code: 7, msg: 'ipam.agent_timeout_seconds must be more than 0 and at most 600' },
  'an agent_timeout_seconds in milliseconds': {
    stdin: () => config({}, { agent_timeout_seconds: 30000 }),
    code: 7,
    msg: 'ipam.agent_timeout_seconds must be more than 0 and at most 600',
  },
  // GC
  'GC without valid attachments': { env: baseEnv('GC'), stdin: () => config({ cniVersion: '1.1.0' }), code: 7, msg: 'GC needs "cni.dev/valid-attachments"' },
  'GC with valid attachments that are not a list': {
    env: baseEnv('GC'),
    stdin: () => config({ cniVersion: '1.1.0', 'cni.dev/valid-attachments': 'c0ffee' }),
    code: 6,
    msg: 'failed to decode network configuration: "cni.dev/valid-attachments" must be an array, got string',
  },
};

describe('atoll-ipam refuses malformed invocations without asking the agent', () => {
  it('has at least 40 cases', () => {
    expect(Object.keys(MALFORMED).length).toBeGreaterThanOrEqual(40);
  });

  it.each(Object.entries(MALFORMED))('refuses %s', async (_title, c) => {
    const before = agent.connections;
    const env = { ...baseEnv(), ...c.env };
    const stdin = c.stdin === undefined ? config() : typeof c.stdin === 'function' ? c.stdin() : c.stdin;
    const out = await run(env, stdin);
    expect(out.exitCode).toBe(1);
    const err = JSON.parse(out.stdout) as { cniVersion: string; code: number; msg: string; details?: string };
    expect(err.code).toBe(c.code);
    if (typeof c.msg === 'string') expect(err.msg).toBe(c.msg);
    else expect(err.msg).toMatch(c.msg);
    expect(typeof err.cniVersion).toBe('string');
    expect(Object.keys(err).every((k) => ['cniVersion', 'code', 'msg', 'details'].includes(k))).toBe(true);
    expect(agent.connections).toBe(before);
  });
});

describe('errors name the version the runtime can parse', () => {
  it('answers in the configuration cniVersion when it is a supported one', async () => {
    const out = await run({ ...baseEnv(), CNI_IFNAME: '..' }, config({ cniVersion: '0.4.0' }));
    expect(JSON.parse(out.stdout)).toMatchObject({ cniVersion: '0.4.0', code: 4 });
  });

  it('answers in 1.1.0 when the configuration version is unusable', async () => {
    const out = await run(baseEnv(), config({ cniVersion: '0.2.0' }));
    expect(JSON.parse(out.stdout)).toEqual({
      cniVersion: '1.1.0',
      code: 1,
      msg: 'incompatible CNI versions',
      details: 'config is "0.2.0", atoll-ipam supports 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0; set "cniVersion" to one of them',
    });
  });
});

describe('VERSION', () => {
  it('answers with the requested version and every supported one, without the agent', async () => {
    const before = agent.connections;
    const out = await run({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"0.4.0"}');
    expect(out).toEqual({ exitCode: 0, stdout: '{"cniVersion":"0.4.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}' });
    expect(agent.connections).toBe(before);
  });

  it.each([
    ['empty stdin', ''],
    ['stdin that is not JSON', 'hello'],
    ['a cniVersion that is not a version', '{"cniVersion":"latest"}'],
  ])('answers with 1.1.0 for %s', async (_title, stdin) => {
    const out = await run({ CNI_COMMAND: 'VERSION' }, stdin);
    expect(JSON.parse(out.stdout)).toEqual({ cniVersion: '1.1.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  });

  it('does not wait for a terminal', async () => {
    const neverEnds = new Readable({ read() {} });
    const out = await runPlugin({ env: { CNI_COMMAND: 'VERSION' }, stdin: neverEnds, stdinIsTTY: true });
    expect(JSON.parse(out.stdout)).toMatchObject({ cniVersion: '1.1.0' });
  });

  it('gives up on a stdin that never ends', async () => {
    const neverEnds = new Readable({ read() {} });
    const started = Date.now();
    const out = await runPlugin({ env: { CNI_COMMAND: 'VERSION' }, stdin: neverEnds });
    expect(JSON.parse(out.stdout)).toMatchObject({ cniVersion: '1.1.0' });
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe('relaying to the agent', () => {
  const result = { cniVersion: '1.0.0', ips: [{ address: '10.99.0.5/26' }], routes: [{ dst: '10.99.0.5/26' }], dns: {} };

  it('sends one request with the environment and the stdin text unchanged', async () => {
    agent.answerWith(answerResult(result));
    const stdin = `  ${config()}\n`;
    await run(baseEnv(), stdin);
    expect(agent.requests.at(-1)).toEqual({
      command: 'ADD',
      containerId: 'c0ffee1234',
      ifname: 'eth0',
      netns: '/var/run/netns/pod-1',
      args: 'K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0',
      networkConfig: stdin,
    });
  });

  it('prints the ADD result exactly as the agent gave it', async () => {
    const text = '{ "cniVersion": "1.0.0",\n  "ips": [{"address": "10.99.0.5/26"}] }';
    agent.answerWith(answerResult(text));
    expect(await run(baseEnv(), config())).toEqual({ exitCode: 0, stdout: text });
  });

  it.each(['DEL', 'CHECK'])('prints nothing for a successful %s', async (command) => {
    agent.answerWith(answerResult(result)); // even if the agent sends something
    expect(await run(baseEnv(command), config())).toEqual({ exitCode: 0, stdout: '' });
    expect(agent.requests.at(-1)?.command).toBe(command);
  });

  it.each(['GC', 'STATUS'])('prints nothing for a successful %s and needs no container variables', async (command) => {
    const stdin = config({ cniVersion: '1.1.0', 'cni.dev/valid-attachments': [{ containerID: 'c1', ifname: 'eth0' }] });
    expect(await run({ CNI_COMMAND: command }, stdin)).toEqual({ exitCode: 0, stdout: '' });
    expect(agent.requests.at(-1)).toMatchObject({ command, containerId: '', ifname: '', netns: '' });
  });

  it('turns an agent error into CNI error JSON with the agent code', async () => {
    agent.answerWith(answerError(100, 'resource already exists: 10.99.0.5', 'choose another address'));
    const out = await run(baseEnv(), config({ cniVersion: '0.3.1' }));
    expect(out.exitCode).toBe(1);
    expect(JSON.parse(out.stdout)).toEqual({ cniVersion: '0.3.1', code: 100, msg: 'resource already exists: 10.99.0.5', details: 'choose another address' });
  });

  it.each([
    ['a line that is not JSON', 'oops'],
    ['an error without a code', '{"error":{"msg":"x"}}'],
    ['a result that is not a string', '{"result":{"ips":[]}}'],
  ])('reports code 999 when the agent answers %s', async (_title, line) => {
    agent.answerWith({ line });
    const out = await run(baseEnv(), config());
    expect(JSON.parse(out.stdout)).toMatchObject({ code: 999, msg: expect.stringContaining('atoll-node-agent gave an answer atoll-ipam cannot read') });
  });

  it('reports code 999 when ADD gets no result object', async () => {
    agent.answerWith(answerEmpty());
    const out = await run(baseEnv(), config());
    expect(JSON.parse(out.stdout)).toMatchObject({ code: 999, msg: 'atoll-node-agent answered ADD without a result object' });
  });
});

describe('when the agent cannot be asked', () => {
  const missingSocket = '/run/atoll-test-no-such-dir/agent.sock';

  it.each(['ADD', 'DEL', 'CHECK'])('%s fails with 11 naming the socket and the agent', async (command) => {
    const out = await run(baseEnv(command), config({}, { agent_socket: missingSocket }));
    expect(out.exitCode).toBe(1);
    expect(JSON.parse(out.stdout)).toEqual({
      cniVersion: '1.0.0',
      code: 11,
      msg: `try again later: atoll-node-agent is not answering at ${missingSocket}`,
      details: 'the socket does not exist (ENOENT). Check that atoll-node-agent is running on this node and that ipam.agent_socket names its socket.',
    });
  });

  it('STATUS fails with 50, "plugin not available"', async () => {
    const out = await run({ CNI_COMMAND: 'STATUS' }, config({ cniVersion: '1.1.0' }, { agent_socket: missingSocket }));
    expect(JSON.parse(out.stdout)).toMatchObject({ code: 50, msg: `atoll-node-agent is not available at ${missingSocket}` });
  });

  it('gives up on a silent agent after ipam.agent_timeout_seconds', async () => {
    agent.answerWith({ hang: true });
    const started = Date.now();
    const out = await run(baseEnv(), config({}, { agent_timeout_seconds: 0.3 }));
    const elapsed = Date.now() - started;
    expect(JSON.parse(out.stdout)).toMatchObject({ code: 11, details: expect.stringContaining('no answer within 0.3 s') });
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(2000);
  });

  it('reports 11 when the agent hangs up without answering', async () => {
    agent.answerWith({ hangUp: true });
    const out = await run(baseEnv('DEL'), config());
    expect(JSON.parse(out.stdout)).toMatchObject({ code: 11 });
  });
});
