import type { Logger } from 'pino';
import { startApiServer } from './api-server';
import { writeKubeconfig } from './kubeconfig';
import { ObjectStore } from './object-store';
import { DEFAULT_NAMESPACE } from './resources';
import { ResourceOperations } from './resource-operations';
import type { KubeObject, KubeObjectInput } from './types';

// Wiring: one store, one set of REST semantics, one HTTP server, one kubeconfig — and the
// in-process helpers tests use to play kubelet/controller without an HTTP round trip.

export interface KubeApiStandInOptions {
  /** Loopback port; 0 (default) picks a free one. */
  port?: number;
  /** Require `Authorization: Bearer <token>` (401 otherwise); the kubeconfig carries it. */
  token?: string;
  /** Changes kept for watches to resume from; older starts get 410 Expired. Default 1000. */
  historyLimit?: number;
  /** Bookmark period for watches with allowWatchBookmarks=true. Default 60 s (about the apiserver's). */
  bookmarkIntervalMs?: number;
  /** Refuse namespaced creates in a namespace that does not exist (404), as a real cluster does. */
  strictNamespaces?: boolean;
  /** Where to write the kubeconfig; default a new temporary directory. */
  kubeconfigPath?: string;
  /** Request log at debug level, failures at error level. */
  logger?: Logger;
}

/** Label changes for `labelNode`: a string sets a label, null removes it. */
export type LabelChanges = Record<string, string | null>;

export interface KubeApiStandIn {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** A kubeconfig pointing at `url` (with the token when one is set); removed by stop(). */
  readonly kubeconfigPath: string;

  // The helpers apply the same rules and emit the same watch events as the HTTP writes;
  // refusals reject with the same `ApiError` (its `status` is the Status object served).
  getPod(namespace: string, name: string): Promise<KubeObject | undefined>;
  /** Like POST: status is reset to Pending; no namespace means `default`. */
  createPod(pod: KubeObjectInput): Promise<KubeObject>;
  /** Like PUT: status is kept; a set metadata.resourceVersion must match. */
  updatePod(pod: KubeObjectInput): Promise<KubeObject>;
  /** A JSON merge patch of the pod (not its status). */
  patchPod(namespace: string, name: string, patch: object): Promise<KubeObject>;
  /**
   * Like DELETE: a pod on a node with a grace period (given here, or its
   * spec.terminationGracePeriodSeconds) is only marked with a deletionTimestamp and stays
   * until deleted with gracePeriodSeconds 0, as a kubelet does once it stopped the pod.
   */
  deletePod(namespace: string, name: string, options?: { gracePeriodSeconds?: number }): Promise<KubeObject>;
  /** Merges `status` into the pod's status through the status subresource, as a kubelet does. */
  setPodStatus(namespace: string, name: string, status: object): Promise<KubeObject>;
  createNamespace(namespace: string | KubeObjectInput): Promise<KubeObject>;
  /** Deletes the pods in it, then the namespace. */
  deleteNamespace(name: string): Promise<KubeObject>;
  createNode(node: string | KubeObjectInput): Promise<KubeObject>;
  /** apps/v1 StatefulSets: no controller runs, a test creates and deletes the pods itself. */
  createStatefulSet(set: KubeObjectInput): Promise<KubeObject>;
  /** A JSON merge patch of the StatefulSet (spec.replicas, its template's annotations…). */
  patchStatefulSet(namespace: string, name: string, patch: object): Promise<KubeObject>;
  deleteStatefulSet(namespace: string, name: string): Promise<KubeObject>;
  deleteNode(name: string): Promise<KubeObject>;
  labelNode(name: string, labels: LabelChanges): Promise<KubeObject>;

  /** The newest resourceVersion (a list's metadata.resourceVersion). */
  resourceVersion(): number;
  openWatchCount(): number;
  /** Ends every open watch stream cleanly; clients resume from their last resourceVersion. */
  closeWatches(): void;
  /** Drops the change history: any watch resuming from before now gets 410 Expired. */
  compactHistory(): void;
  /** Ends watch streams, closes the server, removes the kubeconfig. Idempotent. */
  stop(): Promise<void>;
}

const byName = (nameOrObject: string | KubeObjectInput): KubeObjectInput =>
  typeof nameOrObject === 'string' ? { metadata: { name: nameOrObject } } : nameOrObject;

export async function startKubeApiStandIn(opts: KubeApiStandInOptions = {}): Promise<KubeApiStandIn> {
  const store = new ObjectStore(opts.historyLimit ?? 1000);
  const ops = new ResourceOperations(store, { strictNamespaces: opts.strictNamespaces ?? false });
  const server = await startApiServer({
    store,
    operations: ops,
    port: opts.port ?? 0,
    token: opts.token,
    bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000,
    logger: opts.logger,
  });
  let kubeconfig;
  try {
    kubeconfig = writeKubeconfig(server.url, opts.token, opts.kubeconfigPath);
  } catch (err) {
    await server.close();
    throw err;
  }
  let stopped: Promise<void> | undefined;

  // async so that a refusal is a rejected promise, never a synchronous throw
  const run = async <T>(fn: () => T): Promise<T> => fn();

  return {
    url: server.url,
    kubeconfigPath: kubeconfig.path,
    getPod: (ns, name) => run(() => store.get({ resource: 'pods', namespace: ns, name })),
    createPod: (pod) => run(() => ops.create('pods', undefined, pod)),
    updatePod: (pod) =>
      run(() => {
        const meta = pod.metadata ?? {};
        return ops.update('pods', meta.namespace || DEFAULT_NAMESPACE, meta.name ?? '', pod, 'main');
      }),
    patchPod: (ns, name, patch) => run(() => ops.mergePatch('pods', ns, name, patch, 'main')),
    deletePod: (ns, name, options = {}) => run(() => ops.delete('pods', ns, name, {}, options)),
    setPodStatus: (ns, name, status) => run(() => ops.mergePatch('pods', ns, name, { status }, 'status')),
    createNamespace: (ns) => run(() => ops.create('namespaces', undefined, byName(ns))),
    deleteNamespace: (name) => run(() => ops.delete('namespaces', '', name)),
    createNode: (node) => run(() => ops.create('nodes', undefined, byName(node))),
    deleteNode: (name) => run(() => ops.delete('nodes', '', name)),
    createStatefulSet: (set) => run(() => ops.create('statefulsets', undefined, set)),
    patchStatefulSet: (ns, name, patch) => run(() => ops.mergePatch('statefulsets', ns, name, patch, 'main')),
    deleteStatefulSet: (ns, name) => run(() => ops.delete('statefulsets', ns, name)),
    labelNode: (name, labels) => run(() => ops.mergePatch('nodes', '', name, { metadata: { labels } }, 'main')),
    resourceVersion: () => store.currentRevision(),
    openWatchCount: server.openWatchCount,
    closeWatches: server.closeWatches,
    compactHistory: () => store.compact(),
    stop() {
      stopped ??= server.close().finally(() => kubeconfig.remove());
      return stopped;
    },
  };
}
