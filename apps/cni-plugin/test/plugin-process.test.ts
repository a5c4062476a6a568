import fs from 'node:fs';
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { answerEmpty, answerError, answerResult, startFakeAgent, type FakeAgent, type RecordedRequest } from '../src/testing/fake-agent';
import { PLUGIN_BINARY, runPluginBinary, type BinaryRun } from './plugin-binary';

// The built binary, exec'd like a runtime does, against a fake agent socket.

const VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
const SUPPORTED = '["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]';

/** What a correct agent answers: the result in the version the configuration asked for. */
function resultFor(version: string): string {
  const legacy = version.startsWith('0.');
  return JSON.stringify({
    cniVersion: version,
    ips: [{ ...(legacy && { version: '4' }), address: '10.99.0.5/26' }],
    routes: [{ dst: '10.99.0.5/26' }],
    dns: {},
  });
}
const versionOf = (req: RecordedRequest) => (JSON.parse(req.networkConfig) as { cniVersion: string }).cniVersion;

let agent: FakeAgent;
beforeAll(async () => {
  if (!fs.existsSync(PLUGIN_BINARY)) throw new Error(`${PLUGIN_BINARY} is missing: run \`npx nx build @atoll/cni-plugin\``);
  agent = await startFakeAgent();
});
afterAll(() => agent.close());

const env = (command: string): Record<string, string> => ({
  CNI_COMMAND: command,
  CNI_CONTAINERID: 'a1b2c3d4e5',
  CNI_NETNS: '/var/run/netns/pod',
  CNI_IFNAME: 'eth0',
  CNI_ARGS: 'K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0',
  CNI_PATH: '/usr/lib/cni',
});
const config = (version: string, ipam: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ cniVersion: version, name: 'atoll-net', type: 'bridge', ipam: { type: 'atoll-ipam', agent_socket: agent.socketPath, ...ipam }, ...extra });

/** The contract every run must keep: stdout is empty or exactly one JSON value; stderr is quiet. */
function expectCleanOutput(r: BinaryRun): void {
  if (r.stdout !== '') expect(() => JSON.parse(r.stdout)).not.toThrow();
  expect(r.stderr).toBe('');
}

describe('atoll-ipam binary: the CNI version matrix', () => {
  it.each(VERSIONS)('VERSION answers for %s without the agent', async (v) => {
    const before = agent.connections;
    const r = await runPluginBinary({ CNI_COMMAND: 'VERSION' }, JSON.stringify({ cniVersion: v }));
    expect(r).toMatchObject({ code: 0, stdout: `{"cniVersion":"${v}","supportedVersions":${SUPPORTED}}` });
    expectCleanOutput(r);
    expect(agent.connections).toBe(before);
  });

  it.each(VERSIONS)('ADD %s prints the agent result verbatim and nothing else', async (v) => {
    agent.answerWith((req) => answerResult(resultFor(versionOf(req))));
    const stdin = config(v);
    const r = await runPluginBinary(env('ADD'), stdin);
    expect(r).toMatchObject({ code: 0, stdout: resultFor(v), stderr: '' });
    expect(agent.requests.at(-1)).toEqual({
      command: 'ADD',
      containerId: 'a1b2c3d4e5',
      ifname: 'eth0',
      netns: '/var/run/netns/pod',
      args: 'K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0',
      networkConfig: stdin,
    });
  });

  it.each(VERSIONS)('DEL %s prints nothing and exits 0', async (v) => {
    agent.answerWith(answerEmpty());
    const r = await runPluginBinary({ ...env('DEL'), CNI_NETNS: '' }, config(v));
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(agent.requests.at(-1)).toMatchObject({ command: 'DEL', netns: '' });
  });

  it.each(VERSIONS)('an agent error under %s becomes CNI error JSON with exit 1', async (v) => {
    agent.answerWith(answerError(102, 'failed to request IPv4 addresses: Assigned 0 out of 1 requested IPv4 addresses', 'add an IPPool'));
    const r = await runPluginBinary(env('ADD'), config(v));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      JSON.stringify({ cniVersion: v, code: 102, msg: 'failed to request IPv4 addresses: Assigned 0 out of 1 requested IPv4 addresses', details: 'add an IPPool' }),
    );
    expectCleanOutput(r);
  });

  it.each(VERSIONS)('CHECK under %s is relayed from 0.4.0 on and refused before', async (v) => {
    agent.answerWith(answerEmpty());
    const before = agent.connections;
    const r = await runPluginBinary(env('CHECK'), config(v, {}, { prevResult: JSON.parse(resultFor(v)) }));
    expectCleanOutput(r);
    if (v.startsWith('0.3')) {
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout)).toMatchObject({ code: 1, msg: 'config version does not allow CHECK' });
      expect(agent.connections).toBe(before);
    } else {
      expect(r).toMatchObject({ code: 0, stdout: '' });
      expect(agent.requests.at(-1)?.command).toBe('CHECK');
    }
  });

  it.each(['GC', 'STATUS'])('%s (CNI 1.1) is relayed and prints nothing', async (command) => {
    agent.answerWith(answerEmpty());
    const r = await runPluginBinary({ CNI_COMMAND: command, CNI_PATH: '/usr/lib/cni' }, config('1.1.0', {}, { 'cni.dev/valid-attachments': [] }));
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(agent.requests.at(-1)?.command).toBe(command);
  });
});

