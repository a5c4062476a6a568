import { ExplainService, HandOffReason, HistoryService, IpamService, MigrationService, ResourcesService, StaticIpsService } from '@atoll/api';
import type { Identity } from './identity';
import { authorize, NODE_RULES, type AllocationOwners, type ServiceName } from './policy';

// The authorization table, method by method and identity by identity, against a fixed
// picture of who owns what.
const HANDLES: Record<string, (string | undefined)[]> = {
  'k8s-pod-network.a': ['node-a'],
  'k8s-pod-network.b': ['node-b'],
  'atoll-sticky-idle.db.db.0': ['node-b'],
  'k8s-pod-network.mixed': ['node-a', 'node-b'],
  'k8s-pod-network.nobody': [undefined],
};
const ADDRESSES: Record<string, string | undefined> = { '10.0.0.1': 'node-a', '10.0.0.2': 'node-b', '10.0.0.4': undefined };
/** Addresses held by Kubernetes pods (namespace and pod recorded), by node. */
const POD_ADDRESSES: Record<string, string> = { '10.0.0.5': 'node-a', '10.0.0.6': 'node-b' };

const owners: AllocationOwners = {
  nodesOfHandle: async (h) => HANDLES[h] ?? [],
  ownerOfAddress: async (ip): ReturnType<AllocationOwners['ownerOfAddress']> => {
    if (ip in POD_ADDRESSES) return { allocated: true, node: POD_ADDRESSES[ip], attributes: { node: POD_ADDRESSES[ip]!, namespace: 'db', pod: 'db-0' } };
    return ip in ADDRESSES ? { allocated: true, node: ADDRESSES[ip], attributes: ADDRESSES[ip] ? { node: ADDRESSES[ip]! } : {} } : { allocated: false };
  },
};

const ADMIN: Identity = { kind: 'admin', name: 'atoll-admin' };
const NODE_A: Identity = { kind: 'node', node: 'node-a' };
const STRANGER: Identity = { kind: 'unrecognised', subject: 'CN=someone' };
const ANONYMOUS: Identity = { kind: 'anonymous' };

const DEFINITIONS = { Ipam: IpamService, Resources: ResourcesService, StaticIps: StaticIpsService, History: HistoryService, Explain: ExplainService, Migration: MigrationService } as const;
const rpcOf = (service: ServiceName, method: string) => (DEFINITIONS[service] as Record<string, { path: string }>)[method]!.path.split('/').pop()!;

async function outcome(identity: Identity, service: ServiceName, method: string, request: unknown): Promise<string> {
  try {
    await authorize(identity, { service, method, rpc: rpcOf(service, method), request }, owners);
    return 'allowed';
  } catch (err) {
    const e = err as { code?: string; message: string };
    return `${e.code}: ${e.message}`;
  }
}

const assign = (extra: Record<string, unknown> = {}) => ({ num4: 1, num6: 0, handleId: 'k8s-pod-network.new', attributes: { node: 'node-a' }, hostname: 'node-a', ipv4Pools: [], ipv6Pools: [], ...extra });
const resource = (kind: string, name: string) => ({ resourceJson: JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind, metadata: { name }, spec: {} }) });
const methods = (service: ServiceName) => Object.keys(DEFINITIONS[service]);
const handOff = (ip: string, reason: HandOffReason, extra: Record<string, unknown> = {}) => ({
  ip,
  fromHandleId: 'k8s-pod-network.old',
  handleId: 'k8s-pod-network.new',
  attributes: { node: 'node-a', namespace: 'db', pod: 'db-0' },
  hostname: 'node-a',
  reason,
  ...extra,
});
const SAME_POD = HandOffReason.HAND_OFF_REASON_SAME_POD;
const HOLDER_GONE = HandOffReason.HAND_OFF_REASON_HOLDER_GONE;

