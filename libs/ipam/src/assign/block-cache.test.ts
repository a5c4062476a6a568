import { parseCidr } from '@atoll/ipmath';
import type { AllocationBlock } from '@atoll/model';
import type { BlockRecord } from '../io';
import { BlockCache } from './block-cache';

function record(cidrText: string, revision: bigint): BlockRecord {
  return { key: `/calico/ipam/v2/assignment/ipv4/block/${cidrText.replace('/', '-')}`, value: { cidr: parseCidr(cidrText) } as AllocationBlock, revision, cidrText };
}

describe('the block cache', () => {
  it('keeps the blocks used most recently, up to its capacity', () => {
    const cache = new BlockCache(2);
    cache.remember([record('10.0.0.0/26', 1n), record('10.0.0.64/26', 2n)]);
    expect(cache.get('10.0.0.0/26')?.revision).toBe(1n); // now the most recent
    cache.remember([record('10.0.0.128/26', 3n)]);
    expect(cache.size).toBe(2);
    expect(cache.get('10.0.0.64/26')).toBeUndefined();
    expect(cache.get('10.0.0.0/26')?.revision).toBe(1n);
    expect(cache.get('10.0.0.128/26')?.revision).toBe(3n);
  });

  it('never replaces a block with an older revision of it', () => {
    const cache = new BlockCache(4);
    cache.remember([record('10.0.0.0/26', 5n)]);
    cache.remember([record('10.0.0.0/26', 4n)]);
    expect(cache.get('10.0.0.0/26')?.revision).toBe(5n);
    cache.remember([record('10.0.0.0/26', 6n)]);
    expect(cache.get('10.0.0.0/26')?.revision).toBe(6n);
  });
});
