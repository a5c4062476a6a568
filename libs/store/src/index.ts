export type {
  Datastore,
  Kv,
  LeaseGrant,
  Leases,
  LeasingDatastore,
  Mutation,
  Precondition,
  Transaction,
  WatchEvent,
  WatchHandle,
} from './datastore';
export {
  StoreClosedError,
  StoreCompactedError,
  StoreConflictError,
  StoreError,
  StoreInvalidRequestError,
  StoreLeaseNotFoundError,
  StoreUnavailableError,
  type StoreErrorCode,
} from './errors';
export { MAX_OPERATIONS_PER_TRANSACTION } from './request-validation';
export { MemoryDatastore } from './memory/memory-datastore';
export { EtcdDatastore } from './etcd/etcd-datastore';
export {
  DEFAULT_REQUEST_TIMEOUT_MS,
  type EtcdDatastoreOptions,
  type EtcdTlsOptions,
} from './etcd/etcd-client-options';
export { campaign, currentLeader, type CampaignOptions, type Leadership, type LeaderInfo } from './election';
