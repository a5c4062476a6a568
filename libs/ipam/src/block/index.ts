export { assignFromBlock, assignOrdinal, reassignOrdinal } from './assign';
export type { BlockAssignment } from './assign';
export { newBlock, withNextSequence } from './create';
export {
  allocatedOrdinals,
  attributeOf,
  freeOrdinals,
  isEmpty,
  ordinalAddress,
  ordinalsOfHandle,
  WINDOWS_RESERVED_HANDLE,
} from './inspect';
export { freeCooledDown, markReleased, releaseHandleOrdinals, releaseOrdinals } from './release';
export type { BlockRelease, OrdinalRelease, ReleaseTiming } from './release';
export { blockProblems } from './validate';
