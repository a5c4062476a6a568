import fs from 'node:fs';
import { connectAllocator, IntendedUse, type AllocatorClients } from '@atoll/api';
import { historyPrefix } from '@atoll/model';
import { EtcdDatastore } from '@atoll/store';
import { startKubeApiStandIn, type KubeApiStandIn } from '../../../tools/k8s-api';
import { ALLOCATOR_BIN, ATOLLCTL_BIN, startStack, type Stack } from './stack';

// `atollctl ipam history` as a process against atoll-allocator processes on a private etcd:
// every kind of event the allocator records, an address reused by three pods in a row,
// history surviving an allocator restart, and etcd expiring events past the retention.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface JsonHolding {
  ip: string;
  handle: string | null;
  namespace: string | null;
  pod: string | null;
  node: string | null;
  attributes: Record<string, string>;
  assigned: { at: string; kind: string } | null;
  released: { at: string; kind: string } | null;
  notes: { at: string; kind: string }[];
}
interface JsonAnswer {
  historyBegins: string | null;
  retentionSeconds: number;
  holdings: JsonHolding[];
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}

beforeAll(() => {
  for (const [bin, project] of [[ATOLLCTL_BIN, '@atoll/ctl'], [ALLOCATOR_BIN, '@atoll/allocator']]) {
    if (!fs.existsSync(bin!)) throw new Error(`${bin} is missing: run 'npx nx build ${project}' first`);
  }
});

const pool = (name: string, cidr: string) => JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec: { cidr, blockSize: 26 } });
const NODE = JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'node-1' }, spec: {} });
const podAttributes = (name: string) => ({ namespace: 'default', pod: name, node: 'node-1' });
const autoAssign = (c: AllocatorClients, handleId: string, attributes: Record<string, string>, intendedUse = IntendedUse.INTENDED_USE_WORKLOAD) =>
  c.ipam
    .autoAssign({ num4: 1, num6: 0, handleId, attributes, hostname: 'node-1', ipv4Pools: [], ipv6Pools: [], maxBlocksPerHost: 0, intendedUse, namespaceLabels: {}, allOrNothing: true })
    .then((r) => r.ipv4!.ips[0]!.split('/')[0]!);
const assignIp = (c: AllocatorClients, ip: string, handleId: string, name: string) => c.ipam.assignIp({ ip, handleId, attributes: podAttributes(name), hostname: 'node-1', intendedUse: IntendedUse.INTENDED_USE_WORKLOAD });

