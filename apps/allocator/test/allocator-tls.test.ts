import { channelCredentialsFromFiles, connectAllocator, HandOffReason, IntendedUse, RpcError, type AllocatorClients, type RouteUpdate, type TlsFiles } from '@atoll/api';
import type { ServiceError } from '@grpc/grpc-js';
import {
  binPath,
  createTestPki,
  startAllocatorProcess,
  startEtcdCluster,
  startProcess,
  testNamespace,
  type AllocatorProcess,
  type CertFiles,
  type TestPki,
} from '@atoll/test-tools';

// The allocator process with mTLS: who may call what (authz/), what a client without the
// right certificate sees, and etcd over TLS — with certificates from tools/pki.
const endpoints = (process.env.ATOLL_TEST_ETCD_ENDPOINTS ?? '').split(',').filter(Boolean);

const pool = (name: string, cidr: string) => JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec: { cidr } });
const node = (name: string, labels: Record<string, string> = {}) => JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name, labels }, spec: {} });
const autoAssign = (nodeName: string, handleId: string, hostname = nodeName) => ({
  num4: 1,
  num6: 0,
  handleId,
  attributes: { node: nodeName },
  hostname,
  ipv4Pools: [],
  ipv6Pools: [],
  maxBlocksPerHost: 0,
  intendedUse: IntendedUse.INTENDED_USE_WORKLOAD,
  namespaceLabels: {},
  allOrNothing: true,
});

const tlsFiles = (pki: TestPki, pair?: CertFiles, ca = pki.ca.cert): TlsFiles => ({
  ca: { flag: '--allocator-ca-file', path: ca },
  ...(pair && { cert: { flag: '--cert-file', path: pair.cert }, key: { flag: '--key-file', path: pair.key } }),
});

const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as RpcError);

