import fs from 'node:fs';
import { cleanupNetnsWithPrefix, createNetns, runCniPlugin, uniqueNetnsName, type Netns, type RunCniPluginOptions } from '../../../tools/netns';
import { answerEmpty, answerResult, startFakeAgent, type FakeAgent, type RecordedRequest } from '../src/testing/fake-agent';
import { DIST_BIN, PLUGIN_BINARY } from './plugin-binary';

// The real reference plugins (bridge, ptp from /usr/lib/cni) executing the built
// atoll-ipam, each inside a "host" namespace this test creates, with the pod in a second
// one. The fake agent stands in for atoll-node-agent and hands out a fixed address.

const CNI_PATH = `/usr/lib/cni:${DIST_BIN}`;
// One prefix per run of this file: the final sweep can then never reach namespaces of
// another run going on at the same time.
const RUN_PREFIX = uniqueNetnsName('atoll-cni-');
const CONTAINER_ID = 'c0ffee0123456789';
// What kubelet's runtimes pass; bridge refuses unknown CNI_ARGS keys without IgnoreUnknown.
const CNI_ARGS = 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0';

interface AddrInfo {
  family: string;
  local: string;
  prefixlen: number;
}
interface Link {
  ifname: string;
  addr_info: AddrInfo[];
}

/** The address a correct agent returns, in the version the configuration asked for. */
function fixedResult(version: string): Record<string, unknown> {
  const legacy = version.startsWith('0.');
  return {
    cniVersion: version,
    ips: [{ ...(legacy && { version: '4' }), address: '10.99.0.5/24', gateway: '10.99.0.1' }],
    routes: [{ dst: '0.0.0.0/0' }],
  };
}
const versionOf = (req: RecordedRequest) => (JSON.parse(req.networkConfig) as { cniVersion: string }).cniVersion;

let agent: FakeAgent;
let host: Netns | undefined;
let pod: Netns | undefined;

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('the netns tests need root (ip netns, bridge and veth devices)');
  for (const p of ['/usr/lib/cni/bridge', '/usr/lib/cni/ptp', PLUGIN_BINARY]) {
    if (!fs.existsSync(p)) throw new Error(`${p} is missing (tools/install-system-deps.sh installs the CNI plugins; \`npx nx build @atoll/cni-plugin\` builds atoll-ipam)`);
  }
  agent = await startFakeAgent();
});

beforeEach(async () => {
  agent.answerWith((req) => (req.command === 'ADD' ? answerResult(fixedResult(versionOf(req))) : answerEmpty()));
  const id = uniqueNetnsName(`${RUN_PREFIX}-`);
  host = await createNetns(`${id}-host`);
  pod = await createNetns(`${id}-pod`);
});

afterEach(async () => {
  await pod?.delete();
  await host?.delete();
  pod = host = undefined;
});

afterAll(async () => {
  await agent?.close();
  // Anything a failed test of this run left behind (afterEach deletes the rest).
  await cleanupNetnsWithPrefix(RUN_PREFIX);
});

function bridgeConfig(version: string, ipam: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    cniVersion: version,
    name: 'atoll-test',
    type: 'bridge',
    bridge: 'atollbr0',
    isGateway: true,
    ipMasq: false,
    ipam: { type: 'atoll-ipam', agent_socket: agent.socketPath, agent_timeout_seconds: 5, ...ipam },
  };
}

function ptpConfig(version: string): Record<string, unknown> {
  return { cniVersion: version, name: 'atoll-ptp', type: 'ptp', ipMasq: false, ipam: { type: 'atoll-ipam', agent_socket: agent.socketPath } };
}

function runIn(command: RunCniPluginOptions['command'], plugin: string, config: Record<string, unknown>, prevResult?: unknown) {
  return runCniPlugin({
    pluginDir: CNI_PATH,
    plugin,
    command,
    containerId: CONTAINER_ID,
    netnsPath: pod!.path,
    ifname: 'eth0',
    args: CNI_ARGS,
    config,
    ...(prevResult !== undefined && { prevResult }),
    hostNetns: host!.name,
  });
}

async function podLinks(ns: Netns): Promise<Link[]> {
  const r = await ns.exec('ip', ['-j', 'addr']);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Link[];
}

