import { parseCidr } from '@atoll/ipmath';
import type { AllocationBlock, IpamHandle } from '@atoll/model';
import { assignFromBlock, attributeOf, newBlock } from '../block';
import { IpamError } from '../errors';
import { BlockReleaseTask, nextHandle, planBlockRelease } from './block-release-plan';

const NOW = new Date('2026-08-01T10:00:00Z');
const CIDR = '10.0.0.0/26';

/** A block with `counts[i]` addresses for handle `h<i>`, in that order from .0. */
function blockWith(counts: readonly number[], affinity: string | null = 'host:n1'): AllocationBlock {
  let block = newBlock({ cidr: parseCidr(CIDR), affinity, now: NOW });
  counts.forEach((num, i) => (block = assignFromBlock(block, { num, handleId: `h${i}` }).block));
  return block;
}

function handles(...entries: [string, Record<string, number>][]): Map<string, IpamHandle> {
  return new Map(entries.map(([id, block]) => [id, { block, deleted: false }]));
}

const byHandle = (handleId: string, cooldownSeconds = 0): BlockReleaseTask => ({ kind: 'handle', handleId, cooldownSeconds });
const ordinals = (items: { ordinal: number; handleId?: string; sequenceNumber?: bigint }[], cooldownSeconds = 0): BlockReleaseTask => ({
  kind: 'ordinals',
  items,
  cooldownSeconds,
});

