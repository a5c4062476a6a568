export { IpamEngine } from './engine';
export type { IpamEngineOptions } from './engine';
export type {
  AssignIpRequest,
  AssignmentAttributes,
  AutoAssignRequest,
  AutoAssignResult,
  BlockUtilization,
  ClaimAffinityResult,
  FamilyAssignment,
  HandOffRequest,
  HandOffResult,
  Ipam,
  PoolUtilization,
  ReleaseIpsResult,
  ReleaseOptions,
  Utilization,
} from './ipam';
export { IpamError, isIpamError, Messages } from './errors';
export type { IpamErrorCode } from './errors';
export type { IntendedUse, NodeView, PoolView } from './types';
export type { IpamContext, ResourceView } from './resource-view';
export { StoreResourceView, poolViewOf, nodeViewOf } from './store-resource-view';
export { ReservedAddresses } from './pools/reservations';
export { validateIpamConfig } from './config';
export { DEFAULT_MAX_BLOCKS_PER_HOST, effectiveBlockLimit } from './assign/auto-assign';
export type { CheckReport } from './check';
export { WatchedResourceView } from './watched-resource-view';
export type { WatchedResourceViewOptions } from './watched-resource-view';
export { autoAssignAllOrNothing, partialFulfillmentError } from './all-or-nothing';
export type { Allocation, AllocationFilter } from './allocations';
export { ResourceRepository, type ResourceRepositoryOptions } from './resources';
export * from './gc';
export * from './history';
export * from './explain';
export { judgePools, type PoolJudgement, type PoolJudgements, type PoolSkipReason } from './pools/select-pools';
