import { connectAllocator, RpcError, type AllocatorClients } from '@atoll/api';
import { cleanupNetnsWithPrefix, DemoCluster } from '@atoll/test-tools';
import { caseTest, expand, loadCorpus, messagesOf } from './support/corpus';

// The allocator's gRPC API called directly (connectAllocator from @atoll/api), as a node
// agent or atollctl would, with missing, malformed and out-of-range fields. Each call must
// be refused with its stable Atoll error code (`atoll-error-code`), a message naming the
// problem, and leave allocations, handles, affinities, resources and settings unchanged.
const PREFIX = 'atoll-e2g-';

interface GrpcInput {
  readonly service: 'ipam' | 'resources';
  readonly method: string;
  /** Merged over a valid request for the method (DEFAULTS). */
  readonly request: Record<string, unknown>;
}

const DEFAULTS: Record<string, Record<string, unknown>> = {
  autoAssign: { num4: 1, num6: 0, handleId: '$HANDLE', attributes: { node: 'node-1' }, hostname: 'node-1', ipv4Pools: [], ipv6Pools: [], maxBlocksPerHost: 0, intendedUse: 'INTENDED_USE_WORKLOAD', namespaceLabels: {}, allOrNothing: true },
  assignIp: { ip: '10.88.3.3', handleId: '$HANDLE', attributes: { node: 'node-1' }, hostname: 'node-1', intendedUse: 'INTENDED_USE_WORKLOAD' },
};

const KINDS = ['IPPool', 'IPReservation', 'IPAMConfiguration', 'Node'];

describe('hostile calls to the allocator gRPC API', () => {
  let cluster: DemoCluster;
  let client: AllocatorClients;
  let seq = 0;

  const datastoreState = async () => {
    const [listed, check, config, ...lists] = await Promise.all([
      client.ipam.listAllocations({ node: '', handlePrefix: '' }),
      client.ipam.check({}),
      client.ipam.getIpamConfig({}),
      ...KINDS.map((kind) => client.resources.list({ kind })),
    ]);
    return {
      allocations: listed.allocations.map((a) => `${a.address} ${a.handleId}`).sort(),
      handles: check.handles,
      affinities: check.affinities,
      problems: check.problems,
      config,
      resources: lists.map((l) => [...l.resourceJson].sort()),
    };
  };

  beforeAll(async () => {
    await cleanupNetnsWithPrefix(PREFIX);
    cluster = await DemoCluster.start({ prefix: PREFIX, nodes: ['node-1'] });
    client = connectAllocator(cluster.allocator.address, { defaultTimeoutMs: 30_000 });
    const pool = (name: string, cidr: string) => JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec: { cidr } });
    await client.resources.apply({ resourceJson: pool('base-v4', '10.88.0.0/16') });
    await client.resources.apply({ resourceJson: pool('base-v6', 'fd00:88::/64') });
    await client.ipam.assignIp({ ip: '10.88.255.1', handleId: 'k8s-pod-network.holder', attributes: { node: 'node-1' }, hostname: 'node-1', intendedUse: DEFAULTS['assignIp']!['intendedUse'] as never });
  }, 120_000);

  afterAll(async () => {
    client?.close();
    await cluster?.stop();
    expect(await cleanupNetnsWithPrefix(PREFIX)).toEqual([]);
  });

  /** After a defect: releases handles and deletes resources the refused call created. */
  const undo = async (before: Awaited<ReturnType<typeof datastoreState>>, after: Awaited<ReturnType<typeof datastoreState>>) => {
    const handles = new Set(after.allocations.filter((a) => !before.allocations.includes(a)).map((a) => a.split(' ')[1]!));
    for (const handleId of handles) await client.ipam.releaseByHandle({ handleId }).catch(() => undefined);
    for (const [i, kind] of KINDS.entries()) {
      const had = new Set(before.resources[i]!.map((j) => (JSON.parse(j) as { metadata: { name: string } }).metadata.name));
      for (const j of after.resources[i]!) {
        const name = (JSON.parse(j) as { metadata: { name: string } }).metadata.name;
        if (!had.has(name)) await client.resources.delete({ kind, name }).catch(() => undefined);
      }
    }
  };

  const corpus = loadCorpus<GrpcInput>('grpc.json');
  describe(corpus.description, () => {
    for (const c of corpus.cases) {
      caseTest(c)(`refuses ${c.name} with ${c.expect.code}${c.knownBug ? ` (known bug: ${c.knownBug})` : ''}`, async () => {
        const input = expand(c.input, { HANDLE: `hostile-grpc.${++seq}` }) as GrpcInput;
        const request = { ...(expand(DEFAULTS[input.method] ?? {}, { HANDLE: `hostile-grpc.${seq}` }) as object), ...input.request };
        const service = client[input.service] as unknown as Record<string, (req: unknown, opts?: { timeoutMs?: number }) => Promise<unknown>>;
        expect(typeof service[input.method]).toBe('function');
        const before = await datastoreState();
        const outcome = await service[input.method]!(request, { timeoutMs: 30_000 }).then(
          (response) => ({ response }),
          (error: unknown) => ({ error }),
        );
        const after = await datastoreState();
        if (JSON.stringify(after) !== JSON.stringify(before)) await undo(before, after);
        expect(outcome).toHaveProperty('error');
        const error = (outcome as { error: unknown }).error;
        expect(error).toBeInstanceOf(RpcError);
        expect({ code: (error as RpcError).code, message: (error as RpcError).message }).toMatchObject({ code: c.expect.code });
        for (const part of messagesOf(c.expect)) expect((error as RpcError).message).toContain(part);
        expect(after).toEqual(before);
      });
    }
  });
});
