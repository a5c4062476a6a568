// The IPAM garbage collector's decisions (pure) and its I/O beside the engine's.
export { CollectionPlanner, DEFAULT_MAX_RELEASES_PER_PASS, type PlannerOptions } from './planner';
export { allocationKey, allocationKind, podAllocationValidity, TUNNEL_ADDRESS_TYPES, type AllocationKind, type Validity } from './validity';
export { IpamGcOperations, type IpamGcOperationsOptions } from './operations';
export type {
  AllocationState,
  AllocationVerdict,
  CollectionInput,
  CollectionPlan,
  EmptyBlockRelease,
  GcBlock,
  GcPod,
  GcScan,
  HandleRelease,
} from './types';
