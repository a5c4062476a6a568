import type { ReadRecordsResponse, RecordWrite, WriteRecordsResponse } from '@atoll/api';
import { MemoryDatastore } from '@atoll/store';
import { migrationHandlers } from './migration-service';

// The Migration service's rules: only migratable keys, only values Atoll can read back,
// at most one etcd transaction per call, and the caller's preconditions enforced.

const BLOCK_KEY = '/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-30';
const BLOCK = '{"cidr":"10.0.0.0/30","affinity":null,"allocations":[0,null,null,null],"unallocated":[1,2,3],"attributes":[{"handle_id":"h"}],"sequenceNumber":1786000000000000001,"sequenceNumberForAllocation":{"0":1786000000000000000},"deleted":false}';
const HANDLE_KEY = '/calico/ipam/v2/handle/h';

type Outcome<T> = { ok: T } | { code: string; message: string };

function call<Req, Res>(handler: unknown, request: Req): Promise<Outcome<Res>> {
  return new Promise((resolve) => {
    (handler as (c: { request: Req }, cb: (err: { details?: string; metadata?: { get(k: string): unknown[] } } | null, res: Res) => void) => void)({ request }, (err, res) =>
      resolve(err ? { code: String(err.metadata?.get('atoll-error-code')[0]), message: err.details ?? '' } : { ok: res }),
    );
  });
}

describe('the Migration service', () => {
  let ds: MemoryDatastore;
  let handlers: ReturnType<typeof migrationHandlers>;
  const write = (writes: Partial<RecordWrite>[]) =>
    call<{ writes: RecordWrite[] }, WriteRecordsResponse>(handlers.writeRecords, { writes: writes.map((w) => ({ key: '', value: '', delete: false, expectRevision: '0', ...w })) });
  const read = () => call<object, ReadRecordsResponse>(handlers.readRecords, {});

  beforeEach(() => {
    ds = new MemoryDatastore();
    handlers = migrationHandlers(ds);
  });

  it('writes a block and its handle in one transaction and reads them back with their revision and exact numbers', async () => {
    const w = await write([{ key: BLOCK_KEY, value: BLOCK }, { key: HANDLE_KEY, value: '{"block":{"10.0.0.0/30":1},"deleted":false}' }]);
    expect(w).toEqual({ ok: { revision: expect.stringMatching(/^\d+$/) } });
    await ds.commit({ preconditions: [], mutations: [{ op: 'put', key: '/calico/something/else', value: 'x' }] });
    const r = await read();
    if (!('ok' in r)) throw new Error(r.message);
    expect(r.ok.records.map((x) => x.key)).toEqual([BLOCK_KEY, HANDLE_KEY]);
    expect(r.ok.records[0]!.value).toContain('"sequenceNumber":1786000000000000001');
    expect(r.ok.records[0]!.revision).toBe((w as { ok: WriteRecordsResponse }).ok.revision);
  });

  it('refuses a key outside the migratable layout, naming it, and writes nothing', async () => {
    const r = await write([{ key: BLOCK_KEY, value: BLOCK }, { key: '/calico/felix/v1/host/x', value: '{}' }]);
    expect(r).toEqual({ code: 'invalid-argument', message: "key /calico/felix/v1/host/x is not an IPAM record, pool, reservation or node in Calico's etcd layout" });
    expect((await ds.list('/calico/')).items).toEqual([]);
  });

  it('refuses a value Atoll could not read back', async () => {
    expect(await write([{ key: BLOCK_KEY, value: BLOCK.replace('10.0.0.0/30', '10.0.0.4/30') }])).toEqual({ code: 'invalid-argument', message: `value for ${BLOCK_KEY} cannot be stored: the cidr differs from the key` });
    const pool = '/calico/resources/v3/projectcalico.org/ippools/p';
    expect(await write([{ key: pool, value: '{"apiVersion":"projectcalico.org/v3","kind":"IPReservation","metadata":{"name":"p"}}' }])).toEqual({ code: 'invalid-argument', message: `value for ${pool} cannot be stored: kind must be IPPool, not "IPReservation"` });
  });

  it('takes at most 128 writes per call', async () => {
    const many = Array.from({ length: 129 }, (_, i) => ({ key: `/calico/ipam/v2/handle/h${i}`, value: '{"block":{},"deleted":false}' }));
    expect(await write(many)).toEqual({ code: 'invalid-argument', message: 'at most 128 writes per call (one etcd transaction), got 129' });
    expect(await write(many.slice(0, 128))).toEqual({ ok: expect.anything() });
  });

  it('answers a failed precondition with a conflict and writes none of the batch', async () => {
    await write([{ key: BLOCK_KEY, value: BLOCK }]);
    const r = await write([{ key: HANDLE_KEY, value: '{"block":{"10.0.0.0/30":1},"deleted":false}' }, { key: BLOCK_KEY, value: BLOCK }]);
    expect(r).toEqual({ code: 'conflict', message: expect.any(String) });
    expect((await ds.get(HANDLE_KEY))).toBeUndefined();
  });
});
