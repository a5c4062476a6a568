export type {
  Datastore,
  Kv,
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
