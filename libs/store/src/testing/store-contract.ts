import { describeCommitContract } from './contract/commit-contract';
import { describeConcurrencyContract } from './contract/concurrency-contract';
import { describeIsolationContract } from './contract/isolation-contract';
import { describeLifecycleContract } from './contract/lifecycle-contract';
import { describeReadContract } from './contract/read-contract';
import { type StoreFactory, useStoreFixture } from './contract/store-fixture';
import { describeWatchContract } from './contract/watch-contract';

/**
 * The one contract every Datastore adapter must pass. `makeStore` is called before each
 * test and must return an empty store (or an empty namespace of a shared one) and a
 * cleanup that tolerates the store having been closed by the test.
 */
export function describeStoreContract(name: string, makeStore: StoreFactory): void {
  describe(`${name} satisfies the Datastore contract`, () => {
    const fixture = useStoreFixture(makeStore);
    describeReadContract(fixture);
    describeCommitContract(fixture);
    describeConcurrencyContract(fixture);
    describeWatchContract(fixture);
    describeIsolationContract(fixture);
    describeLifecycleContract(fixture);
  });
}
