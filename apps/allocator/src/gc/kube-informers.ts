import { AppsV1Api, CoreV1Api, KubeConfig, makeInformer, type Informer, type KubernetesObject, type ObjectCache, type V1Node, type V1Pod, type V1StatefulSet } from '@kubernetes/client-node';
import type { GcPod } from '@atoll/ipam';
import type { Logger } from 'pino';
import type { GcStatefulSet, KubeView } from './kube-view';

// The leak collector's view of Kubernetes with @kubernetes/client-node: informers on every
// pod and every node (as kube-controllers) and every StatefulSet (sticky addresses), and live GETs for the last check before a
// release. Only this file imports the Kubernetes client; only gc-runner.ts loads it.

/** Loads a kubeconfig file, or the in-cluster service account when `path` is empty. Throws when unusable. */
export function loadKubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromCluster();
  if (!kc.getCurrentCluster()) throw new Error(`no cluster in the kubeconfig ${path || '(in-cluster)'}`);
  return kc;
}

const isNotFound = (err: unknown) => (err as { code?: number }).code === 404;

export function gcPodOf(p: V1Pod): GcPod {
  const ips = p.status?.podIPs?.map((x) => x.ip).filter((ip): ip is string => !!ip) ?? [];
  if (ips.length === 0 && p.status?.podIP) ips.push(p.status.podIP);
  return {
    namespace: p.metadata?.namespace ?? '',
    name: p.metadata?.name ?? '',
    ...(p.spec?.nodeName && { nodeName: p.spec.nodeName }),
    ...(p.status?.phase && { phase: p.status.phase }),
    ...(p.status?.reason && { reason: p.status.reason }),
    podIPs: ips,
  };
}

export function gcStatefulSetOf(s: V1StatefulSet): GcStatefulSet {
  return { replicas: s.spec?.replicas ?? 1, templateAnnotations: { ...(s.spec?.template?.metadata?.annotations ?? {}) } };
}

/** An informer that restarts after errors and knows whether its cache holds a complete list. */
class SyncedInformer<T extends KubernetesObject> {
  private listed = false;
  private stopped = false;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly informer: Informer<T> & ObjectCache<T>,
    private readonly what: string,
    private readonly log: Logger,
  ) {
    informer.on('error', (err: unknown) => {
      this.listed = false;
      if (this.stopped) return;
      log.warn({ err: String(err), informer: what }, 'informer error; re-listing');
      clearTimeout(this.restartTimer);
      this.restartTimer = setTimeout(() => this.start(), 1000);
    });
  }

  get synced(): boolean {
    return this.listed;
  }

  start(): void {
    if (this.stopped) return;
    // start() resolves once the list is in the cache and the watch is open.
    this.informer.start().then(
      () => {
        if (!this.stopped) this.listed = true;
      },
      (err: unknown) => this.log.warn({ err: String(err), informer: this.what }, 'informer failed to start'),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.listed = false;
    clearTimeout(this.restartTimer);
    await Promise.resolve(this.informer.stop()).catch(() => undefined);
  }
}

export function startKubeInformers(kc: KubeConfig, log: Logger): KubeView {
  const api = kc.makeApiClient(CoreV1Api);
  const pods = new SyncedInformer<V1Pod>(makeInformer(kc, '/api/v1/pods', () => api.listPodForAllNamespaces()), 'pods', log);
  const nodes = new SyncedInformer<V1Node>(makeInformer(kc, '/api/v1/nodes', () => api.listNode()), 'nodes', log);
  // Sticky addresses end with their StatefulSet's ordinal (sticky-releases.ts).
  const apps = kc.makeApiClient(AppsV1Api);
  const sets = new SyncedInformer<V1StatefulSet>(makeInformer(kc, '/apis/apps/v1/statefulsets', () => apps.listStatefulSetForAllNamespaces()), 'statefulsets', log);
  const nodeDeletedCallbacks: (() => void)[] = [];
  nodes.informer.on('delete', () => nodeDeletedCallbacks.forEach((cb) => cb()));
  pods.start();
  nodes.start();
  sets.start();

  return {
    synced: () => pods.synced && nodes.synced,
    statefulSetsSynced: () => sets.synced,
    pod(namespace, name) {
      const p = pods.informer.get(name, namespace);
      return p && gcPodOf(p);
    },
    statefulSet(namespace, name) {
      const s = sets.informer.get(name, namespace);
      return s && gcStatefulSetOf(s);
    },
    async getStatefulSetLive(namespace, name) {
      try {
        return gcStatefulSetOf(await apps.readNamespacedStatefulSet({ name, namespace }));
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    async getNamespaceAnnotationsLive(name) {
      try {
        return { ...((await api.readNamespace({ name })).metadata?.annotations ?? {}) };
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    nodeNames: () => new Set(nodes.informer.list().map((n) => n.metadata?.name ?? '')),
    async getPodLive(namespace, name) {
      try {
        return gcPodOf(await api.readNamespacedPod({ name, namespace }));
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    async nodeExistsLive(name) {
      try {
        await api.readNode({ name });
        return true;
      } catch (err) {
        if (isNotFound(err)) return false;
        throw err;
      }
    },
    onNodeDeleted(cb) {
      nodeDeletedCallbacks.push(cb);
    },
    async stop() {
      await Promise.all([pods.stop(), nodes.stop(), sets.stop()]);
    },
  };
}