describe('the allocator with mTLS', () => {
  let pki: TestPki;
  let allocator: AllocatorProcess;
  let admin: AllocatorClients;
  let nodeA: AllocatorClients;
  let nodeB: AllocatorClients;
  const opened: AllocatorClients[] = [];
  const as = (files: TlsFiles | undefined) => {
    const c = connectAllocator(allocator.address, { defaultTimeoutMs: 5000, ...(files && { credentials: channelCredentialsFromFiles(files) }) });
    opened.push(c);
    return c;
  };

  beforeAll(async () => {
    pki = createTestPki({ nodes: ['node-a', 'node-b'] });
    allocator = await startAllocatorProcess({
      etcdEndpoints: endpoints,
      namespace: testNamespace(),
      extraArgs: ['--log-level', 'debug', '--tls-cert-file', pki.server.cert, '--tls-key-file', pki.server.key, '--tls-client-ca-file', pki.ca.cert],
      credentials: channelCredentialsFromFiles(tlsFiles(pki, pki.admin)),
    });
    admin = as(tlsFiles(pki, pki.admin));
    nodeA = as(tlsFiles(pki, pki.nodes['node-a']));
    nodeB = as(tlsFiles(pki, pki.nodes['node-b']));
    await admin.resources.apply({ resourceJson: pool('pods', '10.60.0.0/16') });
    await admin.resources.apply({ resourceJson: node('node-a') });
    await admin.resources.apply({ resourceJson: node('node-b') });
  }, 60_000);

  afterAll(async () => {
    for (const c of opened) c.close();
    await allocator?.stop('SIGTERM');
    pki?.remove();
  });

  it.each<[string, (p: TestPki) => TlsFiles | undefined]>([
    ['without a client certificate', (p) => tlsFiles(p)],
    ['with a certificate from another CA', (p) => tlsFiles(p, p.foreign)],
    ['in plaintext', () => undefined],
  ])('refuses a client %s at the handshake', async (_how, files) => {
    const err = await failure(as(files(pki)).ipam.getIpamConfig({}, { timeoutMs: 3000 }));
    expect(err).toBeInstanceOf(RpcError);
    expect(err).toMatchObject({ code: 'unavailable', grpcCode: 14 });
  });

  it('lets a node allocate, look up, list and release addresses for itself', async () => {
    const r = await nodeA.ipam.autoAssign(autoAssign('node-a', 'k8s-pod-network.a1'));
    const ip = r.ipv4!.ips[0]!.split('/')[0]!;
    expect(await nodeA.ipam.ipsByHandle({ handleId: 'k8s-pod-network.a1' })).toEqual({ ips: [ip] });
    expect((await nodeA.ipam.getAssignmentAttributes({ ip })).attributes).toMatchObject({ node: 'node-a' });
    expect((await nodeA.ipam.listAllocations({ node: 'node-a', handlePrefix: 'k8s-pod-network.' })).allocations.map((a) => a.address)).toEqual([ip]);
    expect(await nodeA.ipam.releaseByHandle({ handleId: 'k8s-pod-network.a1' })).toEqual({ released: [ip] });
    // DEL twice: a node releasing a handle that is gone hears not-found, which the agent treats as done
    expect(await failure(nodeA.ipam.releaseByHandle({ handleId: 'k8s-pod-network.a1' }))).toMatchObject({ code: 'not-found' });
  });

  it("refuses a node assigning for another node with PERMISSION_DENIED, and allocates nothing", async () => {
    const err = await failure(nodeA.ipam.autoAssign(autoAssign('node-b', 'k8s-pod-network.sneaky')));
    expect(err).toMatchObject({ code: 'permission-denied', grpcCode: 7, retryable: false, message: 'node node-a may not assign addresses for node node-b' });
    expect(await failure(admin.ipam.ipsByHandle({ handleId: 'k8s-pod-network.sneaky' }))).toMatchObject({ code: 'not-found' });
  });

  it("refuses a node releasing another node's handle, and the address stays allocated", async () => {
    const r = await nodeB.ipam.autoAssign(autoAssign('node-b', 'k8s-pod-network.b1'));
    const ip = r.ipv4!.ips[0]!.split('/')[0]!;
    const err = await failure(nodeA.ipam.releaseByHandle({ handleId: 'k8s-pod-network.b1' }));
    expect(err).toMatchObject({ code: 'permission-denied', grpcCode: 7, message: 'node node-a may not release handle k8s-pod-network.b1 of node node-b' });
    expect(await failure(nodeA.ipam.releaseIPs({ options: [{ address: ip, handleId: '', sequenceNumber: '' }] }))).toMatchObject({ code: 'permission-denied', message: `node node-a may not release ${ip} of node node-b` });
    expect(await admin.ipam.ipsByHandle({ handleId: 'k8s-pod-network.b1' })).toEqual({ ips: [ip] });
    expect((await admin.ipam.getAssignmentAttributes({ ip })).handleId).toBe('k8s-pod-network.b1');
  });

  it('judges each request of a batch on its own: a foreign one is refused in place, the others are served', async () => {
    const theirs = await nodeB.ipam.autoAssign(autoAssign('node-b', 'k8s-pod-network.b-batch'));
    const assigned = await nodeA.ipam.autoAssignBatch({
      requests: [autoAssign('node-a', 'k8s-pod-network.a-batch1'), autoAssign('node-b', 'k8s-pod-network.a-sneaky'), autoAssign('node-a', 'k8s-pod-network.a-batch2')],
    });
    expect(assigned.outcomes.map((o) => o.error?.code ?? 'ok')).toEqual(['ok', 'permission-denied', 'ok']);
    expect(assigned.outcomes[1]!.error).toEqual({ code: 'permission-denied', message: 'node node-a may not assign addresses for node node-b', retryable: false });
    expect(await failure(admin.ipam.ipsByHandle({ handleId: 'k8s-pod-network.a-sneaky' }))).toMatchObject({ code: 'not-found' });

    const released = await nodeA.ipam.releaseByHandleBatch({
      requests: [{ handleId: 'k8s-pod-network.a-batch1' }, { handleId: 'k8s-pod-network.b-batch' }, { handleId: 'k8s-pod-network.never' }, { handleId: 'k8s-pod-network.a-batch2' }],
    });
    expect(released.outcomes.map((o) => o.error?.code ?? o.response!.released)).toEqual([
      assigned.outcomes[0]!.response!.ipv4!.ips.map((x) => x.split('/')[0]),
      'permission-denied',
      'not-found',
      assigned.outcomes[2]!.response!.ipv4!.ips.map((x) => x.split('/')[0]),
    ]);
    expect(await admin.ipam.ipsByHandle({ handleId: 'k8s-pod-network.b-batch' })).toEqual({ ips: theirs.ipv4!.ips.map((x) => x.split('/')[0]) });
  });

  it("lets a node take over a pod's address whose pod is gone, never another node's address as the same pod, nor a non-pod holder's", async () => {
    const podAttrs = (n: string) => ({ node: n, namespace: 'db', pod: 'db-0', podUid: 'u1' });
    await nodeB.ipam.assignIp({ ip: '10.60.9.1', handleId: 'k8s-pod-network.b-static', attributes: podAttrs('node-b'), hostname: 'node-b', intendedUse: IntendedUse.INTENDED_USE_WORKLOAD });
    await nodeB.ipam.assignIp({ ip: '10.60.9.2', handleId: 'k8s-pod-network.b-plain', attributes: { node: 'node-b' }, hostname: 'node-b', intendedUse: IntendedUse.INTENDED_USE_WORKLOAD });
    const take = (ip: string, from: string, reason: HandOffReason) =>
      nodeA.staticIps.handOff({ ip, fromHandleId: from, handleId: `k8s-pod-network.a-${ip}`, attributes: podAttrs('node-a'), hostname: 'node-a', reason });
    expect(await nodeA.staticIps.getHolder({ ip: '10.60.9.1' })).toMatchObject({ handleId: 'k8s-pod-network.b-static', attributes: podAttrs('node-b') });
    expect(await failure(take('10.60.9.1', 'k8s-pod-network.b-static', HandOffReason.HAND_OFF_REASON_SAME_POD))).toMatchObject({
      code: 'permission-denied',
      message: 'node node-a may not take over 10.60.9.1 of node node-b as the same pod (a pod does not change node)',
    });
    expect(await failure(take('10.60.9.2', 'k8s-pod-network.b-plain', HandOffReason.HAND_OFF_REASON_HOLDER_GONE))).toMatchObject({
      code: 'permission-denied',
      message: 'node node-a may not take over 10.60.9.2: its holder is not a Kubernetes pod',
    });
    expect((await admin.ipam.getAssignmentAttributes({ ip: '10.60.9.1' })).handleId).toBe('k8s-pod-network.b-static');
    expect(await take('10.60.9.1', 'k8s-pod-network.b-static', HandOffReason.HAND_OFF_REASON_HOLDER_GONE)).toEqual({ ip: '10.60.9.1' });
    expect(await admin.ipam.getAssignmentAttributes({ ip: '10.60.9.1' })).toMatchObject({ handleId: 'k8s-pod-network.a-10.60.9.1', attributes: podAttrs('node-a') });
    expect(await failure(admin.ipam.ipsByHandle({ handleId: 'k8s-pod-network.b-static' }))).toMatchObject({ code: 'not-found' });
    const metrics = await (await fetch(`${allocator.metricsUrl}/metrics`)).text();
    expect(metrics).toContain('atoll_static_handoffs_total{reason="holder-gone"} 1');
  });

  it("lets a node watch every node's routes, and refuses a certificate that names no node", async () => {
    const first = (c: AllocatorClients) =>
      new Promise<RouteUpdate | ServiceError>((resolve) => {
        const stream = c.watchRoutes();
        stream.once('data', (m: RouteUpdate) => {
          resolve(m);
          stream.cancel();
        });
        stream.once('error', (err: ServiceError) => resolve(err));
      });
    const snapshot = (await first(nodeA)) as RouteUpdate;
    expect(snapshot.snapshot).toBe(true);
    expect(snapshot.nodes.map((n) => n.name).sort()).toEqual(['node-a', 'node-b']);
    // a stream's error is grpc-js's own ServiceError: status 7, PERMISSION_DENIED
    expect(await first(as(tlsFiles(pki, pki.server)))).toMatchObject({ code: 7 });
  });

  it("keeps a node to its own Node and the pools among resources", async () => {
    await nodeA.resources.apply({ resourceJson: node('node-a', { zone: 'a' }) });
    expect(JSON.parse((await nodeA.resources.get({ kind: 'Node', name: 'node-a' })).resourceJson).metadata.labels).toEqual({ zone: 'a' });
    expect((await nodeA.resources.list({ kind: 'IPPool' })).resourceJson).toHaveLength(1);
    expect(await failure(nodeA.resources.apply({ resourceJson: node('node-b', { zone: 'stolen' }) }))).toMatchObject({ code: 'permission-denied', message: 'node node-a may not apply Node(node-b)' });
    expect(await failure(nodeA.resources.apply({ resourceJson: pool('mine', '10.99.0.0/16') }))).toMatchObject({ code: 'permission-denied', message: 'node node-a may not apply IPPool(mine)' });
    expect(await failure(nodeA.ipam.check({}))).toMatchObject({ code: 'permission-denied', message: 'node node-a may not call Ipam/Check' });
  });

  it('counts refusals in the metrics', async () => {
    const metrics = await (await fetch(`${allocator.metricsUrl}/metrics`)).text();
    expect(metrics).toMatch(/atoll_allocator_rpc_errors_total\{method="releaseByHandle",code="permission-denied"\} [1-9]/);
  });

  it('logs who was refused what, and never certificate or key material', () => {
    const out = allocator.output();
    expect(out).toContain('"identity":"node node-a"');
    expect(out).toContain('request refused by authorization');
    expect(out).toContain('"mtls":true');
    expect(out).not.toContain('PRIVATE KEY');
    expect(out).not.toContain('BEGIN CERTIFICATE');
  });
});

