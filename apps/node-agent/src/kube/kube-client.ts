import { CoreV1Api, KubeConfig, makeInformer, type Informer, type KubernetesObject, type V1Namespace, type V1Node, type V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { NamespaceInfo, PodInfo, PodSource } from '../cni/ports';

// The agent's view of Kubernetes: informers on this node's pods, on namespaces and on its
// own Node, with a direct GET when a pod is not in the cache yet (it may have been bound a
// moment ago). Only this file imports the Kubernetes client.

export interface KubeView {
  readonly pods: PodSource;
  /** The labels of this node's Kubernetes Node (undefined when it does not exist). */
  nodeLabels(): Promise<Record<string, string> | undefined>;
  /** The InternalIP addresses in this node's `status.addresses` (undefined when the Node does not exist). */
  nodeInternalIPs(): Promise<string[] | undefined>;
  /** Calls back whenever this node's labels may have changed. */
  onNodeChange(cb: () => void): void;
  stop(): Promise<void>;
}

export function loadKubeConfig(kubeconfig: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfig) kc.loadFromFile(kubeconfig);
  else kc.loadFromCluster();
  return kc;
}

const isNotFound = (err: unknown) => (err as { code?: number }).code === 404;

function podInfo(p: V1Pod): PodInfo {
  return {
    annotations: { ...(p.metadata?.annotations ?? {}) },
    labels: { ...(p.metadata?.labels ?? {}) },
    ...(p.spec?.nodeName && { nodeName: p.spec.nodeName }),
    ...(p.metadata?.uid && { uid: p.metadata.uid }),
    ...(p.metadata?.deletionTimestamp && { terminating: true }),
    ...(p.metadata?.ownerReferences && { ownerReferences: p.metadata.ownerReferences.map((o) => ({ kind: o.kind, name: o.name })) }),
  };
}

function nsInfo(n: V1Namespace): NamespaceInfo {
  return { annotations: { ...(n.metadata?.annotations ?? {}) }, labels: { ...(n.metadata?.labels ?? {}) } };
}

function startInformer<T extends KubernetesObject>(informer: Informer<T>, what: string, log: Logger): void {
  informer.on('error', (err: unknown) => {
    log.warn({ err: String(err), informer: what }, 'informer error; restarting');
    setTimeout(() => void informer.start().catch(() => undefined), 1000);
  });
  void informer.start().catch((err: unknown) => log.warn({ err: String(err), informer: what }, 'informer failed to start'));
}

export async function startKubeView(opts: { kubeconfig?: string; nodeName: string; log: Logger }): Promise<KubeView> {
  const kc = loadKubeConfig(opts.kubeconfig);
  const api = kc.makeApiClient(CoreV1Api);
  const nodeSelector = `spec.nodeName=${opts.nodeName}`;
  const podInformer = makeInformer(kc, `/api/v1/pods?fieldSelector=${encodeURIComponent(nodeSelector)}`, () => api.listPodForAllNamespaces({ fieldSelector: nodeSelector }));
  const nsInformer = makeInformer(kc, '/api/v1/namespaces', () => api.listNamespace());
  const nodeField = `metadata.name=${opts.nodeName}`;
  const nodeInformer = makeInformer(kc, `/api/v1/nodes?fieldSelector=${encodeURIComponent(nodeField)}`, () => api.listNode({ fieldSelector: nodeField }));
  const nodeCallbacks: (() => void)[] = [];
  for (const ev of ['add', 'update', 'delete'] as const) nodeInformer.on(ev, () => nodeCallbacks.forEach((cb) => cb()));
  startInformer(podInformer, 'pods', opts.log);
  startInformer(nsInformer, 'namespaces', opts.log);
  startInformer(nodeInformer, 'node', opts.log);

  const pods: PodSource = {
    async pod(namespace, name) {
      const cached = podInformer.get(name, namespace);
      if (cached) return podInfo(cached);
      try {
        return podInfo(await api.readNamespacedPod({ name, namespace }));
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    async podLive(namespace, name) {
      try {
        return podInfo(await api.readNamespacedPod({ name, namespace }));
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    async namespace(name) {
      const cached = nsInformer.get(name);
      if (cached) return nsInfo(cached);
      try {
        return nsInfo(await api.readNamespace({ name }));
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
  };

  const readNode = async (): Promise<V1Node | undefined> => {
    const cached: V1Node | undefined = nodeInformer.get(opts.nodeName);
    if (cached) return cached;
    try {
      return await api.readNode({ name: opts.nodeName });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };

  return {
    pods,
    async nodeLabels() {
      const node = await readNode();
      return node && { ...(node.metadata?.labels ?? {}) };
    },
    async nodeInternalIPs() {
      const node = await readNode();
      return node && (node.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address);
    },
    onNodeChange(cb) {
      nodeCallbacks.push(cb);
    },
    async stop() {
      await Promise.all([podInformer.stop(), nsInformer.stop(), nodeInformer.stop()].map((p) => Promise.resolve(p).catch(() => undefined)));
    },
  };
}
