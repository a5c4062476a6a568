import pino from 'pino';
import { CniHandler } from './handler';
import type { AllocatorPort } from './ports';
import { CniFailure } from './errors';

const log = pino({ level: 'silent' });

function rpcError(code: string, message: string) {
  return Object.assign(new Error(message), { code, retryable: code === 'unavailable' });
}

function fakeAllocator(overrides: Partial<Record<keyof AllocatorPort, (req: never) => Promise<unknown>>> = {}) {
  const calls: { method: string; req: unknown }[] = [];
  const base: Record<string, (req: unknown) => Promise<unknown>> = {
    autoAssign: async () => ({ ipv4: { requested: 1, ips: ['10.0.0.5/26'], msgs: [], errorCode: '', errorMessage: '' }, ipv6: { requested: 0, ips: [], msgs: [], errorCode: '', errorMessage: '' } }),
    assignIp: async (req) => ({ ip: (req as { ip: string }).ip }),
    releaseIPs: async () => ({ unallocated: [], released: [], errors: [] }),
    releaseByHandle: async () => ({ released: [] }),
    ipsByHandle: async () => ({ ips: ['10.0.0.5'] }),
    listAllocations: async () => ({ allocations: [] }),
    getIpamConfig: async () => ({}),
    ...(overrides as Record<string, (req: unknown) => Promise<unknown>>),
  };
  const port = Object.fromEntries(Object.entries(base).map(([m, fn]) => [m, (req: unknown) => (calls.push({ method: m, req }), fn(req))])) as unknown as AllocatorPort;
  return { port, calls };
}

const netconf = (version = '1.0.0', extra: Record<string, unknown> = {}) =>
  JSON.stringify({ cniVersion: version, name: 'net', ipam: { type: 'atoll-ipam' }, ...extra });

const pods = (annotations: Record<string, string> = {}) => ({
  pod: async () => ({ annotations, labels: {} }),
  namespace: async () => ({ annotations: {}, labels: { team: 'a' } }),
});

const req = (command: string, extra: Partial<Record<string, string>> = {}) => ({
  command,
  containerId: 'cid',
  ifname: 'eth0',
  netns: '/var/run/netns/x',
  args: 'K8S_POD_NAMESPACE=ns;K8S_POD_NAME=pod',
  networkConfig: netconf(),
  ...extra,
});