describe('atollctl ipam history against running allocators', () => {
  let api: KubeApiStandIn;
  let stack: Stack;
  let c: AllocatorClients;
  const history = async (...args: string[]): Promise<JsonAnswer> => {
    const r = await stack.ctl(['ipam', 'history', ...args, '-o', 'json']);
    if (r.code !== 0) throw new Error(`atollctl ipam history ${args.join(' ')} failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as JsonAnswer;
  };
  const only = async (ip: string): Promise<JsonHolding> => {
    const { holdings } = await history(`--ip=${ip}`);
    expect(holdings).toHaveLength(1);
    return holdings[0]!;
  };

  beforeAll(async () => {
    api = await startKubeApiStandIn();
    // the leak collector needs the Kubernetes API: pods the stand-in does not know are leaks
    stack = await startStack({ allocatorArgs: ['--kubeconfig', api.kubeconfigPath, '--leak-grace-period', '1s', '--gc-interval', '250ms', '--gc-leader-lease', '2s'] });
    c = connectAllocator(stack.address);
    await api.createNode('node-1');
    await c.resources.apply({ resourceJson: NODE });
    await c.resources.apply({ resourceJson: pool('main', '10.30.0.0/24') });
    for (const name of ['web', 'db', 'a', 'b', 'c', 'kept']) await api.createPod({ metadata: { name, namespace: 'default' }, spec: { nodeName: 'node-1' } });
  }, 60_000);

  afterAll(async () => {
    c?.close();
    await stack?.stop();
    await api?.stop();
  }, 30_000);

  it('records an automatic assignment and its release by handle', async () => {
    const ip = await autoAssign(c, 'k8s-pod-network.web', podAttributes('web'));
    await c.ipam.releaseByHandle({ handleId: 'k8s-pod-network.web' });
    const h = await only(ip);
    expect([h.pod, h.namespace, h.node, h.handle]).toEqual(['web', 'default', 'node-1', 'k8s-pod-network.web']);
    // the allocator's request tag (kept in etcd to undo abandoned assignments) is not shown
    expect(h.attributes).toEqual(podAttributes('web'));
    expect([h.assigned?.kind, h.released?.kind]).toEqual(['auto', 'release-handle']);
    expect(h.assigned!.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('records a static assignment and its release by address', async () => {
    await assignIp(c, '10.30.0.200', 'k8s-pod-network.db', 'db');
    await c.ipam.releaseIPs({ options: [{ address: '10.30.0.200', handleId: '', sequenceNumber: '' }] });
    const h = await only('10.30.0.200');
    expect([h.assigned?.kind, h.released?.kind]).toEqual(['static', 'release-ip']);
  });

  it('records a node tunnel address', async () => {
    const ip = await autoAssign(c, 'vxlan-tunnel-addr-node-1', { node: 'node-1', type: 'vxlanTunnelAddress' }, IntendedUse.INTENDED_USE_TUNNEL);
    const h = await only(ip);
    expect([h.assigned?.kind, h.released, h.pod]).toEqual(['tunnel', null, null]);
    const text = await stack.ctl(['ipam', 'history', `--ip=${ip}`]);
    expect(text.stdout).toMatch(new RegExp(`^IP +POD +NODE +HANDLE +ASSIGNED +HOW +RELEASED +HOW +NOTES *\\n${ip.replace(/\./g, '\\.')} +- +node-1 +vxlan-tunnel-addr-node-1 +\\S+Z +tunnel +- +still-held +- *\\n$`));
  });

  it('records the leak collector releasing the address of a pod that no longer exists', async () => {
    const ip = await autoAssign(c, 'k8s-pod-network.ghost', podAttributes('ghost'));
    const h = await waitFor('the leak collector to release the ghost pod\'s address', async () => {
      const [holding] = (await history(`--ip=${ip}`)).holdings;
      return holding?.released ? holding : undefined;
    });
    expect([h.pod, h.assigned?.kind, h.released?.kind]).toEqual(['ghost', 'auto', 'leak']);
  });

  it('records a pool deleted under a held address, which keeps its holder', async () => {
    await c.resources.apply({ resourceJson: pool('doomed', '10.31.0.0/24') });
    await assignIp(c, '10.31.0.5', 'k8s-pod-network.kept', 'kept');
    const del = await stack.ctl(['delete', 'ippool', 'doomed']);
    expect(del.code).toBe(0);
    const h = await only('10.31.0.5');
    expect([h.assigned?.kind, h.released, h.notes.map((n) => n.kind)]).toEqual(['static', null, ['pool-deletion']]);
    const text = await stack.ctl(['ipam', 'history', '--ip=10.31.0.5', `--at=${new Date().toISOString()}`]);
    expect(text.stdout).toMatch(/^10\.31\.0\.5 at \S+Z was held by pod default\/kept on node node-1 \(handle k8s-pod-network\.kept\): assigned \S+Z \(static\), still held; its pool was deleted at \S+Z\n$/);
  });

  describe('an address reused by three pods in a row', () => {
    let times: { a: JsonHolding; b: JsonHolding; c: JsonHolding };
    const mid = (x: string, y: string) => new Date((Date.parse(x) + Date.parse(y)) / 2).toISOString();
    const at = (t: string) => stack.ctl(['ipam', 'history', '--ip=10.30.0.17', `--at=${t}`]);

    beforeAll(async () => {
      for (const name of ['a', 'b', 'c']) {
        await assignIp(c, '10.30.0.17', `k8s-pod-network.${name}`, name);
        await sleep(150);
        if (name !== 'c') await c.ipam.releaseByHandle({ handleId: `k8s-pod-network.${name}` });
        await sleep(150);
      }
      const { holdings } = await history('--ip=10.30.0.17');
      expect(holdings.map((h) => h.pod)).toEqual(['a', 'b', 'c']);
      times = { a: holdings[0]!, b: holdings[1]!, c: holdings[2]! };
    });

    it.each(['a', 'b', 'c'] as const)('names pod %s at an instant it held the address', async (name) => {
      const h = times[name];
      const r = await at(mid(h.assigned!.at, h.released?.at ?? new Date().toISOString()));
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^10\\.30\\.0\\.17 at \\S+Z was held by pod default/${name} on node node-1 \\(handle k8s-pod-network\\.${name}\\): assigned ${h.assigned!.at.replace(/\./g, '\\.')} \\(static\\), `));
    });

    it('says plainly that nobody held it between two pods, and before the first', async () => {
      const between = await at(mid(times.a.released!.at, times.b.assigned!.at));
      expect(between.stdout).toBe(`nobody held 10.30.0.17 at ${mid(times.a.released!.at, times.b.assigned!.at)}\n`);
      const before = new Date(Date.parse(times.a.assigned!.at) - 3_600_000).toISOString();
      expect((await at(before)).stdout).toMatch(new RegExp(`^nobody held 10\\.30\\.0\\.17 at ${before.replace(/\./g, '\\.')}; the history kept begins at \\S+Z\\n$`));
    });

    it('lists every holder of the window oldest first, and what one pod held', async () => {
      const r = await stack.ctl(['ipam', 'history', '--ip=10.30.0.17', '--since=1h']);
      const rows = r.stdout.trim().split('\n').slice(1).map((l) => l.split(/ +/));
      expect(rows.map((cells) => [cells[1], cells[5], cells[7]])).toEqual([
        ['default/a', 'static', 'release-handle'],
        ['default/b', 'static', 'release-handle'],
        ['default/c', 'static', 'still-held'],
      ]);
      expect((await history('--pod=default/b')).holdings.map((h) => h.ip)).toEqual(['10.30.0.17']);
      expect((await history('--node=node-1', '--since=1h')).holdings.map((h) => h.pod)).toEqual(expect.arrayContaining(['web', 'db', 'ghost', 'a', 'b', 'c', 'kept', null]));
    });

    it('still answers the same after the allocator restarts', async () => {
      const before = await history('--ip=10.30.0.17');
      await stack.restartAllocator();
      expect(await history('--ip=10.30.0.17')).toEqual({ ...before, now: expect.any(String) });
    }, 30_000);
  });

  it.each([
    [['--ip=10.30.0.300'], 'flag --ip needs an IP address, got "10.30.0.300"'],
    [['--ip=10.30.0.1', '--at=yesterday'], 'flag --at needs an RFC 3339 time such as 2026-12-05T14:02:00Z, got "yesterday"'],
    [['--ip=10.30.0.1', '--at=2026-12-05T14:02:00Z', '--since=1h'], 'flags --at and --since cannot be used together'],
    [['--pod=web'], 'flag --pod needs namespace/name, got "web"'],
    [[], 'say which address, pod or node to look up: --ip, --pod or --node'],
  ])('refuses %j with a usage error', async (args, message) => {
    const r = await stack.ctl(['ipam', 'history', ...args]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`atollctl: ${message}; see 'atollctl ipam history --help'\n`);
  });
});

