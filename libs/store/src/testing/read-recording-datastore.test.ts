import { MemoryDatastore } from '../memory/memory-datastore';
import { ReadRecordingDatastore } from './read-recording-datastore';
import { describeStoreContract } from './store-contract';

// Recording must not change what the wrapped store does.
describeStoreContract('ReadRecordingDatastore over MemoryDatastore', async () => {
  const store = new ReadRecordingDatastore(new MemoryDatastore());
  return { store, cleanup: () => store.close() };
});

describe('ReadRecordingDatastore', () => {
  let store: ReadRecordingDatastore;
  beforeEach(async () => {
    store = new ReadRecordingDatastore(new MemoryDatastore());
    await store.commit({
      preconditions: [],
      mutations: [
        { op: 'put', key: '/p/a', value: '1' },
        { op: 'put', key: '/p/b', value: '2' },
        { op: 'put', key: '/q/c', value: '3' },
      ],
    });
  });
  afterEach(() => store.close());

  it('records each read with what was asked and whose values came back', async () => {
    await store.get('/p/a');
    await store.get('/missing');
    await store.getMany(['/p/b', '/missing', '/q/c']);
    await store.list('/p/');
    await store.listKeys('/q/');
    expect(store.reads).toEqual([
      { op: 'get', asked: ['/p/a'], valuesOf: ['/p/a'] },
      { op: 'get', asked: ['/missing'], valuesOf: [] },
      { op: 'getMany', asked: ['/p/b', '/missing', '/q/c'], valuesOf: ['/p/b', '/q/c'] },
      { op: 'list', asked: ['/p/'], valuesOf: ['/p/a', '/p/b'] },
      { op: 'listKeys', asked: ['/q/'], valuesOf: [] },
    ]);
    expect(store.valuesRead()).toEqual(['/p/a', '/p/b', '/q/c', '/p/a', '/p/b']);
  });

  it('records no commit, and forgets everything on clear', async () => {
    await store.list('');
    store.clear();
    await store.commit({ preconditions: [], mutations: [{ op: 'put', key: '/p/a', value: 'x' }] });
    expect(store.reads).toEqual([]);
  });
});
