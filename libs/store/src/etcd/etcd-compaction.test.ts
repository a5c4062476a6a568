import { Etcd3 } from 'etcd3';
import { startEtcdCluster, type EtcdCluster } from '../../../../tools/etcd/launcher';
import { StoreCompactedError } from '../errors';
import { recordWatch } from '../testing/watch-recorder';
import { EtcdDatastore } from './etcd-datastore';

// Compaction is cluster-wide and would break other test files' watches on the shared etcd,
// so this file compacts its own private member.
describe('EtcdDatastore watches and compaction', () => {
  let cluster: EtcdCluster;
  let admin: Etcd3;
  let store: EtcdDatastore;

  beforeAll(async () => {
    cluster = await startEtcdCluster();
    admin = new Etcd3({ hosts: cluster.endpoints });
    store = new EtcdDatastore({ endpoints: cluster.endpoints, namespace: '/compaction/' });
  });
  afterAll(async () => {
    await store.close();
    admin.close();
    await cluster.stop();
  });

  const put = (key: string, value: string) => store.commit({ preconditions: [], mutations: [{ op: 'put', key, value }] });

  it.each([
    ['below the compacted revision', -1n, true],
    ['at the compacted revision', 0n, false],
  ])('%s, rejects a watch with StoreCompactedError only when history is gone', async (_name, offset, compacted) => {
    await put('/a', 'old');
    const { revision: compactAt } = await put('/a', 'new');
    await put('/b', 'after');
    await admin.kv.compact({ revision: compactAt.toString(), physical: true });

    const watching = recordWatch(store, '/', compactAt + offset);
    if (compacted) {
      const error = await watching.then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(StoreCompactedError);
      expect(error).toMatchObject({ code: 'compacted', retryable: false, requestedRevision: compactAt - 1n });
      return;
    }
    const recording = await watching;
    await expect(recording.waitForEvents(2)).resolves.toEqual([
      { type: 'put', key: '/a', value: 'new', revision: compactAt },
      { type: 'put', key: '/b', value: 'after', revision: compactAt + 1n },
    ]);
    await recording.handle.close();
  });

  it('accepts a watch from a future revision and delivers changes once it is reached', async () => {
    const { revision } = await put('/f', '0');
    const recording = await recordWatch(store, '/f', revision + 2n);
    await put('/f', '1');
    const { revision: reached } = await put('/f', '2');
    await expect(recording.waitForEvents(1)).resolves.toEqual([{ type: 'put', key: '/f', value: '2', revision: reached }]);
    await recording.handle.close();
  });
});
