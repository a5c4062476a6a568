import type { AllocatorClients } from '@atoll/api';

/** The allocator calls the agent makes (a subset of the gRPC client, so tests can fake it). */
export type AllocatorPort = Pick<
  AllocatorClients['ipam'],
  'autoAssign' | 'assignIp' | 'releaseIPs' | 'releaseByHandle' | 'ipsByHandle' | 'listAllocations' | 'getIpamConfig' | 'getAssignmentAttributes'
>;

/** The StaticIps calls the agent makes to hand a requested address over (see static-handoff.ts). */
export type StaticIpsPort = Pick<AllocatorClients['staticIps'], 'getHolder' | 'handOff'>;

export interface OwnerReference {
  readonly kind: string;
  readonly name: string;
}

export interface PodInfo {
  readonly annotations: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly nodeName?: string;
  readonly uid?: string;
  /** The pod has a deletionTimestamp: it is being deleted gracefully. */
  readonly terminating?: boolean;
  readonly ownerReferences?: readonly OwnerReference[];
}

export interface NamespaceInfo {
  readonly annotations: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
}

/** Where pods and namespaces come from: the Kubernetes API, or nothing (no Kubernetes). */
export interface PodSource {
  /** Undefined when the pod does not exist. */
  pod(namespace: string, name: string): Promise<PodInfo | undefined>;
  /** The pod as the API server has it now (never a cache); undefined when it does not exist. */
  podLive?(namespace: string, name: string): Promise<PodInfo | undefined>;
  namespace(name: string): Promise<NamespaceInfo | undefined>;
}

/** No Kubernetes: pods have no annotations, namespaces no labels. */
export const NO_KUBERNETES: PodSource = {
  pod: async () => ({ annotations: {}, labels: {} }),
  namespace: async () => ({ annotations: {}, labels: {} }),
};