describe('the CNI handler', () => {
  it('assigns automatically with the handle, attributes and namespace labels, all or nothing', async () => {
    const a = fakeAllocator();
    const h = new CniHandler({ nodeName: 'node-1', allocator: a.port, pods: pods(), log, now: () => new Date('2026-08-01T10:00:00.123Z') });
    const out = JSON.parse(await h.handle(req('ADD')));
    expect(out).toEqual({ cniVersion: '1.0.0', ips: [{ address: '10.0.0.5/26' }], dns: {} });
    expect(a.calls[0]).toMatchObject({
      method: 'autoAssign',
      req: {
        handleId: 'net.cid',
        hostname: 'node-1',
        num4: 1,
        num6: 0,
        allOrNothing: true,
        namespaceLabels: { team: 'a' },
        attributes: { node: 'node-1', namespace: 'ns', pod: 'pod', timestamp: '2026-08-01 10:00:00.123000000 +0000 UTC' },
      },
    });
  });

  it.each([['0.3.0'], ['0.3.1'], ['0.4.0']])('answers %s with the IP version field', async (v) => {
    const h = new CniHandler({ nodeName: 'n', allocator: fakeAllocator().port, pods: pods(), log });
    expect(JSON.parse(await h.handle(req('ADD', { networkConfig: netconf(v) })))).toEqual({ cniVersion: v, ips: [{ version: '4', address: '10.0.0.5/26' }], dns: {} });
  });

  it('assigns a static address from the annotation as /32', async () => {
    const a = fakeAllocator();
    const h = new CniHandler({ nodeName: 'n', allocator: a.port, pods: pods({ 'cni.projectcalico.org/ipAddrs': '["192.168.0.1"]' }), log });
    expect(JSON.parse(await h.handle(req('ADD'))).ips).toEqual([{ address: '192.168.0.1/32' }]);
    expect(a.calls.map((c) => c.method)).toEqual(['assignIp']);
  });

  it('rolls back the IPv4 address when the IPv6 one of a dual-stack static request fails', async () => {
    const a = fakeAllocator({
      assignIp: async (r: { ip: string }) => {
        if (r.ip.includes(':')) throw rpcError('already-assigned', 'resource already exists: fd00::1 with error: Address already assigned in block');
        return { ip: r.ip };
      },
    } as never);
    const h = new CniHandler({ nodeName: 'n', allocator: a.port, pods: pods({ 'cni.projectcalico.org/ipAddrs': '["10.0.0.1","fd00::1"]' }), log });
    const err = (await h.handle(req('ADD')).catch((e: unknown) => e)) as CniFailure;
    expect(err.code).toBe(100);
    expect(err.message).toBe('error getting IP from IPAM: resource already exists: fd00::1 with error: Address already assigned in block');
    expect(a.calls.map((c) => c.method)).toEqual(['assignIp', 'assignIp', 'releaseIPs']);
    expect(a.calls[2]!.req).toEqual({ options: [{ address: '10.0.0.1', handleId: 'net.cid', sequenceNumber: '' }] });
  });

  it.each([
    ['not-in-pool', 'The provided IP address is not in a configured pool\n', 101],
    ['unavailable', 'datastore unavailable', 11],
    ['pool-exhausted', 'Assigned 0 out of 1', 102],
    ['node-not-found', 'node', 105],
    ['weird', 'x', 110],
  ])('maps the allocator error %s to CNI code %d', async (code, message, cniCode) => {
    const a = fakeAllocator({ autoAssign: async () => Promise.reject(rpcError(code, message)), assignIp: async () => Promise.reject(rpcError(code, message)) } as never);
    const h = new CniHandler({ nodeName: 'n', allocator: a.port, pods: pods(), log });
    await expect(h.handle(req('ADD'))).rejects.toMatchObject({ code: cniCode });
  });

  it('answers code 11 when the datastore is unavailable while a sticky pod takes its addresses back (etcd out of space)', async () => {
    const outOfSpace = rpcError('unavailable', 'datastore unavailable: etcd is out of space');
    // Parked by the last pod's DEL: moving it back to the in-use handle is a write, which etcd refuses.
    const a = fakeAllocator({ ipsByHandle: async (r: { handleId: string }) => ({ ips: r.handleId === 'atoll-sticky-idle.ns.db.0' ? ['10.0.0.7'] : [] }) } as never);
    const staticIps = { getHolder: async () => ({ handleId: 'atoll-sticky-idle.ns.db.0', attributes: {} }), handOff: async () => Promise.reject(outOfSpace) };
    const sticky = {
      pod: async () => ({ annotations: { 'atoll.io/sticky': 'true' }, labels: {}, uid: 'u1', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'db-uid', controller: true }] }),
      namespace: async () => ({ annotations: {}, labels: {} }),
    };
    const h = new CniHandler({ nodeName: 'n', allocator: a.port, staticIps, pods: sticky, log } as never);
    await expect(h.handle(req('ADD', { args: 'K8S_POD_NAMESPACE=ns;K8S_POD_NAME=db-0' }))).rejects.toMatchObject({ code: 11, message: expect.stringContaining('etcd is out of space') });
    expect(a.calls.map((c) => c.method)).toEqual(['ipsByHandle', 'ipsByHandle']);
  });

  it('fails ADD for a pod the Kubernetes API does not know, with a retryable code', async () => {
    const h = new CniHandler({ nodeName: 'n', allocator: fakeAllocator().port, pods: { pod: async () => undefined, namespace: async () => undefined }, log });
    await expect(h.handle(req('ADD'))).rejects.toMatchObject({ code: 11, message: 'pod ns/pod not found in the Kubernetes API' });
  });

  it('releases both handles on DEL and treats nothing to release as success', async () => {
    const a = fakeAllocator({ releaseByHandle: async () => Promise.reject(rpcError('not-found', 'resource does not exist')) } as never);
    const h = new CniHandler({ nodeName: 'n', allocator: a.port, pods: pods(), log });
    await expect(h.handle(req('DEL'))).resolves.toBe('');
    expect(a.calls.map((c) => (c.req as { handleId: string }).handleId)).toEqual(['net.cid', 'ns.pod']);
  });

  it('keeps going on DEL past a failure and then reports it as retryable', async () => {
    let n = 0;
    const a = fakeAllocator({ releaseByHandle: async () => (n++ === 0 ? Promise.reject(rpcError('unavailable', 'down')) : { released: [] }) } as never);
    const h = new CniHandler({ nodeName: 'n', allocator: a.port, pods: pods(), log });
    await expect(h.handle(req('DEL'))).rejects.toMatchObject({ code: 11 });
    expect(a.calls).toHaveLength(2);
  });

  it('checks the handle\'s addresses against prevResult', async () => {
    const h = new CniHandler({ nodeName: 'n', allocator: fakeAllocator().port, pods: pods(), log });
    await expect(h.handle(req('CHECK', { networkConfig: netconf('1.0.0', { prevResult: { ips: [{ address: '10.0.0.5/26' }] } }) }))).resolves.toBe('');
    await expect(h.handle(req('CHECK', { networkConfig: netconf('1.0.0', { prevResult: { ips: [{ address: '10.0.0.6/26' }] } }) }))).rejects.toThrow(
      'addresses of net.cid are [10.0.0.5], but prevResult has [10.0.0.6]',
    );
  });

  it('garbage-collects this node\'s handles of the network that are not valid attachments', async () => {
    const a = fakeAllocator({
      listAllocations: async () => ({
        allocations: [
          { address: '10.0.0.1', handleId: 'net.keep' },
          { address: '10.0.0.2', handleId: 'net.gone' },
          { address: '10.0.0.3', handleId: 'net.gone' },
        ],
      }),
    } as never);
    const h = new CniHandler({ nodeName: 'node-1', allocator: a.port, pods: pods(), log });
    await h.handle(req('GC', { networkConfig: netconf('1.1.0', { 'cni.dev/valid-attachments': [{ containerID: 'keep', ifname: 'eth0' }] }) }));
    expect(a.calls[0]).toMatchObject({ method: 'listAllocations', req: { node: 'node-1', handlePrefix: 'net.' } });
    expect(a.calls.filter((c) => c.method === 'releaseByHandle').map((c) => c.req)).toEqual([{ handleId: 'net.gone' }]);
  });

  it('reports STATUS not available when the allocator does not answer', async () => {
    const a = fakeAllocator({ getIpamConfig: async () => Promise.reject(rpcError('unavailable', 'connect ECONNREFUSED')) } as never);
    const h = new CniHandler({ nodeName: 'n', allocator: a.port, pods: pods(), log });
    await expect(h.handle(req('STATUS'))).rejects.toMatchObject({ code: 50 });
  });
});

describe('gateways for main plugins that need one', () => {
  it('puts the configured gateway into the result', async () => {
    const h = new CniHandler({ nodeName: 'n', allocator: fakeAllocator().port, pods: pods(), log });
    const conf = JSON.stringify({ cniVersion: '1.0.0', name: 'net', ipam: { type: 'atoll-ipam', ipv4_gateway: '169.254.1.1' } });
    expect(JSON.parse(await h.handle(req('ADD', { networkConfig: conf })))).toEqual({
      cniVersion: '1.0.0',
      ips: [{ address: '10.0.0.5/26', gateway: '169.254.1.1' }],
      dns: {},
    });
  });

  it('refuses a gateway of the wrong family', async () => {
    const h = new CniHandler({ nodeName: 'n', allocator: fakeAllocator().port, pods: pods(), log });
    const conf = JSON.stringify({ cniVersion: '1.0.0', name: 'net', ipam: { type: 'atoll-ipam', ipv4_gateway: 'fd00::1' } });
    await expect(h.handle(req('ADD', { networkConfig: conf }))).rejects.toMatchObject({ code: 7, message: 'ipam.ipv4_gateway must be an IPv4 address, got "fd00::1"' });
  });
});