async function expectPodAddress(ns: Netns): Promise<void> {
  const eth0 = (await podLinks(ns)).find((l) => l.ifname === 'eth0');
  expect(eth0?.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`)).toEqual(['10.99.0.5/24']);
}

async function defaultRoute(ns: Netns): Promise<unknown> {
  const r = await ns.exec('ip', ['-j', 'route', 'show', 'default']);
  return (JSON.parse(r.stdout) as { gateway?: string; dev?: string }[])[0];
}

describe('bridge + atoll-ipam in network namespaces', () => {
  it.each(['0.3.1', '0.4.0', '1.0.0'])('gives the pod the agent address with cniVersion %s, then DEL removes it', async (version) => {
    const config = bridgeConfig(version);
    const add = await runIn('ADD', 'bridge', config);
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    const result = add.json as { cniVersion: string; ips: { address: string; gateway: string; interface?: number }[]; interfaces: { name: string; sandbox?: string }[] };
    expect(result.cniVersion).toBe(version);
    expect(result.ips.map((ip) => ip.address)).toEqual(['10.99.0.5/24']);
    expect(result.interfaces.find((i) => i.sandbox === pod!.path)?.name).toBe('eth0');

    await expectPodAddress(pod!);
    expect(await defaultRoute(pod!)).toMatchObject({ gateway: '10.99.0.1', dev: 'eth0' });
    // isGateway put the gateway address on the bridge, inside the host namespace only.
    const bridge = (await podLinks(host!)).find((l) => l.ifname === 'atollbr0');
    expect(bridge?.addr_info.map((a) => `${a.local}/${a.prefixlen}`)).toContain('10.99.0.1/24');

    // bridge handed atoll-ipam its own stdin byte for byte, and atoll-ipam relayed it unchanged.
    const addReq = agent.requests.filter((r) => r.command === 'ADD').at(-1)!;
    expect(addReq).toMatchObject({ containerId: CONTAINER_ID, ifname: 'eth0', netns: pod!.path, args: CNI_ARGS });
    expect(JSON.parse(addReq.networkConfig)).toEqual(JSON.parse(JSON.stringify(config)));

    if (version !== '0.3.1') {
      const check = await runIn('CHECK', 'bridge', config, result);
      expect(check).toMatchObject({ code: 0, stdout: '' });
      expect(agent.requests.at(-1)?.command).toBe('CHECK');
    }

    const del = await runIn('DEL', 'bridge', config, result);
    expect(del).toMatchObject({ code: 0, stdout: '' });
    expect(agent.requests.at(-1)).toMatchObject({ command: 'DEL', containerId: CONTAINER_ID, ifname: 'eth0' });
    expect((await podLinks(pod!)).map((l) => l.ifname)).toEqual(['lo']);
  });

  it('is refused by bridge itself for cniVersion 1.1.0, which this bridge (v1.1.1) does not speak', async () => {
    const before = agent.connections;
    const add = await runIn('ADD', 'bridge', bridgeConfig('1.1.0'));
    expect(add.code).toBe(1);
    expect(add.json).toMatchObject({ code: 1, msg: 'incompatible CNI versions' });
    expect(agent.connections).toBe(before);
  });

  it('passes the agent-down error (11) through, and DEL keeps failing until the agent is back', async () => {
    const missing = bridgeConfig('1.0.0', { agent_socket: '/run/atoll-test-missing/agent.sock' });
    const add = await runIn('ADD', 'bridge', missing);
    expect(add.code).toBe(1);
    expect(add.json).toMatchObject({ code: 11, msg: 'try again later: atoll-node-agent is not answering at /run/atoll-test-missing/agent.sock' });
    // bridge does not roll back: the veth it made before asking IPAM stays until a DEL.
    expect((await podLinks(pod!)).map((l) => l.ifname)).toEqual(['lo', 'eth0']);

    // A DEL must not pretend: bridge fails it when IPAM DEL fails, so the runtime retries.
    const del = await runIn('DEL', 'bridge', missing);
    expect(del.code).toBe(1);
    expect(del.json).toMatchObject({ code: 11 });
    // bridge v1.1.1 removes the interface before it asks IPAM, so only the release is left.
    expect((await podLinks(pod!)).map((l) => l.ifname)).toEqual(['lo']);

    const delAgain = await runIn('DEL', 'bridge', bridgeConfig('1.0.0'));
    expect(delAgain).toMatchObject({ code: 0, stdout: '' });
    expect(agent.requests.at(-1)).toMatchObject({ command: 'DEL', containerId: CONTAINER_ID });
  });
});

describe('ptp + atoll-ipam in network namespaces', () => {
  it('gives the pod the agent address (cniVersion 0.4.0), then DEL removes it', async () => {
    const config = ptpConfig('0.4.0');
    const add = await runIn('ADD', 'ptp', config);
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    expect((add.json as { ips: { address: string }[] }).ips.map((ip) => ip.address)).toEqual(['10.99.0.5/24']);
    await expectPodAddress(pod!);
    expect(await defaultRoute(pod!)).toMatchObject({ gateway: '10.99.0.1', dev: 'eth0' });

    const del = await runIn('DEL', 'ptp', config, add.json);
    expect(del).toMatchObject({ code: 0, stdout: '' });
    expect(agent.requests.at(-1)?.command).toBe('DEL');
    expect((await podLinks(pod!)).map((l) => l.ifname)).toEqual(['lo']);
  });
});
