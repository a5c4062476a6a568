export {
  affinityKey,
  affinityPrefix,
  blockKey,
  blockPrefix,
  handleKey,
  handlePrefix,
  historyPrefix,
  historyRecordKey,
  ipamConfigKey,
  parseAffinityKey,
  parseBlockKey,
  parseHandleKey,
  parseResourceKey,
  resourceKey,
  resourcePrefix,
} from './keys';
export type { AffinityKey, AffinityType, ResourcePlural } from './keys';
