import { connectAllocator, type AllocatorClients } from '@atoll/api';
import { DemoCluster } from '@atoll/test-tools';

// atoll.io/sticky through the built binaries (atoll-ipam, node agents, allocator, etcd,
// the Kubernetes API stand-in): a StatefulSet pod keeps its addresses across sandboxes and
// pods, on any node; DEL parks them under the pod identity's handle instead of freeing them;
// the allocator's leak collector releases them once their StatefulSet ordinal is gone.
const PREFIX = 'atoll-sticky-';
const GRACE_MS = 2000;
const LEAK_GRACE = '2s';
const STICKY = { 'atoll.io/sticky': 'true' };
const addresses = (r: { json?: unknown }) => ((r.json as { ips?: { address: string }[] }).ips ?? []).map((i) => i.address);
const errorOf = (r: { json?: unknown }) => r.json as { code: number; msg: string };

describe('sticky addresses for StatefulSet pods (atoll.io/sticky)', () => {
  let cluster: DemoCluster;
  let client: AllocatorClients;
  let seq = 0;
  const sets = new Set<string>();

  /** The StatefulSet object the collector judges sticky addresses by (tests create its pods themselves). */
  const ensureSet = async (namespace: string, set: string, podAnnotations: Record<string, string>) => {
    if (sets.has(`${namespace}/${set}`)) return;
    sets.add(`${namespace}/${set}`);
    // the template says sticky when the pod does; a pod made sticky by its namespace has a template without the annotation
    const sticky = podAnnotations['atoll.io/sticky'] !== undefined ? { 'atoll.io/sticky': podAnnotations['atoll.io/sticky'] } : {};
    await cluster.kube.createStatefulSet({ metadata: { name: set, namespace }, spec: { replicas: 10, template: { metadata: { annotations: sticky } } } });
  };

  const createPod = async (name: string, node: string, annotations: Record<string, string>, opts: { set?: string; namespace?: string } = {}) => {
    if (opts.set) await ensureSet(opts.namespace ?? 'default', opts.set, annotations);
    return (
      await cluster.kube.createPod({
        metadata: {
          name,
          namespace: opts.namespace ?? 'default',
          annotations,
          ...(opts.set && { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: opts.set, uid: `${opts.set}-uid`, controller: true }] }),
        },
        spec: { nodeName: node, containers: [{ name: 'c', image: 'none' }] },
      })
    ).metadata.uid!;
  };
  type Sandbox = { name: string; node: string; namespace: string; containerId: string; uid: string };
  const add = async (sb: Sandbox) => cluster.ipamOnly({ node: sb.node, name: sb.name, namespace: sb.namespace, containerId: sb.containerId, podUid: sb.uid });
  const del = async (sb: Sandbox) => (await cluster.ipamOnly({ node: sb.node, name: sb.name, namespace: sb.namespace, containerId: sb.containerId, podUid: sb.uid, command: 'DEL' })).code;
  /** Creates the pod and runs its sandbox's ADD. */
  const startPod = async (name: string, node: string, annotations: Record<string, string>, opts: { set?: string; namespace?: string } = {}) => {
    const sb: Sandbox = { name, node, namespace: opts.namespace ?? 'default', containerId: `${name}-${seq++}`, uid: await createPod(name, node, annotations, opts) };
    return { sb, r: await add(sb) };
  };
  /** The pod is gone as after a normal delete: its sandbox's DEL ran, then the object went. */
  const stopPod = async (sb: Sandbox) => {
    expect(await del(sb)).toBe(0);
    await cluster.kube.deletePod(sb.namespace, sb.name, { gracePeriodSeconds: 0 });
  };
  const holderOf = (ip: string) => client.staticIps.getHolder({ ip: ip.split('/')[0]! });

  beforeAll(async () => {
    cluster = await DemoCluster.start({ prefix: PREFIX, nodes: ['node-1', 'node-2', 'node-3'], agentArgs: ['--static-handoff-grace', `${GRACE_MS / 1000}s`], leakGracePeriod: LEAK_GRACE });
    client = connectAllocator(cluster.allocator.address);
    const pool = (name: string, cidr: string) => `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: ${name}\nspec:\n  cidr: ${cidr}\n  blockSize: 26\n`;
    expect(await cluster.atollctl(['apply', '-f', '-'], pool('v4', '10.66.0.0/16'))).toMatchObject({ code: 0 });
  }, 120_000);

  afterAll(async () => {
    client?.close();
    await cluster?.stop();
  });

  it('keeps an auto-assigned address across DEL and pod recreation on another node, under the identity handle', async () => {
    const first = await startPod('db-0', 'node-1', STICKY, { set: 'db' });
    const [ip] = addresses(first.r);
    expect(ip).toMatch(/^10\.66\./);
    expect(await holderOf(ip!)).toMatchObject({ handleId: 'atoll-sticky.default.db.0', attributes: { pod: 'db-0', node: 'node-1', sandbox: `k8s-pod-network.${first.sb.containerId}` } });
    await stopPod(first.sb);
    // DEL kept it for the identity, with no sandbox
    const parked = await holderOf(ip!);
    expect(parked.handleId).toBe('atoll-sticky-idle.default.db.0');
    expect(parked.attributes['sandbox']).toBeUndefined();
    const again = await startPod('db-0', 'node-2', STICKY, { set: 'db' });
    expect(addresses(again.r)).toEqual([ip]);
    expect(await holderOf(ip!)).toMatchObject({ handleId: 'atoll-sticky.default.db.0', attributes: { node: 'node-2', podUid: again.sb.uid, sandbox: `k8s-pod-network.${again.sb.containerId}` } });
    // CHECK finds the sticky address of this sandbox
    const check = await cluster.ipamOnly({ node: 'node-2', name: 'db-0', containerId: again.sb.containerId, podUid: again.sb.uid, command: 'CHECK', prevResult: again.r.json });
    expect(check.code).toBe(0);
    const wrong = await cluster.ipamOnly({ node: 'node-2', name: 'db-0', containerId: again.sb.containerId, command: 'CHECK', prevResult: { cniVersion: '1.0.0', ips: [{ address: '10.66.250.1/32' }] } });
    expect(errorOf(wrong)).toMatchObject({ msg: expect.stringContaining(`are [${ip!.split('/')[0]}]`) });
    await stopPod(again.sb);
  });

  it('keeps the entry of atoll.io/ipAddrsList at the ordinal, and frees it on DEL without sticky', async () => {
    const list = { 'atoll.io/ipAddrsList': '["10.66.200.10","10.66.200.11"]' };
    const kept = await startPod('kv-1', 'node-1', { ...list, ...STICKY }, { set: 'kv' });
    expect(addresses(kept.r)).toEqual(['10.66.200.11/32']);
    await stopPod(kept.sb);
    expect((await holderOf('10.66.200.11')).handleId).toBe('atoll-sticky-idle.default.kv.1');
    const back = await startPod('kv-1', 'node-3', { ...list, ...STICKY }, { set: 'kv' });
    expect(addresses(back.r)).toEqual(['10.66.200.11/32']);
    await stopPod(back.sb);

    const plain = await startPod('kv-0', 'node-1', list, { set: 'kv' });
    expect(addresses(plain.r)).toEqual(['10.66.200.10/32']);
    await stopPod(plain.sb);
    await expect(holderOf('10.66.200.10')).rejects.toMatchObject({ code: 'not-found' });
  });

  it('honours the annotation on the namespace, the pod\'s "false" over it, and refuses other values before allocating', async () => {
    await cluster.kube.createNamespace({ metadata: { name: 'sticky-ns', annotations: STICKY } });
    const byNs = await startPod('q-0', 'node-1', {}, { set: 'q', namespace: 'sticky-ns' });
    const [ip] = addresses(byNs.r);
    expect((await holderOf(ip!)).handleId).toBe('atoll-sticky.sticky-ns.q.0');
    const optedOut = await startPod('q-1', 'node-1', { 'atoll.io/sticky': 'false' }, { set: 'q', namespace: 'sticky-ns' });
    const [free] = addresses(optedOut.r);
    expect((await holderOf(free!)).handleId).toBe(`k8s-pod-network.${optedOut.sb.containerId}`);
    await stopPod(optedOut.sb);
    await expect(holderOf(free!)).rejects.toMatchObject({ code: 'not-found' });

    const bad = await startPod('q-2', 'node-1', { 'atoll.io/sticky': 'yes' }, { set: 'q', namespace: 'sticky-ns' });
    expect(errorOf(bad.r)).toEqual(expect.objectContaining({ code: 104, msg: 'annotation "atoll.io/sticky" must be "true" or "false", got "yes"' }));
    await expect(client.ipam.ipsByHandle({ handleId: 'atoll-sticky.sticky-ns.q.2' })).rejects.toMatchObject({ code: 'not-found' });
  });

  it('ignores sticky on a pod that is not a StatefulSet\'s: DEL frees its address', async () => {
    const bare = await startPod('bare', 'node-1', STICKY);
    const [ip] = addresses(bare.r);
    expect((await holderOf(ip!)).handleId).toBe(`k8s-pod-network.${bare.sb.containerId}`);
    await stopPod(bare.sb);
    await expect(holderOf(ip!)).rejects.toMatchObject({ code: 'not-found' });
  });

  it('gives a crashed sandbox\'s sticky address (no DEL) to the same pod\'s new sandbox at once', async () => {
    const old = await startPod('cr-0', 'node-1', STICKY, { set: 'cr' });
    const [ip] = addresses(old.r);
    const fresh = { ...old.sb, containerId: `${old.sb.containerId}-new` };
    expect(addresses(await add(fresh))).toEqual([ip]);
    expect((await holderOf(ip!)).attributes['sandbox']).toBe(`k8s-pod-network.${fresh.containerId}`);
    // the old sandbox's late DEL leaves the address with the new one
    expect(await del(old.sb)).toBe(0);
    expect(await holderOf(ip!)).toMatchObject({ handleId: 'atoll-sticky.default.cr.0', attributes: { sandbox: `k8s-pod-network.${fresh.containerId}` } });
    await stopPod(fresh);
  });

  it('makes the next pod of the identity try again (code 11) while the earlier one is terminating, parked or not', async () => {
    const old = await startPod('t-0', 'node-1', STICKY, { set: 't' });
    const [ip] = addresses(old.r);
    await cluster.kube.deletePod('default', 't-0', { gracePeriodSeconds: 30 });
    const next = { ...old.sb, node: 'node-2', containerId: 't-0-next', uid: 'a-new-uid-for-t-0' };
    const plain = ip!.split('/')[0];
    expect(errorOf(await add(next))).toEqual(expect.objectContaining({ code: 11, msg: `address ${plain} is still held by pod default/t-0 (terminating)` }));
    expect(await del(old.sb)).toBe(0); // parked, but the earlier pod still exists
    expect(errorOf(await add(next))).toEqual(expect.objectContaining({ code: 11, msg: `address ${plain} is still held by pod default/t-0 (terminating)` }));
    await cluster.kube.deletePod('default', 't-0', { gracePeriodSeconds: 0 });
    const uid = await createPod('t-0', 'node-2', STICKY, { set: 't' });
    expect(addresses(await add({ ...next, uid }))).toEqual([ip]);
  });

  it('gives the address of a force-deleted pod whose sandbox got no DEL to the next pod only after the grace', async () => {
    const old = await startPod('f-0', 'node-1', STICKY, { set: 'f' });
    const [ip] = addresses(old.r);
    await cluster.kube.deletePod('default', 'f-0', { gracePeriodSeconds: 0 }); // node-1 unreachable: no DEL
    const next = await startPod('f-0', 'node-2', STICKY, { set: 'f' });
    expect(errorOf(next.r)).toMatchObject({ code: 11 });
    expect(errorOf(next.r).msg).toContain(`address ${ip!.split('/')[0]} is still held by pod default/f-0 (gone from the Kubernetes API`);
    let r = next.r;
    const deadline = Date.now() + 15_000;
    while (r.code !== 0 && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 250));
      r = await add(next.sb);
    }
    expect(addresses(r)).toEqual([ip]);
    expect(await holderOf(ip!)).toMatchObject({ handleId: 'atoll-sticky.default.f.0', attributes: { node: 'node-2', podUid: next.sb.uid } });
  });

  it('lets atollctl show a sticky address with its identity, and release it on purpose', async () => {
    const p = await startPod('rel-0', 'node-1', STICKY, { set: 'rel' });
    const ip = addresses(p.r)[0]!.split('/')[0]!;
    await stopPod(p.sb);
    const show = await cluster.atollctl(['ipam', 'show', `--ip=${ip}`]);
    expect(show.stdout).toContain('Handle ID: atoll-sticky-idle.default.rel.0\n');
    expect(show.stdout).toContain('Sticky: kept for StatefulSet pod identity default/rel/0 (namespace/set/ordinal); no sandbox uses it now\n');
    expect(await cluster.atollctl(['ipam', 'release', `--ip=${ip}`])).toMatchObject({ code: 0 });
    await expect(client.ipam.ipsByHandle({ handleId: 'atoll-sticky-idle.default.rel.0' })).rejects.toMatchObject({ code: 'not-found' });
    // the ordinal's next pod starts afresh, under its identity again
    const next = await startPod('rel-0', 'node-2', STICKY, { set: 'rel' });
    expect(next.r.code).toBe(0);
    expect((await holderOf(addresses(next.r)[0]!)).handleId).toBe('atoll-sticky.default.rel.0');
  });

  it('keeps the addresses of a StatefulSet of 5 pods recreated 20 times across 3 nodes', async () => {
    const nodes = ['node-1', 'node-2', 'node-3'];
    const first: string[] = [];
    let live: Sandbox[] = [];
    for (let round = 0; round < 20; round++) {
      for (const sb of live) await stopPod(sb);
      const next: Sandbox[] = [];
      for (let ordinal = 0; ordinal < 5; ordinal++) {
        const { sb, r } = await startPod(`web-${ordinal}`, nodes[(round + ordinal) % 3]!, STICKY, { set: 'web' });
        expect(r.code).toBe(0);
        const [ip] = addresses(r);
        if (round === 0) first.push(ip!);
        else expect([ordinal, ip]).toEqual([ordinal, first[ordinal]]);
        next.push(sb);
      }
      live = next;
    }
    expect(new Set(first).size).toBe(5);
    for (const [ordinal, ip] of first.entries()) expect((await holderOf(ip)).handleId).toBe(`atoll-sticky.default.web.${ordinal}`);

    // scaled to 2: web-2..4 stop (their DELs park the addresses) and the collector releases them after its grace
    await cluster.kube.patchStatefulSet('default', 'web', { spec: { replicas: 2 } });
    for (const sb of live.slice(2)) await stopPod(sb);
    const freed = async () => (await Promise.all(first.slice(2).map((ip) => holderOf(ip).then(() => false, () => true)))).every(Boolean);
    const deadline = Date.now() + 30_000;
    while (!(await freed()) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 250));
    expect(await freed()).toBe(true);
    for (const [ordinal, ip] of first.slice(0, 2).entries()) expect((await holderOf(ip)).handleId).toBe(`atoll-sticky.default.web.${ordinal}`);
    const metrics = await (await fetch(`${cluster.allocator.metricsUrl}/metrics`)).text();
    expect(metrics).toMatch(/^atoll_sticky_releases_total\{reason="scaled-down"\} 3$/m);
  }, 600_000);
});
