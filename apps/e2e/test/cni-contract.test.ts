import { cleanupNetnsWithPrefix, DemoCluster, runCniPlugin, CNI_PATH } from '@atoll/test-tools';

// The CNI side as runtimes see it: every supported version through the real bridge (and
// ptp) plugin, CNI 1.1's GC and STATUS, the agent unreachable, and malformed calls that
// must fail with the right code and leave nothing allocated.
const PREFIX = 'atoll-e2c-';

describe('the CNI contract, end to end', () => {
  let cluster: DemoCluster;
  const allocated = async () => (await cluster.atollctl(['ipam', 'show', '-o', 'json'])).stdout;

  beforeAll(async () => {
    await cleanupNetnsWithPrefix(PREFIX);
    cluster = await DemoCluster.start({ prefix: PREFIX, nodes: ['node-1'] });
    await cluster.atollctl(['apply', '-f', '-'], 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: pods\nspec:\n  cidr: 10.88.0.0/16\n');
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
    expect(await cleanupNetnsWithPrefix(PREFIX)).toEqual([]);
  });

  it.each([['0.3.0'], ['0.3.1'], ['0.4.0'], ['1.0.0']])('attaches a pod through bridge with a %s configuration and releases it on DEL', async (version) => {
    const out = await cluster.addPod({ node: 'node-1', name: `v-${version.replace(/\./g, '')}`, cniVersion: version });
    expect(out.ok).toBe(true);
    expect((out.pod!.result as { cniVersion?: string }).cniVersion).toBe(version);
    const [addr] = await cluster.podAddresses(out.pod!);
    expect(addr).toMatch(/^10\.88\.\d+\.\d+\/26$/);
    expect(await cluster.deletePod(out.pod!)).toBe(0);
    expect((await cluster.atollctl(['ipam', 'show', `--ip=${addr!.split('/')[0]}`])).stdout).toContain('is not assigned');
  });

  it('attaches two pods through ptp (gateway 169.254.1.1 on the host side) that reach each other', async () => {
    const a = await cluster.addPod({ node: 'node-1', name: 'ptp-a', plugin: 'ptp' });
    const b = await cluster.addPod({ node: 'node-1', name: 'ptp-b', plugin: 'ptp' });
    expect(a.error).toBeUndefined();
    expect(b.error).toBeUndefined();
    expect((await cluster.podAddresses(a.pod!))[0]).toMatch(/^10\.88\./);
    const target = b.pod!.result.ips![0]!.address.split('/')[0]!;
    expect((await a.pod!.netns.exec('ping', ['-c', '1', '-W', '2', target])).code).toBe(0);
    expect(await cluster.deletePod(a.pod!)).toBe(0);
    expect(await cluster.deletePod(b.pod!)).toBe(0);
  });

  it('speaks CNI 1.1: ADD, STATUS, and GC releasing what the runtime no longer has', async () => {
    for (const name of ['keep', 'drop']) await cluster.kube.createPod({ metadata: { name }, spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'none' }] } });
    const keep = await cluster.ipamOnly({ node: 'node-1', name: 'keep', cniVersion: '1.1.0' });
    const drop = await cluster.ipamOnly({ node: 'node-1', name: 'drop', cniVersion: '1.1.0' });
    expect([keep.code, drop.code]).toEqual([0, 0]);
    const config = cluster.bridgeConfig(cluster.node('node-1'), '1.1.0');
    const status = await runCniPlugin({ pluginDir: CNI_PATH, plugin: 'atoll-ipam', command: 'STATUS', config });
    expect(status.code).toBe(0);
    const gc = await runCniPlugin({ pluginDir: CNI_PATH, plugin: 'atoll-ipam', command: 'GC', config, validAttachments: [{ containerID: 'keep', ifname: 'eth0' }] });
    expect(gc.code).toBe(0);
    const dropIp = (drop.json as { ips: { address: string }[] }).ips[0]!.address.split('/')[0]!;
    const keepIp = (keep.json as { ips: { address: string }[] }).ips[0]!.address.split('/')[0]!;
    expect((await cluster.atollctl(['ipam', 'show', `--ip=${dropIp}`])).stdout).toContain('is not assigned');
    expect((await cluster.atollctl(['ipam', 'show', `--ip=${keepIp}`])).stdout).toContain('is in use');
  });

  it('answers code 11 within a bounded time when the agent is down', async () => {
    const config = { ...cluster.bridgeConfig(cluster.node('node-1')), ipam: { type: 'atoll-ipam', agent_socket: '/run/atoll-missing/agent.sock' } };
    const t0 = Date.now();
    const r = await cluster.ipamOnly({ node: 'node-1', name: 'nobody', config });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ code: 11 });
  });

  it.each([
    ['a config without a name', (c: Record<string, unknown>) => ({ ...c, name: undefined }), 7],
    ['an unsupported version', (c: Record<string, unknown>) => ({ ...c, cniVersion: '0.2.0' }), 1],
    ['an ipam section that is not an object', (c: Record<string, unknown>) => ({ ...c, ipam: 'atoll-ipam' }), 6],
    ['assign_ipv4 as a boolean', (c: Record<string, unknown>) => ({ ...c, ipam: { ...(c['ipam'] as object), assign_ipv4: false } }), 7],
    ['a pool list that is not a list', (c: Record<string, unknown>) => ({ ...c, ipam: { ...(c['ipam'] as object), ipv4_pools: '10.88.0.0/16' } }), 7],
    ['a pool that does not exist', (c: Record<string, unknown>) => ({ ...c, ipam: { ...(c['ipam'] as object), ipv4_pools: ['192.169.1.0/24'] } }), 103],
  ])('refuses %s with code %d and allocates nothing', async (_what, mutate, code) => {
    await cluster.kube.createPod({ metadata: { name: `bad-${code}-${Math.random().toString(36).slice(2, 6)}` }, spec: { nodeName: 'node-1' } }).catch(() => undefined);
    const before = await allocated();
    const config = JSON.parse(JSON.stringify(mutate(cluster.bridgeConfig(cluster.node('node-1')))));
    const r = await runCniPlugin({ pluginDir: CNI_PATH, plugin: 'atoll-ipam', command: 'ADD', containerId: 'bad', netnsPath: '/var/run/netns/none', ifname: 'eth0', args: 'IgnoreUnknown=1', config, name: config.name ?? '', cniVersion: config.cniVersion });
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ code });
    expect(await allocated()).toBe(before);
  });

  it.each([
    [{ CNI_COMMAND: 'EXPLODE' }, 4],
    [{ CNI_CONTAINERID: '' }, 4],
    [{ CNI_IFNAME: '' }, 4],
  ])('refuses the environment %o with code %d', async (env, code) => {
    const before = await allocated();
    const r = await runCniPlugin({ pluginDir: CNI_PATH, plugin: 'atoll-ipam', command: 'ADD', containerId: 'envtest', netnsPath: '/var/run/netns/none', ifname: 'eth0', config: cluster.bridgeConfig(cluster.node('node-1')), env });
    expect(r.json).toMatchObject({ code });
    expect(await allocated()).toBe(before);
  });
});
