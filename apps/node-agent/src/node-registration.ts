import { isDeepStrictEqual } from 'node:util';
import type { AllocatorClients } from '@atoll/api';
import { parseJsonLossless, stringifyJsonLossless, type Node, type NodeSpec } from '@atoll/model';
import type { NodeAddresses } from './routing/routing-config';

// The agent keeps its Calico Node resource (labels for pools' nodeSelector, orchRefs,
// addresses other nodes route to, tunnel addresses) current through the allocator. Writes are read-modify-write of the
// whole resource, serialised inside the agent so label and tunnel updates never race.

type Resources = Pick<AllocatorClients['resources'], 'get' | 'apply'>;

export class NodeRecord {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly resources: Resources,
    readonly nodeName: string,
  ) {}

  /**
   * Applies `change` to the current Node (or a new one) and stores it — unless it changes
   * nothing: every write is an etcd revision, and every agent re-registers on each resync.
   */
  update(change: (node: Node) => Node): Promise<Node> {
    const next = this.chain.then(async () => {
      const { node: current, stored: exists } = await this.readStored();
      const updated = change(structuredClone(current));
      if (exists && isDeepStrictEqual(updated, current)) return current;
      const { resourceVersion: _rv, ...metadata } = updated.metadata;
      const stored = await this.resources.apply({ resourceJson: stringifyJsonLossless({ ...updated, metadata }) });
      return parseJsonLossless(stored.resourceJson) as unknown as Node;
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  async read(): Promise<Node> {
    return (await this.readStored()).node;
  }

  /** The stored Node, or a new one (`stored` false) when there is none yet. */
  private async readStored(): Promise<{ node: Node; stored: boolean }> {
    try {
      const r = await this.resources.get({ kind: 'Node', name: this.nodeName });
      return { node: parseJsonLossless(r.resourceJson) as unknown as Node, stored: true };
    } catch (err) {
      if ((err as { code?: string }).code !== 'not-found') throw err;
      return { node: { apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: this.nodeName }, spec: {} }, stored: false };
    }
  }

  /**
   * Registers the node with these labels; with Kubernetes, names it in orchRefs. Known
   * `addresses` become `spec.bgp.ipv4Address` / `ipv6Address` exactly (a family not given
   * is removed); undefined leaves them as they are.
   */
  register(labels: Readonly<Record<string, string>>, orchestrator: 'k8s' | undefined, addresses?: NodeAddresses): Promise<Node> {
    return this.update((node) => {
      const spec = { ...node.spec, ...(orchestrator && { orchRefs: [{ nodeName: this.nodeName, orchestrator }] }) };
      return { ...node, metadata: { ...node.metadata, labels: { ...labels } }, spec: addresses ? withAddresses(spec, addresses) : spec };
    });
  }
}

/** `spec.bgp` with these addresses, other BGP fields kept; no `bgp` at all when it would be empty (Calico refuses an empty one). */
function withAddresses(spec: NodeSpec, addresses: NodeAddresses): NodeSpec {
  const { ipv4Address: _v4, ipv6Address: _v6, ...rest } = spec.bgp ?? {};
  const bgp = { ...rest, ...(addresses.ipv4 && { ipv4Address: addresses.ipv4 }), ...(addresses.ipv6 && { ipv6Address: addresses.ipv6 }) };
  const { bgp: _old, ...withoutBgp } = spec;
  return Object.keys(bgp).length > 0 ? { ...withoutBgp, bgp } : withoutBgp;
}
