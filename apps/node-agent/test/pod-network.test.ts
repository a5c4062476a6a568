import pino from 'pino';
import { cleanupNetnsWithPrefix, createNetns, uniqueNetnsName, type Netns } from '@atoll/test-tools';
import { CniHandler } from '../src/cni/handler';
import type { AllocatorPort } from '../src/cni/ports';
import { hostLinkName, PodNetwork, systemNetCommands, type NetCommands } from '../src/dataplane';

// The main plugin's dataplane against real namespaces: a "node" namespace the test made
// stands for the node (every node-side command runs there), a second one for the pod.

const PREFIX = 'atoll-pn-';
const log = pino({ level: 'silent' });

async function ip(ns: Netns, args: string[]): Promise<string> {
  const r = await ns.exec('ip', args);
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')} in ${ns.name}: ${r.stderr}`);
  return r.stdout;
}

async function ping(from: Netns, to: string): Promise<boolean> {
  const r = await from.exec('ping', [...(to.includes(':') ? ['-6'] : []), '-c', '1', '-W', '2', to]);
  return r.code === 0;
}

describe('the pod dataplane (veth, /32, on-link gateway, proxy ARP)', () => {
  let node: Netns;
  let pods: Netns[] = [];
  let net: PodNetwork;
  let commands: NetCommands;
  const newPod = async () => {
    const p = await createNetns(`${node.name}-p${pods.length}`);
    pods.push(p);
    return p;
  };

  beforeAll(async () => {
    await cleanupNetnsWithPrefix(PREFIX);
    node = await createNetns(uniqueNetnsName(PREFIX));
    // The node's own address, which pods must reach.
    await ip(node, ['addr', 'add', '172.30.9.1/32', 'dev', 'lo']);
    await ip(node, ['addr', 'add', 'fd00:30:9::1/128', 'dev', 'lo']);
    commands = systemNetCommands({ hostNetnsPath: node.path });
    net = new PodNetwork(commands);
  });

  afterEach(async () => {
    for (const p of pods) await p.delete();
    pods = [];
  });

  afterAll(async () => {
    commands?.close();
    await node?.delete();
  });

  it('gives the pod its address as /32, an on-link default route and a host route, and the pod reaches its node', async () => {
    const pod = await newPod();
    const attached = await net.attach({ containerId: 'c1', ifname: 'eth0', netnsPath: pod.path, addresses: ['10.244.7.7'], mtu: 1400 });
    expect(attached.addresses).toEqual([{ cidr: '10.244.7.7/32', version: 4 }]);
    expect(await ip(pod, ['-4', 'addr', 'show', 'eth0'])).toContain('inet 10.244.7.7/32');
    const podRoutes = await ip(pod, ['-4', 'route']);
    expect(podRoutes).toContain('default via 169.254.1.1 dev eth0');
    expect(podRoutes).toContain('169.254.1.1 dev eth0 scope link');
    const host = hostLinkName('c1', 'eth0');
    expect(await ip(node, ['-4', 'route', 'show', '10.244.7.7'])).toContain(`10.244.7.7 dev ${host} scope link`);
    expect((await node.exec('cat', [`/proc/sys/net/ipv4/conf/${host}/proxy_arp`])).stdout.trim()).toBe('1');
    expect(await ip(pod, ['link', 'show', 'eth0'])).toContain('mtu 1400');
    expect(await ping(pod, '172.30.9.1')).toBe(true);
    expect(await ping(node, '10.244.7.7')).toBe(true);
  });

  it('answers the pod ARP for the gateway by proxy ARP when the neighbour entry is gone', async () => {
    const pod = await newPod();
    await net.attach({ containerId: 'c-arp', ifname: 'eth0', netnsPath: pod.path, addresses: ['10.244.7.9'], mtu: 1500 });
    await ip(pod, ['neigh', 'del', '169.254.1.1', 'dev', 'eth0']);
    // Proxy ARP answers for what the node forwards elsewhere: as on a real node, forwarding
    // on and a default route through an uplink.
    await ip(node, ['link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'up1']);
    await ip(node, ['addr', 'add', '172.30.10.2/24', 'dev', 'up0']);
    await ip(node, ['link', 'set', 'up0', 'up']);
    await ip(node, ['link', 'set', 'up1', 'up']);
    await ip(node, ['route', 'add', 'default', 'via', '172.30.10.254']);
    await node.exec('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    try {
      expect(await ping(pod, '172.30.9.1')).toBe(true);
      expect(await ip(pod, ['neigh', 'show', '169.254.1.1'])).toContain('lladdr ee:ee:ee:ee:ee:ee');
    } finally {
      await ip(node, ['link', 'del', 'up0']);
    }
  });

  it('wires IPv4 and IPv6 together; IPv6 goes through the host side link-local gateway', async () => {
    const pod = await newPod();
    const attached = await net.attach({ containerId: 'c2', ifname: 'eth0', netnsPath: pod.path, addresses: ['10.244.7.8/26', 'fd00:244::8/122'], mtu: 1500 });
    expect(attached.addresses.map((a) => a.cidr)).toEqual(['10.244.7.8/32', 'fd00:244::8/128']);
    expect(attached.gateways).toEqual({ 4: '169.254.1.1', 6: 'fe80::ecee:eeff:feee:eeee' });
    expect(await ip(pod, ['-6', 'route'])).toContain('default via fe80::ecee:eeff:feee:eeee dev eth0');
    expect(await ping(pod, 'fd00:30:9::1')).toBe(true);
    expect(await ping(node, 'fd00:244::8')).toBe(true);
    expect(await ping(pod, '172.30.9.1')).toBe(true);
  });

  it('removes the veth pair and its routes on detach, needing only the container ID; a second detach finds nothing', async () => {
    const pod = await newPod();
    await net.attach({ containerId: 'c3', ifname: 'eth0', netnsPath: pod.path, addresses: ['10.244.7.10', 'fd00:244::10'], mtu: 1500 });
    expect(await net.detach('c3', 'eth0')).toBe(true);
    expect(await ip(node, ['link'])).not.toContain(hostLinkName('c3', 'eth0'));
    expect(await ip(node, ['-4', 'route'])).not.toContain('10.244.7.10');
    expect(await ip(node, ['-6', 'route'])).not.toContain('fd00:244::10');
    expect(await ip(pod, ['link'])).not.toContain('eth0');
    expect(await net.detach('c3', 'eth0')).toBe(false);
  });

  it('replaces a veth left by an earlier ADD of the same attachment', async () => {
    const pod = await newPod();
    await net.attach({ containerId: 'c4', ifname: 'eth0', netnsPath: pod.path, addresses: ['10.244.7.11'], mtu: 1500 });
    const again = await newPod();
    await net.attach({ containerId: 'c4', ifname: 'eth0', netnsPath: again.path, addresses: ['10.244.7.11'], mtu: 1500 });
    expect(await ping(again, '172.30.9.1')).toBe(true);
    expect(await ip(pod, ['link'])).not.toContain('eth0');
  });

  it('refuses a pod namespace that already has the interface, and leaves nothing on the node', async () => {
    const pod = await newPod();
    await ip(pod, ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'other0']);
    await expect(net.attach({ containerId: 'c5', ifname: 'eth0', netnsPath: pod.path, addresses: ['10.244.7.12'], mtu: 1500 })).rejects.toThrow('an interface named eth0 already exists');
    expect(await ip(node, ['link'])).not.toContain(hostLinkName('c5', 'eth0'));
    expect(await ip(node, ['-4', 'route'])).not.toContain('10.244.7.12');
  });

  it('reports what CHECK finds wrong', async () => {
    const pod = await newPod();
    await net.attach({ containerId: 'c6', ifname: 'eth0', netnsPath: pod.path, addresses: ['10.244.7.13'], mtu: 1500 });
    expect(await net.problems({ containerId: 'c6', ifname: 'eth0', netnsPath: pod.path, addresses: ['10.244.7.13'] })).toEqual([]);
    await ip(pod, ['addr', 'del', '10.244.7.13/32', 'dev', 'eth0']);
    expect(await net.problems({ containerId: 'c6', ifname: 'eth0', netnsPath: pod.path, addresses: ['10.244.7.13'] })).toEqual(['eth0 does not have 10.244.7.13/32']);
  });

  describe('through the CNI handler ("type": "atoll")', () => {
    const mainConf = (version = '1.0.0') => JSON.stringify({ cniVersion: version, name: 'net', type: 'atoll', mtu: 1500, ipam: { type: 'atoll-ipam' } });
    function allocator(overrides: Partial<AllocatorPort> = {}) {
      const calls: string[] = [];
      const port = {
        autoAssign: async () => ({ ipv4: { requested: 1, ips: ['10.244.8.5/26'], msgs: [], errorCode: '', errorMessage: '' }, ipv6: { requested: 0, ips: [], msgs: [], errorCode: '', errorMessage: '' } }),
        assignIp: async (r: { ip: string }) => ({ ip: r.ip }),
        releaseIPs: async () => ({ unallocated: [], released: [], errors: [] }),
        releaseByHandle: async (r: { handleId: string }) => (calls.push(`release ${r.handleId}`), { released: [] }),
        ipsByHandle: async () => ({ ips: ['10.244.8.5'] }),
        listAllocations: async () => ({ allocations: [] }),
        getIpamConfig: async () => ({}),
        ...overrides,
      } as unknown as AllocatorPort;
      return { port, calls };
    }
    const handler = (a: AllocatorPort, podNetwork = net) => new CniHandler({ nodeName: 'n1', allocator: a, pods: { pod: async () => ({ annotations: {}, labels: {} }), namespace: async () => ({ annotations: {}, labels: {} }) }, log, podNetwork });
    const req = (command: string, netns: string, extra: Record<string, string> = {}) => ({ command, containerId: 'h1', ifname: 'eth0', netns, args: 'K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p', networkConfig: mainConf(), ...extra });

    it('answers ADD with both interfaces, the /32 on the pod interface and the default route', async () => {
      const pod = await newPod();
      const a = allocator();
      const out = JSON.parse(await handler(a.port).handle(req('ADD', pod.path)));
      expect(out).toEqual({
        cniVersion: '1.0.0',
        interfaces: [{ name: hostLinkName('h1', 'eth0'), mac: 'ee:ee:ee:ee:ee:ee' }, { name: 'eth0', mac: expect.stringMatching(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/), sandbox: pod.path }],
        ips: [{ address: '10.244.8.5/32', interface: 1, gateway: '169.254.1.1' }],
        routes: [{ dst: '0.0.0.0/0', gw: '169.254.1.1' }],
        dns: {},
      });
      // DEL with no namespace (containerd's second Stop) still removes the veth.
      await handler(a.port).handle(req('DEL', ''));
      expect(await ip(node, ['link'])).not.toContain(hostLinkName('h1', 'eth0'));
      expect(a.calls).toContain('release net.h1');
      await handler(a.port).handle(req('DEL', ''));
    });

    it('gives the addresses back when the pod cannot be wired', async () => {
      const pod = await newPod();
      await ip(pod, ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'other0']);
      const a = allocator();
      await expect(handler(a.port).handle(req('ADD', pod.path))).rejects.toMatchObject({ code: 110, message: expect.stringContaining('already exists') });
      expect(a.calls).toEqual(['release net.h1']);
    });

    it('leaves no veth behind when the allocator refuses the ADD', async () => {
      const pod = await newPod();
      const refusal = Object.assign(new Error('no IPs available in pools'), { code: 'pool-exhausted' });
      const a = allocator({ autoAssign: async () => { throw refusal; } } as Partial<AllocatorPort>);
      await expect(handler(a.port).handle(req('ADD', pod.path))).rejects.toMatchObject({ code: 102 });
      expect(await ip(node, ['link'])).not.toContain(hostLinkName('h1', 'eth0'));
      expect(await ip(pod, ['link'])).not.toContain('eth0');
    });

    it('refuses an ADD whose namespace does not exist before asking for an address', async () => {
      const a = allocator({ autoAssign: async () => { throw new Error('must not be called'); } } as Partial<AllocatorPort>);
      await expect(handler(a.port).handle(req('ADD', '/var/run/netns/atoll-pn-none'))).rejects.toMatchObject({ code: 4, message: 'network namespace /var/run/netns/atoll-pn-none does not exist' });
    });

    it.each([
      ['an interface name with a line break', { ifname: 'eth0\nroute' }, 'invalid interface name "eth0\\nroute"'],
      ['an interface name that is too long', { ifname: 'abcdefghijklmnop' }, 'invalid interface name "abcdefghijklmnop"'],
      ['a namespace path with a blank', { netns: '/var/run/netns/a b' }, 'invalid network namespace path "/var/run/netns/a b"'],
    ])('refuses %s before asking for an address', async (_what, extra, message) => {
      const a = allocator({ autoAssign: async () => { throw new Error('must not be called'); } } as Partial<AllocatorPort>);
      await expect(handler(a.port).handle({ ...req('ADD', '/x'), ...extra })).rejects.toMatchObject({ code: 4, message: expect.stringContaining(message) });
    });

    it("moves a static address from the same pod's earlier sandbox, never torn down, removing that sandbox's veth and host route", async () => {
      const [oldPod, newPod_] = [await newPod(), await newPod()];
      const rpcError = (code: string, message: string) => Object.assign(new Error(message), { code });
      let held = false;
      const a = allocator({
        assignIp: (async (r: { ip: string }) => {
          if (held) throw rpcError('already-assigned', `resource already exists: ${r.ip} with error: Address already assigned in block`);
          held = true;
          return { ip: r.ip };
        }) as never,
      });
      const handOffs: unknown[] = [];
      const staticIps = {
        getHolder: async () => ({ address: '10.244.9.9', handleId: 'net.old1', attributes: { node: 'n1', namespace: 'ns', pod: 'p', podUid: 'uid-1' } }),
        handOff: async (r: unknown) => (handOffs.push(r), { ip: '10.244.9.9' }),
      } as never;
      const podSource = { pod: async () => ({ annotations: { 'cni.projectcalico.org/ipAddrs': '["10.244.9.9"]' }, labels: {}, uid: 'uid-1' }), namespace: async () => ({ annotations: {}, labels: {} }) };
      const h = new CniHandler({ nodeName: 'n1', allocator: a.port, pods: podSource, log, podNetwork: net, staticIps });
      const args = 'K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p;K8S_POD_UID=uid-1';
      await h.handle(req('ADD', oldPod.path, { containerId: 'old1', args }));
      expect(await ip(node, ['-4', 'route', 'show', '10.244.9.9'])).toContain(hostLinkName('old1', 'eth0'));
      // The node crashed... or the runtime lost the sandbox: a new one for the same pod, no DEL of the old.
      const out = JSON.parse(await h.handle(req('ADD', newPod_.path, { containerId: 'new1', args })));
      expect(out.ips).toEqual([{ address: '10.244.9.9/32', interface: 1, gateway: '169.254.1.1' }]);
      expect(handOffs).toEqual([expect.objectContaining({ ip: '10.244.9.9', fromHandleId: 'net.old1', handleId: 'net.new1' })]);
      expect(await ip(node, ['link'])).not.toContain(hostLinkName('old1', 'eth0'));
      expect(await ip(node, ['-4', 'route', 'show', '10.244.9.9'])).toContain(hostLinkName('new1', 'eth0'));
      expect(a.calls).toEqual(['release net.old1']);
      await h.handle(req('DEL', '', { containerId: 'new1', args }));
    });

    it('refuses a main-plugin configuration with another IPAM plugin', async () => {
      const a = allocator();
      const conf = JSON.stringify({ cniVersion: '1.0.0', name: 'net', type: 'atoll', ipam: { type: 'host-local' } });
      await expect(handler(a.port).handle(req('ADD', '/x', { networkConfig: conf }))).rejects.toMatchObject({ code: 7, message: 'the atoll plugin works only with "ipam": {"type": "atoll-ipam"}, got "host-local"' });
    });
  });
});

