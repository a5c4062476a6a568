import { cleanupNetnsWithPrefix, DemoCluster, type DemoPod } from '@atoll/test-tools';

// The seed how-to, word for word, as a user would do it: pools applied with atollctl, pods
// created in Kubernetes with Calico's annotations and attached by the real bridge plugin,
// on two nodes each with its own agent and host namespace.
const PREFIX = 'atoll-e2e-';

const yaml = (name: string, spec: string) => `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: ${name}
spec:
${spec}`;

const ipOf = (pod: DemoPod) => pod.result.ips![0]!.address.split('/')[0]!;

describe('the how-to, end to end', () => {
  let cluster: DemoCluster;

  beforeAll(async () => {
    await cleanupNetnsWithPrefix(PREFIX);
    cluster = await DemoCluster.start({ prefix: PREFIX, nodes: ['node-1', 'node-2'] });
    const applied = await cluster.atollctl(['apply', '-f', '-'], yaml('default-ipv4-ippool', '  cidr: 192.168.0.0/16\n  blockSize: 26\n  natOutgoing: true\n  nodeSelector: all()\n'));
    expect(applied).toMatchObject({ code: 0 });
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
    expect(await cleanupNetnsWithPrefix(PREFIX)).toEqual([]);
  });

  it('1. gives a pod annotated with ipAddrs exactly that address on its eth0', async () => {
    const out = await cluster.addPod({ node: 'node-1', name: 'static-1', annotations: { 'cni.projectcalico.org/ipAddrs': '["192.168.0.1"]' } });
    expect(out.ok).toBe(true);
    expect(await cluster.podAddresses(out.pod!)).toEqual(['192.168.0.1/32']);
  });

  it('2. refuses an address outside every pool, naming it, and allocates nothing', async () => {
    const out = await cluster.addPod({ node: 'node-1', name: 'outside', annotations: { 'cni.projectcalico.org/ipAddrs': '["172.31.0.1"]' } });
    expect(out.ok).toBe(false);
    expect(out.error).toMatchObject({ code: 101 });
    expect(out.error!.msg).toContain('172.31.0.1');
    expect(out.error!.msg).toContain('not in a configured pool');
    const show = await cluster.atollctl(['ipam', 'show', '--ip=172.31.0.1']);
    expect(show.stdout).toContain('172.31.0.1 is not assigned');
  });

  it('3. refuses an address already in use, and the first pod keeps it', async () => {
    const out = await cluster.addPod({ node: 'node-2', name: 'thief', annotations: { 'cni.projectcalico.org/ipAddrs': '["192.168.0.1"]' } });
    expect(out.ok).toBe(false);
    expect(out.error).toMatchObject({ code: 100 });
    expect(out.error!.msg).toContain('resource already exists: 192.168.0.1 with error: Address already assigned in block');
    const show = await cluster.atollctl(['ipam', 'show', '--ip=192.168.0.1']);
    expect(show.stdout).toContain('IP 192.168.0.1 is in use');
    expect(show.stdout).toContain('static-1');
  });

  it('4. ignores the annotation when it is added after the pod was created', async () => {
    const out = await cluster.addPod({ node: 'node-1', name: 'late' });
    const before = await cluster.podAddresses(out.pod!);
    await cluster.kube.patchPod('default', 'late', { metadata: { annotations: { 'cni.projectcalico.org/ipAddrs': '["192.168.0.2"]' } } });
    expect(await cluster.podAddresses(out.pod!)).toEqual(before);
    const show = await cluster.atollctl(['ipam', 'show', '--ip=192.168.0.2']);
    expect(show.stdout).toContain('192.168.0.2 is not assigned');
  });

  it.each([
    ['["192.168.0.10","192.168.0.11"]', 'cannot have more than one IPv4 address for "cni.projectcalico.org/ipAddrs" annotation'],
    ['["192.168.0.10"', 'failed to parse IPs ["192.168.0.10" for annotation "cni.projectcalico.org/ipAddrs"'],
  ])('5. refuses the annotation %s with Calico\'s error', async (value, message) => {
    const out = await cluster.addPod({ node: 'node-1', name: `bad-${Math.random().toString(36).slice(2, 7)}`, annotations: { 'cni.projectcalico.org/ipAddrs': value } });
    expect(out.ok).toBe(false);
    expect(out.error!.msg).toContain(message);
  });

  it('9. lets two pods on one node ping each other, frees their addresses on DEL, and accepts DEL twice', async () => {
    const a = (await cluster.addPod({ node: 'node-2', name: 'ping-a' })).pod!;
    const b = (await cluster.addPod({ node: 'node-2', name: 'ping-b' })).pod!;
    const ping = await a.netns.exec('ping', ['-c', '1', '-W', '2', ipOf(b)]);
    expect(ping.code).toBe(0);
    expect(await cluster.deletePod(a, { keepNetns: true })).toBe(0);
    expect(await cluster.deletePod(a)).toBe(0);
    expect(await cluster.deletePod(b)).toBe(0);
    for (const ip of [ipOf(a), ipOf(b)]) {
      expect((await cluster.atollctl(['ipam', 'show', `--ip=${ip}`])).stdout).toContain(`${ip} is not assigned`);
    }
  });

  it('keeps the Calico Node\'s labels in step with the Kubernetes Node, so nodeSelector follows them', async () => {
    await cluster.kube.labelNode('node-2', { zone: 'east' });
    let labels: Record<string, string> = {};
    for (let i = 0; i < 100 && labels['zone'] !== 'east'; i++) {
      const r = await cluster.atollctl(['get', 'node', 'node-2', '-o', 'json']);
      labels = (JSON.parse(r.stdout) as { metadata: { labels?: Record<string, string> } }).metadata.labels ?? {};
      if (labels['zone'] !== 'east') await new Promise((res) => setTimeout(res, 100));
    }
    expect(labels).toMatchObject({ zone: 'east', 'kubernetes.io/hostname': 'node-2' });
  });
});
