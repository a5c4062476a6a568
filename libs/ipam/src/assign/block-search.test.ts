import { formatCidr, parseCidr } from '@atoll/ipmath';
import { blockPrefix, DEFAULT_IPAM_CONFIG } from '@atoll/model';
import { ReadRecordingDatastore } from '@atoll/store/testing';
import { IpamRecords } from '../io';
import { hostBlockOrder } from '../pools/block-order';
import { describeWithStores, putNode, putPool, WORKLOAD } from '../testing/fixtures';

// What finding a block costs in reads: a new host's claim must not read the blocks that
// already exist (at thousands of blocks their values cost seconds and hundreds of MiB),
// and the paths that do need block values (reclaiming, borrowing) read them a page at a
// time, in Calico's order.

const BLOCKS = blockPrefix(4);
/** etcd's default limit of operations in one transaction, which a multi-key read is. */
const PAGE = 128;

describeWithStores('finding a block to claim or borrow', (env) => {
  /** An engine whose reads are recorded from here on. */
  const recordedEngine = (now?: () => Date) => {
    const recorder = new ReadRecordingDatastore(env().ds);
    return { recorder, engine: env().newEngine({ datastore: recorder, ...(now && { now }) }) };
  };
  const blockValuesRead = (recorder: ReadRecordingDatastore) => recorder.valuesRead().filter((k) => k.startsWith(BLOCKS));
  const blockPages = (recorder: ReadRecordingDatastore) =>
    recorder.reads.filter((r) => r.op === 'getMany' && r.asked.some((k) => k.startsWith(BLOCKS))).map((r) => r.asked.length);

  it("claims a new host's first free block in Calico's order without reading any existing block", async () => {
    const pool = '10.0.0.0/24';
    await putPool(env().ds, 'p', { cidr: pool, blockSize: 29 });
    for (let i = 0; i < 8; i++) {
      await putNode(env().ds, `node-${i}`);
      await env().engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: `h-${i}`, hostname: `node-${i}` });
    }
    const taken = new Set((await new IpamRecords(env().ds).listBlockCidrs(4)).map(formatCidr));
    expect(taken.size).toBe(8);
    await putNode(env().ds, 'new-node');
    const { recorder, engine } = recordedEngine();

    const r = await engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'new', hostname: 'new-node' });

    const expected = [...hostBlockOrder(parseCidr(pool), 29, 'new-node')].map(formatCidr).find((b) => !taken.has(b));
    expect(r.ipv4.ips).toEqual([`${expected!.split('/')[0]}/29`]);
    expect(blockValuesRead(recorder)).toEqual([]);
    expect(recorder.reads.filter((read) => read.op === 'listKeys' && read.asked[0] === BLOCKS)).toHaveLength(1);
  });

  it("reclaims the first of another host's long-empty blocks in the host's order, reading one page of blocks", async () => {
    const pool = '10.0.0.0/24';
    let now = new Date('2026-08-01T10:00:00Z');
    await putPool(env().ds, 'p', { cidr: pool, blockSize: 32 });
    await putNode(env().ds, 'old-node');
    await putNode(env().ds, 'new-node');
    await env().newEngine({ now: () => now }).claimAffinity(pool, 'old-node');
    await env().engine.setIPAMConfig({ ...DEFAULT_IPAM_CONFIG, strictAffinity: true });
    now = new Date(now.getTime() + 61_000);
    const { recorder, engine } = recordedEngine(() => now);

    const r = await engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'new', hostname: 'new-node' });

    const first = formatCidr(hostBlockOrder(parseCidr(pool), 32, 'new-node').next().value!);
    expect(r.ipv4.ips).toEqual([first]);
    expect((await new IpamRecords(env().ds).getBlock(parseCidr(first)))?.value.affinity).toBe('host:new-node');
    expect(blockPages(recorder)).toEqual([PAGE]);
  });

  it("borrows from the first block in the host's order, reading the pool's blocks in pages", async () => {
    const pool = '10.0.0.0/24';
    await putPool(env().ds, 'p', { cidr: pool, blockSize: 32 });
    await putNode(env().ds, 'old-node');
    await putNode(env().ds, 'new-node');
    await env().engine.claimAffinity(pool, 'old-node');
    const { recorder, engine } = recordedEngine();

    const r = await engine.autoAssign({ ...WORKLOAD, num4: 1, num6: 0, handleId: 'new', hostname: 'new-node' });

    const first = formatCidr(hostBlockOrder(parseCidr(pool), 32, 'new-node').next().value!);
    expect(r.ipv4.ips).toEqual([first]);
    expect((await new IpamRecords(env().ds).getBlock(parseCidr(first)))?.value.affinity).toBe('host:old-node');
    const pages = blockPages(recorder);
    expect(pages.length).toBeGreaterThan(1);
    expect(Math.max(...pages)).toBeLessThanOrEqual(PAGE);
    expect(recorder.reads.filter((read) => read.op === 'list' && read.asked[0]!.startsWith(BLOCKS))).toEqual([]);
  });
});