describe('atoll-ipam binary: refusals and the agent being away', () => {
  it('refuses bad stdin with code 6 and exit 1', async () => {
    const r = await runPluginBinary(env('ADD'), '{"cniVersion":');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ cniVersion: '1.1.0', code: 6 });
    expectCleanOutput(r);
  });

  it('fails ADD and DEL with 11 at once when the socket does not exist', async () => {
    const socket = path.join(os.tmpdir(), 'atoll-no-agent', 'agent.sock');
    for (const command of ['ADD', 'DEL']) {
      const r = await runPluginBinary(env(command), config('1.0.0', { agent_socket: socket }));
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout)).toEqual({
        cniVersion: '1.0.0',
        code: 11,
        msg: `try again later: atoll-node-agent is not answering at ${socket}`,
        details: 'the socket does not exist (ENOENT). Check that atoll-node-agent is running on this node and that ipam.agent_socket names its socket.',
      });
      expectCleanOutput(r);
      expect(r.ms).toBeLessThan(1500);
    }
  });

  it('fails with 11 when the agent was killed and left its socket behind', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atoll-dead-'));
    const socket = path.join(dir, 'agent.sock');
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socket)}, () => console.log('up'))`]);
    await new Promise((r) => child.stdout.once('data', r));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    try {
      const r = await runPluginBinary(env('ADD'), config('1.0.0', { agent_socket: socket }));
      expect(JSON.parse(r.stdout)).toMatchObject({ code: 11, details: expect.stringContaining('ECONNREFUSED') });
      expect(r.ms).toBeLessThan(1500);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives up on an agent that accepts but never answers, within ipam.agent_timeout_seconds', async () => {
    agent.answerWith({ hang: true });
    const r = await runPluginBinary(env('ADD'), config('1.0.0', { agent_timeout_seconds: 1 }));
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ code: 11, details: expect.stringContaining('no answer within 1 s') });
    expect(r.ms).toBeGreaterThanOrEqual(1000);
    expect(r.ms).toBeLessThan(2500);
    expectCleanOutput(r);
  });

  it('STATUS with the agent away says "not available" (50)', async () => {
    const r = await runPluginBinary({ CNI_COMMAND: 'STATUS' }, config('1.1.0', { agent_socket: '/nonexistent-atoll/agent.sock' }));
    expect(JSON.parse(r.stdout)).toMatchObject({ code: 50 });
  });

  it('prints the Atoll version for -v', async () => {
    const r = await runPluginBinary({}, '', ['-v']);
    expect(r).toMatchObject({ code: 0, stdout: 'atoll-ipam 0.1.0\n', stderr: '' });
  });
});

describe('atoll-ipam binary: what it is made of', () => {
  it('loads nothing but node built-ins (no gRPC, etcd or protobuf)', () => {
    const bundle = fs.readFileSync(PLUGIN_BINARY, 'utf8');
    const required = [...new Set([...bundle.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]))];
    expect(required).toEqual(['node:net']);
    expect(bundle).not.toMatch(/grpc|etcd3|protobuf/i);
  });
});
