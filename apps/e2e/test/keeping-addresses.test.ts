import { cidrContains, parseCidr, parseIp } from '@atoll/ipmath';
import { cleanupNetnsWithPrefix, DemoCluster } from '@atoll/test-tools';

// How-to steps 6–8: keeping addresses for manual use three ways — a pool with
// nodeSelector "!all()", an IPReservation, and allowedUses — with 200 ordinary pods
// that must never land on kept addresses, and annotated pods that may.
const PREFIX = 'atoll-e2k-';

const resource = (kind: string, name: string, spec: string) => `apiVersion: projectcalico.org/v3
kind: ${kind}
metadata:
  name: ${name}
spec:
${spec}`;

const inside = (cidr: string) => (ip: string) => cidrContains(parseCidr(cidr), parseIp(ip));

async function inBatches<T>(n: number, size: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += size) out.push(...(await Promise.all(Array.from({ length: Math.min(size, n - i) }, (_, j) => fn(i + j)))));
  return out;
}

describe('keeping addresses for manual use, end to end', () => {
  let cluster: DemoCluster;
  let ordinary: string[];

  beforeAll(async () => {
    await cleanupNetnsWithPrefix(PREFIX);
    cluster = await DemoCluster.start({ prefix: PREFIX, nodes: ['node-1', 'node-2'], agentArgs: ['--tunnel-resync-seconds', '1'] });
    const docs = [
      resource('IPPool', 'default-ipv4-ippool', '  cidr: 192.168.0.0/16\n'),
      resource('IPPool', 'manual-only', '  cidr: 10.77.0.0/24\n  nodeSelector: "!all()"\n'),
      resource('IPPool', 'workload-only', '  cidr: 10.50.0.0/24\n  vxlanMode: Always\n  allowedUses: ["Workload"]\n'),
      resource('IPPool', 'tunnels', '  cidr: 10.60.0.0/24\n  vxlanMode: Always\n  allowedUses: ["Tunnel"]\n'),
      resource('IPReservation', 'keep-low-half', '  reservedCIDRs:\n    - 192.168.0.0/17\n'),
    ].join('---\n');
    expect(await cluster.atollctl(['apply', '-f', '-'], docs)).toMatchObject({ code: 0 });

    // 200 ordinary pods over both nodes, through the real plugin and agents
    ordinary = await inBatches(200, 20, async (i) => {
      const node = i % 2 === 0 ? 'node-1' : 'node-2';
      const name = `ordinary-${i}`;
      await cluster.kube.createPod({ metadata: { name, namespace: 'default' }, spec: { nodeName: node, containers: [{ name: 'c', image: 'none' }] } });
      const r = await cluster.ipamOnly({ node, name });
      if (r.code !== 0) throw new Error(`ADD ${name} failed: ${r.stdout}`);
      return (r.json as { ips: { address: string }[] }).ips[0]!.address.split('/')[0]!;
    });
  }, 300_000);

  afterAll(async () => {
    await cluster?.stop();
    expect(await cleanupNetnsWithPrefix(PREFIX)).toEqual([]);
  });

  it('gives 200 ordinary pods 200 distinct addresses', () => {
    expect(new Set(ordinary).size).toBe(200);
  });

  it('6. never uses a nodeSelector "!all()" pool for them, yet an annotated pod gets an address inside it', async () => {
    expect(ordinary.filter(inside('10.77.0.0/24'))).toEqual([]);
    const out = await cluster.addPod({ node: 'node-1', name: 'manual', annotations: { 'cni.projectcalico.org/ipAddrs': '["10.77.0.5"]' } });
    expect(out.ok).toBe(true);
    expect(await cluster.podAddresses(out.pod!)).toEqual(['10.77.0.5/32']);
  });

  it('7. never gives them a reserved address, yet an annotated pod may use one', async () => {
    expect(ordinary.filter(inside('192.168.0.0/17'))).toEqual([]);
    const out = await cluster.addPod({ node: 'node-2', name: 'reserved', annotations: { 'cni.projectcalico.org/ipAddrs': '["192.168.0.50"]' } });
    expect(out.ok).toBe(true);
    expect(await cluster.podAddresses(out.pod!)).toEqual(['192.168.0.50/32']);
  });

  it('8. takes tunnel addresses only from the Tunnel pool and pod addresses never from it', async () => {
    expect(ordinary.filter(inside('10.60.0.0/24'))).toEqual([]);
    for (const node of ['node-1', 'node-2']) {
      let tunnel: string | undefined;
      for (let i = 0; i < 100 && !tunnel; i++) {
        const r = await cluster.atollctl(['get', 'node', node, '-o', 'json']);
        tunnel = (JSON.parse(r.stdout) as { spec?: { ipv4VXLANTunnelAddr?: string } }).spec?.ipv4VXLANTunnelAddr;
        if (!tunnel) await new Promise((res) => setTimeout(res, 100));
      }
      expect(tunnel).toBeDefined();
      expect(inside('10.60.0.0/24')(tunnel!)).toBe(true);
      expect(inside('10.50.0.0/24')(tunnel!)).toBe(false);
      const show = await cluster.atollctl(['ipam', 'show', `--ip=${tunnel}`]);
      expect(show.stdout).toContain(`vxlan-tunnel-addr-${node}`);
    }
  });

  it('leaves the datastore consistent', async () => {
    const check = await cluster.atollctl(['ipam', 'check']);
    expect(check.stdout).toContain('Check complete; found 0 problems.');
  });
});
