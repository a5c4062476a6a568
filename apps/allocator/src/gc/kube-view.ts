import type { GcPod } from '@atoll/ipam';

/** What the collector reads of a StatefulSet to know whether its sticky addresses are still wanted. */
export interface GcStatefulSet {
  readonly replicas: number;
  readonly templateAnnotations: Readonly<Record<string, string>>;
}

/**
 * What the leak collector needs from Kubernetes: informer caches of pods and nodes, and
 * live reads for the last check before a release. The implementation with
 * @kubernetes/client-node is kube-informers.ts, which only gc-runner.ts loads (the client
 * is an ES module jest cannot load); tests of the collector use a fake.
 */
export interface KubeView {
  /** True once the pod and node caches hold a complete list, and false again while one re-lists after an error. */
  synced(): boolean;
  /** A pod from the cache. */
  pod(namespace: string, name: string): GcPod | undefined;
  /** Node names from the cache. */
  nodeNames(): ReadonlySet<string>;
  /** A pod read from the API server now; undefined when it does not exist. Throws on other failures. */
  getPodLive(namespace: string, name: string): Promise<GcPod | undefined>;
  /** True once the StatefulSet cache holds a complete list (sticky addresses are judged only then). */
  statefulSetsSynced(): boolean;
  /** A StatefulSet from the cache. */
  statefulSet(namespace: string, name: string): GcStatefulSet | undefined;
  /** A StatefulSet read from the API server now; undefined when it does not exist. */
  getStatefulSetLive(namespace: string, name: string): Promise<GcStatefulSet | undefined>;
  /** A namespace's annotations, read from the API server now; undefined when it does not exist. */
  getNamespaceAnnotationsLive(name: string): Promise<Readonly<Record<string, string>> | undefined>;
  /** Whether a node exists, asked of the API server now. Throws on failures other than not-found. */
  nodeExistsLive(name: string): Promise<boolean>;
  /**
   * Calls back when a node is deleted (the collector then runs a pass soon, as Calico's
   * node controller does). Pod deletions wait for the periodic pass.
   */
  onNodeDeleted(cb: () => void): void;
  stop(): Promise<void>;
}