describe('planning a batch of releases in one block', () => {
  it('releases every handle of the batch into the tail of the free list, in task order, and deletes their records', () => {
    const block = blockWith([2, 1, 1]);
    const plan = planBlockRelease(CIDR, block, handles(['h0', { [CIDR]: 2 }], ['h2', { [CIDR]: 1 }]), [byHandle('h2'), byHandle('h0')], NOW);
    expect(plan.outcomes).toEqual([
      { kind: 'handle', freed: [3] },
      { kind: 'handle', freed: [0, 1] },
    ]);
    expect(plan.blockChanged).toBe(true);
    expect(plan.nextBlock!.unallocated.slice(-3)).toEqual([3, 0, 1]);
    expect(attributeOf(plan.nextBlock!, 2)?.handleId).toBe('h1');
    expect(plan.handleEffects).toEqual(new Map([['h2', { deleted: true, released: 1 }], ['h0', { deleted: true, released: 2 }]]));
  });

  it('answers a second release of the same handle in the batch with not-found, as it would alone', () => {
    const plan = planBlockRelease(CIDR, blockWith([1]), handles(['h0', { [CIDR]: 1 }]), [byHandle('h0'), byHandle('h0')], NOW);
    expect(plan.outcomes[0]).toEqual({ kind: 'handle', freed: [0] });
    expect(plan.outcomes[1]).toMatchObject({ code: 'not-found' });
  });

  it('answers not-found for a handle with no record without touching the others', () => {
    const plan = planBlockRelease(CIDR, blockWith([1, 1]), handles(['h1', { [CIDR]: 1 }]), [byHandle('h0'), byHandle('h1')], NOW);
    expect(plan.outcomes[0]).toMatchObject({ code: 'not-found' });
    expect(plan.outcomes[1]).toEqual({ kind: 'handle', freed: [1] });
    expect(attributeOf(plan.nextBlock!, 0)?.handleId).toBe('h0');
  });

  it.each([
    ['names another block too', { [CIDR]: 1, '10.0.0.64/26': 1 }],
    ['names only another block', { '10.0.0.64/26': 1 }],
    ['names no block', {}],
  ])('sends a handle that %s elsewhere and leaves it alone', (_what, named) => {
    const plan = planBlockRelease(CIDR, blockWith([1]), handles(['h0', named]), [byHandle('h0')], NOW);
    expect(plan.outcomes).toEqual([{ kind: 'elsewhere' }]);
    expect(plan.blockChanged).toBe(false);
    expect(plan.handleEffects.size).toBe(0);
  });

  it('refuses only the task whose sequence number is stale; the tasks around it are applied', () => {
    const block = blockWith([1, 1, 1]);
    const seq = block.sequenceNumberForAllocation['0']!;
    const plan = planBlockRelease(
      CIDR,
      block,
      handles(['h0', { [CIDR]: 1 }], ['h1', { [CIDR]: 1 }], ['h2', { [CIDR]: 1 }]),
      [ordinals([{ ordinal: 0, sequenceNumber: seq }]), ordinals([{ ordinal: 1, sequenceNumber: seq + 1n }]), byHandle('h2')],
      NOW,
    );
    expect(plan.outcomes[0]).toEqual({ kind: 'ordinals', notAllocated: [] });
    expect(plan.outcomes[1]).toBeInstanceOf(IpamError);
    expect(plan.outcomes[1]).toMatchObject({ code: 'sequence-mismatch' });
    expect(plan.outcomes[2]).toEqual({ kind: 'handle', freed: [2] });
    expect(attributeOf(plan.nextBlock!, 1)?.handleId).toBe('h1');
    expect(plan.handleEffects).toEqual(new Map([['h0', { deleted: false, released: 1 }], ['h2', { deleted: true, released: 1 }]]));
  });

  it('refuses a task naming another handle, for that task only', () => {
    const plan = planBlockRelease(CIDR, blockWith([1, 1]), handles(), [ordinals([{ ordinal: 0, handleId: 'h1' }]), ordinals([{ ordinal: 1, handleId: 'h1' }])], NOW);
    expect(plan.outcomes[0]).toMatchObject({ code: 'sequence-mismatch' });
    expect(plan.outcomes[1]).toEqual({ kind: 'ordinals', notAllocated: [] });
  });

  it('reports an address an earlier task of the batch released as not allocated', () => {
    const plan = planBlockRelease(CIDR, blockWith([2]), handles(['h0', { [CIDR]: 2 }]), [byHandle('h0'), ordinals([{ ordinal: 1 }, { ordinal: 9 }])], NOW);
    expect(plan.outcomes[1]).toEqual({ kind: 'ordinals', notAllocated: [1, 9] });
    expect(plan.handleEffects.get('h0')).toEqual({ deleted: true, released: 2 });
  });

  it('counts down handles it learns from the block, for addresses released without naming one', () => {
    const plan = planBlockRelease(CIDR, blockWith([3]), handles(), [ordinals([{ ordinal: 0 }]), ordinals([{ ordinal: 2 }])], NOW);
    expect(plan.handleEffects).toEqual(new Map([['h0', { deleted: false, released: 2 }]]));
  });

  it('holds released addresses back with each task\'s own cooldown', () => {
    const plan = planBlockRelease(CIDR, blockWith([1, 1]), handles(['h0', { [CIDR]: 1 }], ['h1', { [CIDR]: 1 }]), [byHandle('h0', 30), byHandle('h1', 0)], NOW);
    expect(attributeOf(plan.nextBlock!, 0)).toEqual({ releasedAt: NOW.toISOString() });
    expect(plan.nextBlock!.allocations[1]).toBeNull();
    expect(plan.nextBlock!.unallocated).not.toContain(0);
    expect(plan.nextBlock!.unallocated.at(-1)).toBe(1);
  });

  it('deletes a block left empty only when nobody owns it', () => {
    const tasks = [byHandle('h0')];
    const h = handles(['h0', { [CIDR]: 1 }]);
    expect(planBlockRelease(CIDR, blockWith([1], null), h, tasks, NOW).nextBlock).toBeNull();
    expect(planBlockRelease(CIDR, blockWith([1], 'host:n1'), h, tasks, NOW).nextBlock).not.toBeNull();
  });

  it('writes nothing to the block when nothing in it was released, yet deletes the handle', () => {
    const plan = planBlockRelease(CIDR, blockWith([1]), handles(['gone', { [CIDR]: 1 }]), [byHandle('gone'), ordinals([{ ordinal: 40 }])], NOW);
    expect(plan.blockChanged).toBe(false);
    expect(plan.outcomes).toEqual([
      { kind: 'handle', freed: [] },
      { kind: 'ordinals', notAllocated: [40] },
    ]);
    expect(plan.handleEffects.get('gone')).toEqual({ deleted: true, released: 0 });
  });

  it('releases a handle whose block no longer exists by deleting its record, and finds no address', () => {
    const plan = planBlockRelease(CIDR, undefined, handles(['h0', { [CIDR]: 1 }]), [byHandle('h0'), ordinals([{ ordinal: 3 }])], NOW);
    expect(plan.outcomes).toEqual([
      { kind: 'handle', freed: [] },
      { kind: 'ordinals', notAllocated: [3] },
    ]);
    expect(plan.blockChanged).toBe(false);
    expect(plan.handleEffects.get('h0')?.deleted).toBe(true);
  });
});

describe('a handle record after a batch', () => {
  const record: IpamHandle = { block: { [CIDR]: 3, '10.0.0.64/26': 1 }, deleted: false };

  it.each<[string, { deleted: boolean; released: number }, IpamHandle | null | undefined]>([
    ['is deleted by a release by handle', { deleted: true, released: 3 }, null],
    ['is left alone when nothing of it was released', { deleted: false, released: 0 }, undefined],
    ['counts down this block only', { deleted: false, released: 2 }, { ...record, block: { [CIDR]: 1, '10.0.0.64/26': 1 } }],
    ['never counts below zero', { deleted: false, released: 5 }, { ...record, block: { [CIDR]: 0, '10.0.0.64/26': 1 } }],
  ])('%s', (_what, effect, expected) => {
    expect(nextHandle(CIDR, record, effect)).toEqual(expected);
  });
});
