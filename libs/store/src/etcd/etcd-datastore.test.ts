import { describeLeaseContract } from '../testing/contract/lease-contract';
import { describeStoreContract } from '../testing/store-contract';
import { makeEtcdTestStore } from '../testing/etcd-test-store';

// The same contract as MemoryDatastore, on the real etcd jest's global setup started.
describeStoreContract('EtcdDatastore', makeEtcdTestStore);
describeLeaseContract('EtcdDatastore', makeEtcdTestStore);