describe('allocation history retention', () => {
  let stack: Stack;
  let c: AllocatorClients;

  beforeAll(async () => {
    stack = await startStack({ allocatorArgs: ['--history-retention', '2s'] });
    c = connectAllocator(stack.address);
    await c.resources.apply({ resourceJson: NODE });
    await c.resources.apply({ resourceJson: pool('main', '10.40.0.0/24') });
  }, 60_000);

  afterAll(async () => {
    c?.close();
    await stack?.stop();
  }, 30_000);

  it('lets etcd delete events past the retention by itself, keeping the allocation', async () => {
    await assignIp(c, '10.40.0.9', 'k8s-pod-network.short', 'short');
    const now = await stack.ctl(['ipam', 'history', '--ip=10.40.0.9']);
    expect(now.stdout).toMatch(/default\/short/);
    const ds = new EtcdDatastore({ endpoints: stack.etcd.endpoints });
    try {
      expect(await ds.listKeys(historyPrefix())).toHaveLength(1);
      // 2 s retention + one 1 s bucket: the record's lease is gone after 3 s
      await waitFor('etcd to expire the history record', async () => ((await ds.listKeys(historyPrefix())).length === 0 ? true : undefined), 10_000);
    } finally {
      await ds.close();
    }
    const later = await stack.ctl(['ipam', 'history', '--ip=10.40.0.9']);
    expect(later).toEqual({ code: 0, stdout: 'nobody held 10.40.0.9 in the history kept; no history is kept yet\n', stderr: '' });
    expect((await c.ipam.ipsByHandle({ handleId: 'k8s-pod-network.short' })).ips).toEqual(['10.40.0.9']);
  }, 30_000);
});

describe('allocation history size bound', () => {
  let api: KubeApiStandIn;
  let stack: Stack;
  let c: AllocatorClients;

  beforeAll(async () => {
    api = await startKubeApiStandIn();
    // the elected leak collector keeps at most 3 records, on every pass (every 250 ms)
    stack = await startStack({ allocatorArgs: ['--kubeconfig', api.kubeconfigPath, '--leak-grace-period', '1s', '--gc-interval', '250ms', '--gc-leader-lease', '2s', '--history-max-records', '3'] });
    c = connectAllocator(stack.address);
    await api.createNode('node-1');
    await c.resources.apply({ resourceJson: NODE });
    await c.resources.apply({ resourceJson: pool('main', '10.41.0.0/24') });
  }, 60_000);

  afterAll(async () => {
    c?.close();
    await stack?.stop();
    await api?.stop();
  }, 30_000);

  it('deletes the oldest records beyond --history-max-records', async () => {
    for (let i = 1; i <= 6; i++) {
      await api.createPod({ metadata: { name: `p${i}`, namespace: 'default' }, spec: { nodeName: 'node-1' } });
      await assignIp(c, `10.41.0.${i}`, `k8s-pod-network.p${i}`, `p${i}`);
    }
    const ds = new EtcdDatastore({ endpoints: stack.etcd.endpoints });
    try {
      await waitFor('the collector to prune the history to 3 records', async () => ((await ds.listKeys(historyPrefix())).length <= 3 ? true : undefined));
    } finally {
      await ds.close();
    }
    const r = await stack.ctl(['ipam', 'history', '--node=node-1', '-o', 'json']);
    expect((JSON.parse(r.stdout) as JsonAnswer).holdings.map((h) => h.ip)).toEqual(['10.41.0.4', '10.41.0.5', '10.41.0.6']);
  }, 30_000);
});
