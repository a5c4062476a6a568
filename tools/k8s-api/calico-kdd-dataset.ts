import http from 'node:http';
import { calicoHostnameHash, stringifyJsonLossless } from '@atoll/model';

// A Calico-written Kubernetes-datastore IPAM dataset of realistic shape, built the way
// Calico's own clients write the objects (names derived from CIDRs, affinity labels,
// `deleted` as a string on affinities, sequence numbers from UnixNano far above 2^53), and
// a loader that POSTs it to a Kubernetes API (the stand-in) as custom resources.

export interface CalicoKddDatasetOptions {
  readonly nodes?: number;
  readonly blocks?: number;
  readonly allocations?: number;
}

export interface KddObject {
  readonly plural: string;
  readonly body: Record<string, unknown>;
}

export interface CalicoKddDataset {
  readonly objects: readonly KddObject[];
  /** Kubernetes Nodes (with tunnel-address annotations on every node). */
  readonly nodes: readonly Record<string, unknown>[];
  /** Pod allocations: address, handle, node (of the pod), the block's own node, and pod name. */
  readonly pods: readonly { address: string; handleId: string; node: string; blockNode: string | null; namespace: string; pod: string }[];
  readonly counts: { pools: number; reservations: number; blocks: number; affinities: number; handles: number; allocations: number; borrowed: number };
  /** The block whose affinity is pendingDeletion (its block no longer names an owner). */
  readonly pendingDeletionBlock: string;
}

const API = 'crd.projectcalico.org/v1';
const SEQ_BASE = 1786000000000000000n; // time.Now().UnixNano() in 2026

const obj = (plural: string, kind: string, name: string, spec: Record<string, unknown>, labels?: Record<string, string>): KddObject => ({
  plural,
  body: { apiVersion: API, kind, metadata: { name, ...(labels && { labels }) }, spec },
});

/** Blocks of pool 10.<pool>.0.0/16, /26 each: the n-th block's base address. */
function v4Block(poolOctet: number, n: number): { cidr: string; name: string; base: [number, number, number, number] } {
  const third = Math.floor(n / 4);
  const fourth = (n % 4) * 64;
  return { cidr: `10.${poolOctet}.${third}.${fourth}/26`, name: `10-${poolOctet}-${third}-${fourth}-26`, base: [10, poolOctet, third, fourth] };
}

