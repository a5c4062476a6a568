export { affinityChange, blockChange, commitChanges, configChange, handleChange } from './change-set';
export type { Change } from './change-set';
export { io, IpamRecords, toBlockRecord, translateStoreError } from './records';
export type { AffinityRecord, BlockRecord, HandleRecord } from './records';
