import { CRD_GROUP_VERSION, CRD_KINDS, type CrdPlural, type KubeObject } from './kdd-kinds';
import { KubeApiError, type KubeHttp } from './kube-http';

export { CRD_GROUP_VERSION, CRD_KINDS, CRD_PLURALS } from './kdd-kinds';
export type { CrdPlural, KubeObject } from './kdd-kinds';

// Calico's IPAM custom resources and the Kubernetes Nodes, listed and written through the
// API server. Lists are paged (a real API server caps an unpaged list of 10,000 handles
// only by its request timeout); every object stays exactly as the server sent it.

const PAGE = 500;

export class KddApi {
  constructor(readonly http: KubeHttp) {}

  private async listPath(path: string): Promise<KubeObject[]> {
    const items: KubeObject[] = [];
    let next: string | undefined;
    do {
      const query = `?limit=${PAGE}${next ? `&continue=${encodeURIComponent(next)}` : ''}`;
      const page = (await this.http.request('GET', `${path}${query}`)) as unknown as { items?: KubeObject[]; metadata?: { continue?: string } };
      items.push(...(page.items ?? []));
      next = page.metadata?.continue || undefined;
    } while (next);
    return items;
  }

  /** Every object of a kind; an API server that does not know the kind (no CRD) has none. */
  async list(plural: CrdPlural): Promise<KubeObject[]> {
    try {
      return await this.listPath(`/apis/${CRD_GROUP_VERSION}/${plural}`);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return [];
      throw err;
    }
  }

  async create(plural: CrdPlural, obj: KubeObject): Promise<KubeObject> {
    const body = { apiVersion: CRD_GROUP_VERSION, kind: CRD_KINDS[plural], ...obj };
    return (await this.http.request('POST', `/apis/${CRD_GROUP_VERSION}/${plural}`, body)) as unknown as KubeObject;
  }

  async listNodes(): Promise<KubeObject[]> {
    return this.listPath('/api/v1/nodes');
  }

  /** A merge patch of a node's annotations (null removes one), guarded by its resourceVersion. */
  async annotateNode(name: string, resourceVersion: string, annotations: Record<string, string | null>): Promise<void> {
    await this.http.request('PATCH', `/api/v1/nodes/${encodeURIComponent(name)}`, { metadata: { resourceVersion, annotations } }, 'application/merge-patch+json');
  }
}