export function calicoKddDataset(opts: CalicoKddDatasetOptions = {}): CalicoKddDataset {
  const nodeCount = opts.nodes ?? 50;
  const blockCount = opts.blocks ?? 300;
  const allocationCount = opts.allocations ?? 10_000;
  const objects: KddObject[] = [];
  const nodeName = (i: number) => `node-${String(i).padStart(2, '0')}`;

  const poolSpec = (cidr: string, extra: Record<string, unknown> = {}) => ({
    cidr,
    blockSize: 26,
    ipipMode: 'Never',
    vxlanMode: 'Never',
    natOutgoing: true,
    nodeSelector: 'all()',
    allowedUses: ['Workload', 'Tunnel'],
    ...extra,
  });
  objects.push(obj('ippools', 'IPPool', 'default-ipv4-ippool', poolSpec('10.0.0.0/16', { ipipMode: 'Always' })));
  objects.push(obj('ippools', 'IPPool', 'second-ipv4-ippool', poolSpec('10.1.0.0/16')));
  objects.push(obj('ippools', 'IPPool', 'manual-ipv4-ippool', poolSpec('10.2.0.0/16', { nodeSelector: '!all()', allowedUses: ['Workload'] })));
  objects.push(obj('ipreservations', 'IPReservation', 'keep-gateways', { reservedCIDRs: ['10.0.255.0/24', '10.1.255.254/32'] }));
  objects.push(obj('ipreservations', 'IPReservation', 'keep-manual', { reservedCIDRs: ['10.2.0.0/28'] }));
  objects.push(obj('ipamconfigs', 'IPAMConfig', 'default', { strictAffinity: false, autoAllocateBlocks: true }));

  // Blocks: round-robin over nodes; each round takes the other automatic pool, so every
  // node holds blocks in both.
  interface Block {
    cidr: string;
    name: string;
    base: [number, number, number, number];
    owner: string | null;
    allocations: (number | null)[];
    attributes: Record<string, unknown>[];
    seqFor: Record<string, bigint>;
    seq: bigint;
  }
  const blocks: Block[] = [];
  const perPool = [0, 0];
  for (let i = 0; i < blockCount; i++) {
    const pool = Math.floor(i / nodeCount) % 2;
    const b = v4Block(pool, perPool[pool]!++);
    blocks.push({ ...b, owner: nodeName(i % nodeCount), allocations: new Array(64).fill(null), attributes: [], seqFor: {}, seq: SEQ_BASE + BigInt(i) * 1_000_003n });
  }
  const pendingDeletion = blocks[blocks.length - 1]!;
  const pendingNode = pendingDeletion.owner!;

  const handles = new Map<string, Record<string, number>>();
  const pods: CalicoKddDataset['pods'][number][] = [];
  const allocate = (b: Block, attr: Record<string, unknown>, handleId: string): string => {
    const ord = b.allocations.indexOf(null);
    b.allocations[ord] = b.attributes.length;
    b.attributes.push(attr);
    b.seqFor[String(ord)] = b.seq;
    b.seq += 1n;
    const counts = handles.get(handleId) ?? {};
    counts[b.cidr] = (counts[b.cidr] ?? 0) + 1;
    handles.set(handleId, counts);
    return `${b.base[0]}.${b.base[1]}.${b.base[2]}.${b.base[3] + ord}`;
  };

  // One IPIP tunnel address per node, in the node's first block.
  const nodes: Record<string, unknown>[] = [];
  for (let n = 0; n < nodeCount; n++) {
    const node = nodeName(n);
    const first = blocks.find((b) => b.owner === node)!;
    const handleId = `ipip-tunnel-addr-${node}`;
    const address = allocate(first, { handle_id: handleId, secondary: { node, type: 'ipipTunnelAddress' } }, handleId);
    nodes.push({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: node, labels: { 'kubernetes.io/hostname': node, 'kubernetes.io/os': 'linux' }, annotations: { 'projectcalico.org/IPv4IPIPTunnelAddr': address } },
      spec: {},
      status: { addresses: [{ type: 'InternalIP', address: `192.0.2.${n + 1}` }] },
    });
  }

  // Pods: spread over every block; every 23rd borrows from a block of the next node.
  let borrowed = 0;
  const podCount = allocationCount - nodeCount;
  for (let p = 0; p < podCount; p++) {
    const b = blocks[p % blocks.length]!;
    if (!b.allocations.includes(null)) throw new Error('dataset does not fit: more allocations than block space');
    const isBorrowed = p % 23 === 0 && b !== pendingDeletion;
    const blockNode = b.owner!;
    const node = isBorrowed ? nodeName((Number(blockNode.slice(5)) + 1) % nodeCount) : blockNode;
    if (isBorrowed) borrowed++;
    const cid = p.toString(16).padStart(12, '0') + 'c0ffee';
    const handleId = `k8s-pod-network.${cid}`;
    const namespace = `team-${p % 7}`;
    const pod = `app-${p}`;
    const address = allocate(b, { handle_id: handleId, secondary: { namespace, node, pod, timestamp: `2026-11-0${1 + (p % 9)} 10:00:00.${String(p).padStart(9, '0')} +0000 UTC` } }, handleId);
    pods.push({ address, handleId, node, blockNode, namespace, pod });
  }

  // The last block is being released by its node: Calico wrote the affinity
  // pendingDeletion, then cleared the (non-empty) block's owner, and stopped there.
  pendingDeletion.owner = null;

  for (const b of blocks) {
    const unallocated = b.allocations.map((a, i) => (a === null ? i : -1)).filter((i) => i >= 0);
    objects.push(
      obj('ipamblocks', 'IPAMBlock', b.name, {
        cidr: b.cidr,
        ...(b.owner !== null && { affinity: `host:${b.owner}`, affinityClaimTime: '2026-10-01T08:00:00Z' }),
        allocations: b.allocations,
        unallocated,
        attributes: b.attributes,
        sequenceNumber: b.seq,
        sequenceNumberForAllocation: b.seqFor,
        deleted: false,
        strictAffinity: false,
      }),
    );
    const node = b.owner ?? pendingNode;
    objects.push(
      obj(
        'blockaffinities',
        'BlockAffinity',
        `${node}-${b.name}`,
        { state: b.owner === null ? 'pendingDeletion' : 'confirmed', node, type: 'host', cidr: b.cidr, deleted: 'false' },
        { 'projectcalico.org/hostname-hash': calicoHostnameHash(node), 'projectcalico.org/affinity-type': 'host', 'projectcalico.org/ip-version': '4' },
      ),
    );
  }
  for (const [handleId, block] of handles) objects.push(obj('ipamhandles', 'IPAMHandle', handleId.toLowerCase(), { handleID: handleId, block, deleted: false }));

  return {
    objects,
    nodes,
    pods,
    counts: { pools: 3, reservations: 2, blocks: blocks.length, affinities: blocks.length, handles: handles.size, allocations: allocationCount, borrowed },
    pendingDeletionBlock: pendingDeletion.cidr,
  };
}

function post(baseUrl: string, path: string, body: unknown, agent: http.Agent): Promise<void> {
  const text = stringifyJsonLossless(body);
  return new Promise((resolve, reject) => {
    const req = http.request(`${baseUrl}${path}`, { method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) } }, (res) => {
      let answer = '';
      res.on('data', (d: Buffer) => (answer += d.toString()));
      res.on('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`POST ${path}: ${res.statusCode} ${answer}`))));
    });
    req.on('error', reject);
    req.end(text);
  });
}

/** Creates every object of the dataset (and its Nodes) through the API's HTTP interface. */
export async function loadCalicoKddDataset(baseUrl: string, data: Pick<CalicoKddDataset, 'objects' | 'nodes'>, concurrency = 16): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  try {
    const jobs = [...data.nodes.map((n) => () => post(baseUrl, '/api/v1/nodes', n, agent)), ...data.objects.map((o) => () => post(baseUrl, `/apis/${API}/${o.plural}`, o.body, agent))];
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < jobs.length) await jobs[next++]!();
      }),
    );
  } finally {
    agent.destroy();
  }
}