describe('the allocator refusing unsafe or broken TLS configuration', () => {
  it.each<[string, (p: TestPki) => string[], number, string]>([
    ['to listen beyond loopback without mTLS', () => ['--listen', '0.0.0.0:0'], 2, '--listen 0.0.0.0:0 is not a loopback address and mTLS is off: every caller would be an admin. Pass --tls-cert-file, --tls-key-file and --tls-client-ca-file, or --insecure to listen there anyway'],
    ['a missing certificate file', (p) => ['--tls-cert-file', `${p.dir}/missing.crt`, '--tls-key-file', p.server.key], 1, `--tls-cert-file: cannot read "${'DIR'}/missing.crt": no such file`],
    ['a key that is not the certificate\'s', (p) => ['--tls-cert-file', p.server.cert, '--tls-key-file', p.admin.key], 1, '--tls-key-file: '],
  ])('refuses %s with one line naming the flag', async (_what, args, code, message) => {
    const pki = createTestPki();
    try {
      const p = startProcess(binPath('atoll-allocator'), ['--etcd-endpoints', endpoints.join(','), '--metrics-listen', '127.0.0.1:0', ...args(pki)]);
      expect(await p.exited).toBe(code);
      expect(p.output()).toContain(message.replace('DIR', pki.dir));
      expect(p.output()).not.toContain('PRIVATE KEY');
    } finally {
      pki.remove();
    }
  });
});

