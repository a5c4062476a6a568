import { spawn } from 'node:child_process';
import http from 'node:http';
import { connectAllocator, IntendedUse, type AllocatorClients } from '@atoll/api';
import { parseJsonLossless, stringifyJsonLossless } from '@atoll/model';
import { calicoKddDataset, loadCalicoKddDataset, startKubeApiStandIn, type CalicoKddDataset, type KubeApiStandIn } from '../../../tools/k8s-api';
import { ATOLLCTL_BIN, startStack, type CtlResult, type Stack } from './stack';

// atollctl migrate, both ways, as processes against a real etcd, the allocator and the
// Kubernetes API stand-in seeded with a Calico-written dataset of realistic size: 3 pools,
// 2 reservations, 50 nodes with tunnel addresses, 300 blocks, 10,000 allocations (some
// borrowed), a pendingDeletion affinity, sequence numbers above 2^53.

const CRD = '/apis/crd.projectcalico.org/v1';
const PLURALS = ['ippools', 'ipreservations', 'ipamconfigs', 'ipamblocks', 'blockaffinities', 'ipamhandles'] as const;
type Obj = { metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec: Record<string, unknown> };

function get(baseUrl: string, path: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    http
      .get(`${baseUrl}${path}`, { agent: false }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve(parseJsonLossless(text)));
      })
      .on('error', reject);
  });
}

async function kddObjects(api: KubeApiStandIn): Promise<Record<string, Map<string, Obj>>> {
  const out: Record<string, Map<string, Obj>> = {};
  for (const p of PLURALS) {
    const list = (await get(api.url, `${CRD}/${p}`)) as { items: Obj[] };
    out[p] = new Map(list.items.map((o) => [o.metadata.name, o]));
  }
  return out;
}

interface Running {
  readonly done: Promise<CtlResult>;
  readonly pid: number;
  /** Resolves when stdout has shown `text`. */
  waitFor(text: string): Promise<void>;
}

function startCtl(stack: Stack, args: readonly string[]): Running {
  const child = spawn(ATOLLCTL_BIN, [...args], { env: { ...process.env, ATOLL_ALLOCATOR: stack.address }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    for (const w of waiters.filter((x) => stdout.includes(x.text))) w.resolve();
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CtlResult>((resolve) => child.on('exit', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr })));
  return {
    done,
    pid: child.pid!,
    waitFor: (text) => (stdout.includes(text) ? Promise.resolve() : new Promise((resolve) => waiters.push({ text, resolve }))),
  };
}

const ctl = (stack: Stack, args: readonly string[]) => startCtl(stack, args).done;

