export { describeStoreContract } from './store-contract';
export { describeLeaseContract, type LeasingStoreFactory } from './contract/lease-contract';
export type { StoreFactory } from './contract/store-fixture';
export { etcdTestEndpoints, makeEtcdTestStore, type EtcdTestStore } from './etcd-test-store';
export {
  InterceptingDatastore,
  type AfterCommitHook,
  type BeforeCommitHook,
  type CommitOutcome,
  type InjectedCommitFailure,
} from './intercepting-datastore';
export { ReadRecordingDatastore, type RecordedRead } from './read-recording-datastore';
export { recordWatch, type WatchRecording } from './watch-recorder';
