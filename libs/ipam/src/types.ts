import type { Cidr } from '@atoll/ipmath';
import type { Selector } from '@atoll/model';

export type IntendedUse = 'Workload' | 'Tunnel' | 'LoadBalancer';
export type EncapMode = 'Never' | 'Always' | 'CrossSubnet';

/** What the engine needs to know of an IPPool, parsed once. */
export interface PoolView {
  readonly name: string;
  readonly cidr: Cidr;
  readonly cidrText: string;
  readonly blockSize: number;
  /** Not disabled, not being deleted, and not marked un-allocatable. */
  readonly enabled: boolean;
  readonly nodeSelector: Selector;
  /** Undefined: every namespace matches. */
  readonly namespaceSelector: Selector | undefined;
  readonly allowedUses: readonly IntendedUse[];
  readonly assignmentMode: 'Automatic' | 'Manual';
  readonly ipipMode: EncapMode;
  readonly vxlanMode: EncapMode;
}

/** What the engine needs to know of a Node. */
export interface NodeView {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}