describe('atollctl migrate between Calico\'s Kubernetes datastore and Atoll', () => {
  let stack: Stack;
  let calico: KubeApiStandIn;
  let data: CalicoKddDataset;
  let admin: AllocatorClients;
  const migratedRecords = async () => (await admin.migration.readRecords({})).records.filter((r) => !r.key.includes('/nodes/'));

  beforeAll(async () => {
    stack = await startStack();
    admin = connectAllocator(stack.address, { defaultTimeoutMs: 60_000 });
    calico = await startKubeApiStandIn();
    data = calicoKddDataset();
    await loadCalicoKddDataset(calico.url, data);
  }, 180_000);

  afterAll(async () => {
    admin?.close();
    await calico?.stop();
    await stack?.stop();
  });

  it('describes the dataset it was seeded with', () => {
    expect(data.counts).toEqual(expect.objectContaining({ pools: 3, reservations: 2, blocks: 300, allocations: 10_000 }));
    expect(data.counts.borrowed).toBeGreaterThan(100);
  });

  it('prints counts and the first differences on --dry-run and writes nothing', async () => {
    const res = await ctl(stack, ['migrate', 'from-calico-kdd', '--kubeconfig', calico.kubeconfigPath, '--dry-run']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`Read from Calico's Kubernetes datastore: 3 IPPool, 2 IPReservation, 1 IPAMConfig, 300 IPAMBlock, 300 BlockAffinity, ${data.counts.handles} IPAMHandle, 50 Node.`);
    expect(res.stdout).toContain(`Would write: 3 IPPool, 2 IPReservation, 1 IPAMConfig, 300 IPAMBlock, 300 BlockAffinity, ${data.counts.handles} IPAMHandle, 50 Node.`);
    expect(res.stdout).toMatch(/First differences:\n {2}IPAMHandle \S+ is not in Atoll yet/);
    expect(res.stdout).toContain('Dry run: nothing was written.');
    expect(await migratedRecords()).toEqual([]);
  }, 120_000);

  it('completes on a second run after the first is killed part-way, then verifies', async () => {
    const first = startCtl(stack, ['migrate', 'from-calico-kdd', '--kubeconfig', calico.kubeconfigPath]);
    await first.waitFor('  wrote 1280 of');
    process.kill(first.pid, 'SIGKILL');
    const killed = await first.done;
    expect(killed.stdout).not.toContain('Verified');
    const partial = (await migratedRecords()).length;
    expect(partial).toBeGreaterThanOrEqual(1280);
    expect(partial).toBeLessThan(data.objects.length);

    const second = await ctl(stack, ['migrate', 'from-calico-kdd', '--kubeconfig', calico.kubeconfigPath]);
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`Verified: Atoll holds 3 IPPool, 2 IPReservation, 1 IPAMConfig, 300 IPAMBlock, 300 BlockAffinity, ${data.counts.handles} IPAMHandle, 50 Node, as Calico's Kubernetes datastore does; ipam check found no problems.`);
    expect((await migratedRecords()).length).toBe(data.objects.length);

    const check = await admin.ipam.check({});
    expect(check.problems).toBe(0);
    expect(check.allocations).toBe(10_000);
  }, 300_000);

  it('keeps every 64-bit sequence number exact', async () => {
    const blocks = (await migratedRecords()).filter((r) => r.key.includes('/assignment/'));
    const source = new Map(data.objects.filter((o) => o.plural === 'ipamblocks').map((o) => [(o.body['spec'] as { cidr: string }).cidr, o.body['spec'] as { sequenceNumber: bigint; sequenceNumberForAllocation: Record<string, bigint> }]));
    expect(blocks).toHaveLength(300);
    for (const b of blocks) {
      const v = parseJsonLossless(b.value) as { cidr: string; sequenceNumber: bigint; sequenceNumberForAllocation: Record<string, bigint> };
      const want = source.get(v.cidr)!;
      expect(typeof v.sequenceNumber).toBe('bigint');
      expect(v.sequenceNumber).toBe(want.sequenceNumber);
      expect(v.sequenceNumberForAllocation).toEqual(want.sequenceNumberForAllocation);
    }
  });

  it('changes nothing on a further run and says so', async () => {
    const before = (await admin.migration.readRecords({})).revision;
    const res = await ctl(stack, ['migrate', 'from-calico-kdd', '--kubeconfig', calico.kubeconfigPath, '-o', 'json']);
    expect(res.code).toBe(0);
    const summary = parseJsonLossless(res.stdout) as { written: number; verified: { problems: string[] } };
    expect(summary.written).toBe(0);
    expect(summary.verified.problems).toEqual([]);
    expect((await admin.migration.readRecords({})).revision).toBe(before);
    const text = await ctl(stack, ['migrate', 'from-calico-kdd', '--kubeconfig', calico.kubeconfigPath]);
    expect(text.stdout).toContain(`Nothing to migrate: the Atoll datastore already holds all ${data.objects.length + 50} objects from Calico's Kubernetes datastore.`);
  }, 120_000);

  it('migrates back into an empty Kubernetes datastore object by object, then changes nothing on a second run', async () => {
    const back = await startKubeApiStandIn();
    try {
      await loadCalicoKddDataset(back.url, { objects: [], nodes: data.nodes.map((n) => ({ ...n, metadata: { ...(n['metadata'] as object), annotations: {} } })) });
      const res = await ctl(stack, ['migrate', 'to-calico-kdd', '--kubeconfig', back.kubeconfigPath]);
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      expect(res.stdout).toContain("Verified: Calico's Kubernetes datastore holds 3 IPPool, 2 IPReservation, 1 IPAMConfig, 300 IPAMBlock, 300 BlockAffinity");

      const original = await kddObjects(calico);
      const roundTrip = await kddObjects(back);
      for (const p of PLURALS) {
        expect([p, [...roundTrip[p]!.keys()].sort()]).toEqual([p, [...original[p]!.keys()].sort()]);
        for (const [name, o] of original[p]!) {
          const r = roundTrip[p]!.get(name)!;
          expect([p, name, stringifyJsonLossless(r.spec)]).toEqual([p, name, stringifyJsonLossless(o.spec)]);
          if (p === 'blockaffinities') expect(r.metadata.labels).toEqual(o.metadata.labels);
        }
      }
      const nodes = (await get(back.url, '/api/v1/nodes')) as { items: Obj[] };
      for (const n of nodes.items) {
        const want = (data.nodes.find((d) => (d['metadata'] as { name: string }).name === n.metadata.name)!['metadata'] as { annotations: Record<string, string> }).annotations;
        expect(n.metadata.annotations).toEqual(want);
      }

      const again = await ctl(stack, ['migrate', 'to-calico-kdd', '--kubeconfig', back.kubeconfigPath]);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain("Nothing to migrate: Calico's Kubernetes datastore already holds all");
    } finally {
      await back.stop();
    }
  }, 300_000);

  it('refuses an Atoll datastore holding objects Calico does not have unless --merge, and merges with it', async () => {
    const pool = JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'atoll-only' }, spec: { cidr: '10.9.0.0/16' } });
    expect((await stack.ctl(['apply', '-f', '-'], { stdin: pool })).code).toBe(0);
    const refused = await ctl(stack, ['migrate', 'from-calico-kdd', '--kubeconfig', calico.kubeconfigPath]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("the Atoll datastore is not empty and differs from Calico's (1 object(s) exist only in Atoll); give --merge to keep them and add Calico's; nothing was written");
    expect(refused.stderr).toContain('IPPool atoll-only exists only in Atoll');
    const merged = await ctl(stack, ['migrate', 'from-calico-kdd', '--kubeconfig', calico.kubeconfigPath, '--merge']);
    expect(merged.stderr).toBe('');
    expect(merged.code).toBe(0);
    expect(merged.stdout).toContain('Verified: Atoll holds');
  }, 120_000);

  it('refuses to write back over objects that differ, naming them, and writes nothing', async () => {
    // The original Calico datastore still holds its objects; change one pod's block in Atoll.
    const pod = data.pods[3]!;
    await admin.ipam.releaseByHandle({ handleId: pod.handleId });
    const res = await ctl(stack, ['migrate', 'to-calico-kdd', '--kubeconfig', calico.kubeconfigPath]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/cannot migrate: \d+ object\(s\) in Calico's Kubernetes datastore differ from Atoll's; nothing was written/);
    expect(res.stderr).toContain('IPAMBlock ');
    expect(res.stderr).toContain(`ipamhandles/${pod.handleId.toLowerCase()} exists in Calico's Kubernetes datastore but not in Atoll`);
  }, 120_000);

  it('refuses a differing Atoll datastore without --merge, and a conflicting address with it', async () => {
    const pod = data.pods[3]!; // released above: its address is free in Atoll, allocated in Calico
    const differs = await ctl(stack, ['migrate', 'from-calico-kdd', '--kubeconfig', calico.kubeconfigPath]);
    expect(differs.code).toBe(1);
    expect(differs.stderr).toContain('conflict with what the Atoll datastore holds');

    await admin.ipam.assignIp({ ip: pod.address, handleId: 'k8s-pod-network.someone-else', attributes: { node: pod.node }, hostname: pod.node, intendedUse: IntendedUse.INTENDED_USE_WORKLOAD });
    const before = (await admin.migration.readRecords({})).revision;
    const merged = await ctl(stack, ['migrate', 'from-calico-kdd', '--kubeconfig', calico.kubeconfigPath, '--merge']);
    expect(merged.code).toBe(1);
    expect(merged.stderr).toContain(`conflicting addresses ${pod.address} (${pod.handleId} in Calico, k8s-pod-network.someone-else in Atoll)`);
    expect((await admin.migration.readRecords({})).revision).toBe(before);
  }, 120_000);
});
