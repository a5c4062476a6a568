import type { AllocatorClients } from '@atoll/api';
import { parseJsonLossless, stringifyJsonLossless, type Node } from '@atoll/model';

// The agent keeps its Calico Node resource (labels for pools' nodeSelector, orchRefs,
// tunnel addresses) current through the allocator. Writes are read-modify-write of the
// whole resource, serialised inside the agent so label and tunnel updates never race.

type Resources = Pick<AllocatorClients['resources'], 'get' | 'apply'>;

export class NodeRecord {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly resources: Resources,
    readonly nodeName: string,
  ) {}

  /** Applies `change` to the current Node (or a new one) and stores it. */
  update(change: (node: Node) => Node): Promise<Node> {
    const next = this.chain.then(async () => {
      const current = await this.read();
      const updated = change(structuredClone(current));
      const { resourceVersion: _rv, ...metadata } = updated.metadata;
      const stored = await this.resources.apply({ resourceJson: stringifyJsonLossless({ ...updated, metadata }) });
      return parseJsonLossless(stored.resourceJson) as unknown as Node;
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  async read(): Promise<Node> {
    try {
      const r = await this.resources.get({ kind: 'Node', name: this.nodeName });
      return parseJsonLossless(r.resourceJson) as unknown as Node;
    } catch (err) {
      if ((err as { code?: string }).code !== 'not-found') throw err;
      return { apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: this.nodeName }, spec: {} };
    }
  }

  /** Registers the node with these labels; with Kubernetes, names it in orchRefs. */
  register(labels: Readonly<Record<string, string>>, orchestrator: 'k8s' | undefined): Promise<Node> {
    return this.update((node) => ({
      ...node,
      metadata: { ...node.metadata, labels: { ...labels } },
      spec: { ...node.spec, ...(orchestrator && { orchRefs: [{ nodeName: this.nodeName, orchestrator }] }) },
    }));
  }
}