describe('the allocator with etcd over TLS', () => {
  let pki: TestPki;
  let etcd: Awaited<ReturnType<typeof startEtcdCluster>>;
  let client: CertFiles;

  beforeAll(async () => {
    pki = createTestPki();
    client = pki.issue('etcd-client', { subject: '/CN=atoll-allocator' });
    etcd = await startEtcdCluster({ tls: { certFile: pki.server.cert, keyFile: pki.server.key, caFile: pki.ca.cert, clientCertFile: client.cert, clientKeyFile: client.key } });
  }, 30_000);
  afterAll(async () => {
    await etcd?.stop();
    pki?.remove();
  });

  it('serves an allocation from an https etcd with its client certificate', async () => {
    const p = await startAllocatorProcess({ etcdEndpoints: etcd.endpoints, extraArgs: ['--etcd-ca-file', pki.ca.cert, '--etcd-cert-file', client.cert, '--etcd-key-file', client.key] });
    const c = connectAllocator(p.address);
    try {
      expect(etcd.endpoints[0]).toMatch(/^https:/);
      await c.resources.apply({ resourceJson: pool('p', '10.70.0.0/24') });
      await c.resources.apply({ resourceJson: node('n') });
      const r = await c.ipam.autoAssign(autoAssign('n', 'over-tls'));
      expect(r.ipv4!.ips[0]).toMatch(/^10\.70\.0\.\d+\/26$/);
      expect((await fetch(`${p.metricsUrl}/readyz`)).status).toBe(200);
    } finally {
      c.close();
      await p.stop('SIGTERM');
    }
    expect(p.output()).not.toContain('PRIVATE KEY');
    expect(p.output()).not.toContain('BEGIN CERTIFICATE');
  });

  it('cannot reach etcd without the client certificate: stays up, not ready, and says why', async () => {
    const p = await startAllocatorProcess({ etcdEndpoints: etcd.endpoints, extraArgs: ['--etcd-ca-file', pki.ca.cert], waitForReady: false });
    const c = connectAllocator(p.address);
    try {
      expect((await fetch(`${p.metricsUrl}/readyz`)).status).toBe(503);
      await expect(c.ipam.getUtilization({ poolNames: [] })).rejects.toMatchObject({ code: 'unavailable', retryable: true });
      for (let i = 0; i < 50 && !/cannot read pools from etcd yet/.test(p.output()); i++) await new Promise((r) => setTimeout(r, 100));
      expect(p.output()).toMatch(/cannot read pools from etcd yet/);
    } finally {
      c.close();
      await p.stop('SIGKILL');
    }
  });
});