describe('the authorization table', () => {
  describe.each(['Ipam', 'Resources', 'StaticIps', 'History', 'Explain', 'Migration'] as const)('every %s method', (service) => {
    it.each(methods(service))('is open to an admin: %s', async (method) => {
      expect(await outcome(ADMIN, service, method, {})).toBe('allowed');
    });

    it.each(methods(service))('is closed to a certificate that names neither a node nor an admin: %s', async (method) => {
      expect(await outcome(STRANGER, service, method, {})).toMatch(/^permission-denied: the client CN=someone is neither a node .* nor an admin .* and may not call /);
    });

    it.each(methods(service))('is closed to a caller without a certificate when mTLS is on: %s', async (method) => {
      expect(await outcome(ANONYMOUS, service, method, {})).toBe(`unauthenticated: a client certificate is required to call ${service}/${rpcOf(service, method)}`);
    });
  });

  const unlistedForNodes = (['Ipam', 'Resources', 'StaticIps', 'History', 'Explain', 'Migration'] as const).flatMap((service) => methods(service).filter((m) => !(m in NODE_RULES[service])).map((m) => [service, m] as const));
  it.each(unlistedForNodes)('closes %s/%s to a node because the node table does not name it', async (service, method) => {
    expect(await outcome(NODE_A, service, method, {})).toBe(`permission-denied: node node-a may not call ${service}/${rpcOf(service, method)}`);
  });

  it.each<[string, ServiceName, string, unknown, string]>([
    ['a node may auto-assign addresses for itself', 'Ipam', 'autoAssign', assign(), 'allowed'],
    ['a node may add addresses to a handle that is already its own', 'Ipam', 'autoAssign', assign({ handleId: 'k8s-pod-network.a' }), 'allowed'],
    ['a node may not auto-assign for another node', 'Ipam', 'autoAssign', assign({ hostname: 'node-b' }), 'permission-denied: node node-a may not assign addresses for node node-b'],
    ['a node may not record another node in the attributes', 'Ipam', 'autoAssign', assign({ attributes: { node: 'node-b' } }), 'permission-denied: node node-a may not assign addresses with the attribute node=node-b'],
    ['a node must record itself in the attributes', 'Ipam', 'autoAssign', assign({ attributes: {} }), 'permission-denied: node node-a may not assign addresses without the attribute node=node-a'],
    ['a node may not add addresses to another node\'s handle', 'Ipam', 'autoAssign', assign({ handleId: 'k8s-pod-network.b' }), 'permission-denied: node node-a may not assign addresses under handle k8s-pod-network.b of node node-b'],
    ['a node may assign a specific address for itself', 'Ipam', 'assignIp', { ip: '10.0.0.9', handleId: 'k8s-pod-network.new', attributes: { node: 'node-a' }, hostname: 'node-a' }, 'allowed'],
    ['a node may not assign a specific address for another node', 'Ipam', 'assignIp', { ip: '10.0.0.9', handleId: 'h', attributes: { node: 'node-b' }, hostname: 'node-b' }, 'permission-denied: node node-a may not assign 10.0.0.9 for node node-b'],
    ['a node may release its own handle', 'Ipam', 'releaseByHandle', { handleId: 'k8s-pod-network.a' }, 'allowed'],
    ['a node may not release another node\'s handle', 'Ipam', 'releaseByHandle', { handleId: 'k8s-pod-network.b' }, 'permission-denied: node node-a may not release handle k8s-pod-network.b of node node-b'],
    ['a node may not release a handle it shares with another node', 'Ipam', 'releaseByHandle', { handleId: 'k8s-pod-network.mixed' }, 'permission-denied: node node-a may not release handle k8s-pod-network.mixed of node node-b'],
    ['a node may not release a handle whose addresses name no node', 'Ipam', 'releaseByHandle', { handleId: 'k8s-pod-network.nobody' }, 'permission-denied: node node-a may not release handle k8s-pod-network.nobody of no node'],
    ['a node releasing a handle without addresses hears not-found, as for a missing handle', 'Ipam', 'releaseByHandle', { handleId: 'k8s-pod-network.gone' }, 'not-found: resource does not exist: IPAMHandle(k8s-pod-network.gone)'],
    ['a node may read its own handle', 'Ipam', 'ipsByHandle', { handleId: 'k8s-pod-network.a' }, 'allowed'],
    ['a node may ask for a handle that does not exist', 'Ipam', 'ipsByHandle', { handleId: 'k8s-pod-network.gone' }, 'allowed'],
    ['a node may not read another node\'s handle', 'Ipam', 'ipsByHandle', { handleId: 'k8s-pod-network.b' }, 'permission-denied: node node-a may not read handle k8s-pod-network.b of node node-b'],
    ['a node may read a sticky pod identity\'s handle whose address another node last used (the pod moved)', 'Ipam', 'ipsByHandle', { handleId: 'atoll-sticky-idle.db.db.0' }, 'allowed'],
    ['a node may not release a sticky handle of another node', 'Ipam', 'releaseByHandle', { handleId: 'atoll-sticky-idle.db.db.0' }, 'permission-denied: node node-a may not release handle atoll-sticky-idle.db.db.0 of node node-b'],
    ['a node may release its own addresses', 'Ipam', 'releaseIPs', { options: [{ address: '10.0.0.1', handleId: '', sequenceNumber: '' }] }, 'allowed'],
    ['a node may release a free address when it names the handle', 'Ipam', 'releaseIPs', { options: [{ address: '10.0.0.3', handleId: 'k8s-pod-network.a', sequenceNumber: '' }] }, 'allowed'],
    ['a node may not release a free address without naming the handle', 'Ipam', 'releaseIPs', { options: [{ address: '10.0.0.3', handleId: '', sequenceNumber: '' }] }, 'permission-denied: node node-a may not release 10.0.0.3 without naming its handle (it is not allocated)'],
    ['a node may not release another node\'s address, even among its own', 'Ipam', 'releaseIPs', { options: [{ address: '10.0.0.1', handleId: '', sequenceNumber: '' }, { address: '10.0.0.2', handleId: '', sequenceNumber: '' }] }, 'permission-denied: node node-a may not release 10.0.0.2 of node node-b'],
    ['a node may read the attributes of its own address', 'Ipam', 'getAssignmentAttributes', { ip: '10.0.0.1' }, 'allowed'],
    ['a node may ask about a free address', 'Ipam', 'getAssignmentAttributes', { ip: '10.0.0.3' }, 'allowed'],
    ['a node may not read the attributes of another node\'s address', 'Ipam', 'getAssignmentAttributes', { ip: '10.0.0.2' }, 'permission-denied: node node-a may not read the attributes of 10.0.0.2 of node node-b'],
    ['a node may not read the attributes of an address that names no node', 'Ipam', 'getAssignmentAttributes', { ip: '10.0.0.4' }, 'permission-denied: node node-a may not read the attributes of 10.0.0.4 of no node'],
    ['a node may list its own allocations', 'Ipam', 'listAllocations', { node: 'node-a', handlePrefix: 'k8s-pod-network.' }, 'allowed'],
    ['a node may not list another node\'s allocations', 'Ipam', 'listAllocations', { node: 'node-b', handlePrefix: '' }, 'permission-denied: node node-a may not list the allocations of node node-b'],
    ['a node may not list every node\'s allocations', 'Ipam', 'listAllocations', { node: '', handlePrefix: '' }, 'permission-denied: node node-a may not list the allocations of every node'],
    ['a node may read the IPAM configuration', 'Ipam', 'getIpamConfig', {}, 'allowed'],
    ['a node may watch the cluster\'s routes', 'Ipam', 'watchRoutes', {}, 'allowed'],
    ['a node may not change the IPAM configuration', 'Ipam', 'setIpamConfig', { strictAffinity: true }, 'permission-denied: node node-a may not call Ipam/SetIPAMConfig'],
    ['a node may not claim block affinities, even for itself', 'Ipam', 'claimAffinity', { cidr: '10.0.0.0/26', host: 'node-a' }, 'permission-denied: node node-a may not call Ipam/ClaimAffinity'],
    ['a node may get an IPPool', 'Resources', 'get', { kind: 'IPPool', name: 'default' }, 'allowed'],
    ['a node may list IPPools', 'Resources', 'list', { kind: 'IPPool' }, 'allowed'],
    ['a node may get its own Node', 'Resources', 'get', { kind: 'Node', name: 'node-a' }, 'allowed'],
    ['a node may not get another Node', 'Resources', 'get', { kind: 'Node', name: 'node-b' }, 'permission-denied: node node-a may not get Node(node-b)'],
    ['a node may not get an IPReservation', 'Resources', 'get', { kind: 'IPReservation', name: 'r' }, 'permission-denied: node node-a may not get IPReservation(r)'],
    ['a node may not list Nodes', 'Resources', 'list', { kind: 'Node' }, 'permission-denied: node node-a may not list Node'],
    ['a node may apply its own Node', 'Resources', 'apply', resource('Node', 'node-a'), 'allowed'],
    ['a node may not apply another Node', 'Resources', 'apply', resource('Node', 'node-b'), 'permission-denied: node node-a may not apply Node(node-b)'],
    ['a node may not apply an IPPool', 'Resources', 'apply', resource('IPPool', 'mine'), 'permission-denied: node node-a may not apply IPPool(mine)'],
    ['a node may not create, even its own Node', 'Resources', 'create', resource('Node', 'node-a'), 'permission-denied: node node-a may not create Node(node-a)'],
    ['a node may not delete, even its own Node', 'Resources', 'delete', { kind: 'Node', name: 'node-a' }, 'permission-denied: node node-a may not delete Node(node-a)'],
    ['a node applying text that is not JSON is told so', 'Resources', 'apply', { resourceJson: '{' }, 'invalid-argument: resource_json is not valid JSON: Expected property name or \'}\' in JSON at position 1'],
    ['a node may ask who holds any address', 'StaticIps', 'getHolder', { ip: '10.0.0.2' }, 'allowed'],
    ['a node may take over its own earlier sandbox\'s address for the same pod', 'StaticIps', 'handOff', handOff('10.0.0.5', SAME_POD), 'allowed'],
    ['a node may not take over another node\'s address as the same pod', 'StaticIps', 'handOff', handOff('10.0.0.6', SAME_POD), 'permission-denied: node node-a may not take over 10.0.0.6 of node node-b as the same pod (a pod does not change node)'],
    ['a node may take over another node\'s pod address whose pod is gone', 'StaticIps', 'handOff', handOff('10.0.0.6', HOLDER_GONE), 'allowed'],
    ['a node may not take over an address whose holder is not a pod', 'StaticIps', 'handOff', handOff('10.0.0.2', HOLDER_GONE), 'permission-denied: node node-a may not take over 10.0.0.2: its holder is not a Kubernetes pod'],
    ['a node may not take over an address for another node', 'StaticIps', 'handOff', handOff('10.0.0.6', HOLDER_GONE, { hostname: 'node-b' }), 'permission-denied: node node-a may not take over 10.0.0.6 for node node-b'],
    ['a node may not take over an address into another node\'s handle', 'StaticIps', 'handOff', handOff('10.0.0.6', HOLDER_GONE, { handleId: 'k8s-pod-network.b' }), 'permission-denied: node node-a may not take over 10.0.0.6 under handle k8s-pod-network.b of node node-b'],
  ])('%s', async (_sentence, service, method, request, expected) => {
    expect(await outcome(NODE_A, service, method, request)).toBe(expected);
  });

  it('gives nodes no rule for a method that does not exist in the services', () => {
    for (const service of ['Ipam', 'Resources', 'StaticIps'] as const) {
      expect(Object.keys(NODE_RULES[service]).filter((m) => !methods(service).includes(m))).toEqual([]);
    }
  });
});
