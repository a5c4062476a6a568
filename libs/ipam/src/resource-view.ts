import type { IpamConfig } from '@atoll/model';
import type { ReservedAddresses } from './pools/reservations';
import type { NodeView, PoolView } from './types';

/** The configuration every allocation consults, read together. */
export interface IpamContext {
  /** Every pool, in name order, disabled ones included. */
  readonly pools: readonly PoolView[];
  readonly reservations: ReservedAddresses;
  readonly config: IpamConfig;
}

/**
 * Where the engine reads pools, reservations, IPAM config and nodes. The default reads the
 * datastore on every call; the allocator supplies a watch-fed cache. Either way writes
 * still compare revisions, so a stale view can cost a retry but never a wrong write.
 */
export interface ResourceView {
  context(): Promise<IpamContext>;
  node(name: string): Promise<NodeView | undefined>;
}
