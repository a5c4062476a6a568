import fc from 'fast-check';
import { parseCidr } from '@atoll/ipmath';
import type { AllocationBlock } from '@atoll/model';
import {
  allocatedOrdinals,
  assignFromBlock,
  assignOrdinal,
  blockProblems,
  freeCooledDown,
  isEmpty,
  newBlock,
  reassignOrdinal,
  releaseHandleOrdinals,
  releaseOrdinals,
  withNextSequence,
} from './index';
import { IpamError } from '../errors';

const NOW = new Date('2026-08-01T10:00:00Z');
const AT_ONCE = { now: NOW, cooldownSeconds: 0 };
const fresh = (cidr = '10.0.0.0/26') => newBlock({ cidr: parseCidr(cidr), affinity: 'host:n1', now: NOW });

describe('a new block', () => {
  it('has every ordinal free in ascending order and a time-based sequence number', () => {
    const b = fresh();
    expect(b.unallocated).toEqual(Array.from({ length: 64 }, (_, i) => i));
    expect(b.allocations.every((a) => a === null)).toBe(true);
    expect(b.sequenceNumber).toBe(BigInt(NOW.getTime()) * 1_000_000n);
    expect(b.affinityClaimTime).toBe(NOW.toISOString());
    expect(blockProblems(b)).toEqual([]);
    expect(isEmpty(b)).toBe(true);
  });
});

describe('assigning from a block', () => {
  it('hands out .0, .1, .2 in order and records the current sequence number', () => {
    const { block, ordinals } = assignFromBlock(fresh(), { num: 3, handleId: 'h', attributes: { node: 'n1' } });
    expect(ordinals).toEqual([0, 1, 2]);
    expect(block.attributes).toEqual([{ handleId: 'h', secondary: { node: 'n1' } }]);
    expect(block.sequenceNumberForAllocation['2']).toBe(fresh().sequenceNumber);
    expect(blockProblems(block)).toEqual([]);
  });

  it('skips reserved ordinals and leaves them where they are', () => {
    const reserved = new Set([0, 2]);
    const { block, ordinals } = assignFromBlock(fresh(), { num: 2, handleId: 'h', isReserved: (o) => reserved.has(o) });
    expect(ordinals).toEqual([1, 3]);
    expect(block.unallocated.slice(0, 3)).toEqual([0, 2, 4]);
  });

  it('shares an attribute entry between calls with the same handle and attributes', () => {
    let b = assignFromBlock(fresh(), { num: 1, handleId: 'h', attributes: { pod: 'p' } }).block;
    b = assignFromBlock(b, { num: 1, handleId: 'h', attributes: { pod: 'p' } }).block;
    expect(b.attributes).toHaveLength(1);
  });

  it('returns fewer ordinals than asked when the block runs out', () => {
    const { ordinals } = assignFromBlock(fresh('10.0.0.0/30'), { num: 10, handleId: 'h' });
    expect(ordinals).toEqual([0, 1, 2, 3]);
  });

  it('assigns a specific ordinal once and refuses it the second time', () => {
    const b = assignOrdinal(fresh(), 5, { handleId: 'h' })!;
    expect(b.unallocated).not.toContain(5);
    expect(assignOrdinal(b, 5, { handleId: 'other' })).toBeUndefined();
  });

  it('never mutates the block it was given', () => {
    const b = fresh();
    const snapshot = JSON.stringify(b, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
    assignFromBlock(b, { num: 5, handleId: 'h' });
    assignOrdinal(b, 7, { handleId: 'h' });
    expect(JSON.stringify(b, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))).toBe(snapshot);
  });
});

describe('releasing from a block', () => {
  const threeOnOneHandle = (): AllocationBlock =>
    withNextSequence(assignFromBlock(fresh(), { num: 3, handleId: 'h', attributes: { pod: 'p' } }).block);

  it('keeps the shared attribute while one of three addresses is released', () => {
    const r = releaseOrdinals(threeOnOneHandle(), [{ ordinal: 1 }], AT_ONCE);
    expect(r.block.attributes).toHaveLength(1);
    expect(r.handleCounts).toEqual(new Map([['h', 1]]));
  });

  it('drops the attribute and counts {h: 3} when all three are released', () => {
    const r = releaseOrdinals(threeOnOneHandle(), [0, 1, 2].map((ordinal) => ({ ordinal })), AT_ONCE);
    expect(r.block.attributes).toEqual([]);
    expect(r.handleCounts).toEqual(new Map([['h', 3]]));
    expect(isEmpty(r.block)).toBe(true);
  });

  it('appends released ordinals to the tail of unallocated', () => {
    const r = releaseOrdinals(threeOnOneHandle(), [{ ordinal: 1 }, { ordinal: 0 }], AT_ONCE);
    expect(r.block.unallocated.slice(-2)).toEqual([1, 0]);
    expect(r.block.unallocated[0]).toBe(3);
  });

  it('reports an address that was not allocated instead of failing', () => {
    const r = releaseOrdinals(threeOnOneHandle(), [{ ordinal: 9 }, { ordinal: 9 }], AT_ONCE);
    expect(r.notAllocated).toEqual([9]);
    expect(r.released).toEqual([]);
  });

  it.each([
    [{ ordinal: 0, sequenceNumber: 1n }, 'the given sequence number (1) does not match'],
    [{ ordinal: 0, handleId: 'other' }, 'the given handle (other) does not match (h)'],
  ])('refuses the whole block for %o', (req, message) => {
    expect(() => releaseOrdinals(threeOnOneHandle(), [{ ordinal: 1 }, req], AT_ONCE)).toThrow(IpamError);
    expect(() => releaseOrdinals(threeOnOneHandle(), [req], AT_ONCE)).toThrow(message);
  });

  it('releases by handle skipping ordinals whose sequence number moved on', () => {
    let b = assignFromBlock(fresh(), { num: 4, handleId: 'h' }).block;
    const seq = b.sequenceNumberForAllocation['0']!;
    b = withNextSequence(b);
    const wanted = new Map([[0, seq], [1, seq], [2, seq], [3, seq + 99n]]);
    const r = releaseHandleOrdinals(b, 'h', AT_ONCE, wanted);
    expect(r.released).toEqual([0, 1, 2]);
    expect(allocatedOrdinals(r.block)).toEqual([3]);
    expect(r.block.unallocated.slice(-3)).toEqual([0, 1, 2]);
  });
});

describe('cooldown', () => {
  const later = (s: number) => new Date(NOW.getTime() + s * 1000);

  it('keeps a released address out of hand-out until the cooldown has passed', () => {
    let b = withNextSequence(assignFromBlock(fresh('10.0.0.0/30'), { num: 4, handleId: 'h' }).block);
    b = releaseOrdinals(b, [{ ordinal: 2 }], { now: NOW, cooldownSeconds: 30 }).block;
    expect(b.unallocated).toEqual([]);
    expect(isEmpty(b)).toBe(false);
    expect(blockProblems(b, NOW)).toEqual([]);
    expect(freeCooledDown(b, { now: later(29), cooldownSeconds: 30 })).toBe(b);
    const freed = freeCooledDown(b, { now: later(30), cooldownSeconds: 30 });
    expect(freed.unallocated).toEqual([2]);
    expect(freed.sequenceNumberForAllocation['2']).toBeUndefined();
    expect(blockProblems(freed)).toEqual([]);
  });

  it('does not release an address twice while it cools down', () => {
    let b = withNextSequence(assignFromBlock(fresh(), { num: 1, handleId: 'h' }).block);
    b = releaseOrdinals(b, [{ ordinal: 0 }], { now: NOW, cooldownSeconds: 30 }).block;
    const again = releaseOrdinals(b, [{ ordinal: 0 }], { now: NOW, cooldownSeconds: 30 });
    expect(again.notAllocated).toEqual([0]);
    expect(releaseHandleOrdinals(b, 'h', { now: NOW, cooldownSeconds: 30 }).released).toEqual([]);
  });
});

describe('block invariants', () => {
  type Op =
    | { kind: 'assign'; num: number; handle: number }
    | { kind: 'assignOrdinal'; ordinal: number; handle: number }
    | { kind: 'release'; ordinals: number[] }
    | { kind: 'releaseHandle'; handle: number }
    | { kind: 'cool'; seconds: number };

  const opArb: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('assign' as const), num: fc.integer({ min: 1, max: 20 }), handle: fc.integer({ min: 0, max: 4 }) }),
    fc.record({ kind: fc.constant('assignOrdinal' as const), ordinal: fc.integer({ min: 0, max: 63 }), handle: fc.integer({ min: 0, max: 4 }) }),
    fc.record({ kind: fc.constant('release' as const), ordinals: fc.array(fc.integer({ min: 0, max: 63 }), { maxLength: 10 }) }),
    fc.record({ kind: fc.constant('releaseHandle' as const), handle: fc.integer({ min: 0, max: 4 }) }),
    fc.record({ kind: fc.constant('cool' as const), seconds: fc.integer({ min: 0, max: 60 }) }),
  );

  it('hold after every sequence of assigns, releases and cooldowns, and no ordinal is lost', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), fc.constantFrom(0, 30), (ops, cooldownSeconds) => {
        let b = fresh();
        let clock = NOW.getTime();
        for (const op of ops) {
          const timing = { now: new Date(clock), cooldownSeconds };
          if (op.kind === 'assign') b = assignFromBlock(b, { num: op.num, handleId: `h${op.handle}` }).block;
          else if (op.kind === 'assignOrdinal') b = assignOrdinal(b, op.ordinal, { handleId: `h${op.handle}` }) ?? b;
          else if (op.kind === 'release') b = releaseOrdinals(b, op.ordinals.map((ordinal) => ({ ordinal })), timing).block;
          else if (op.kind === 'releaseHandle') b = releaseHandleOrdinals(b, `h${op.handle}`, timing).block;
          else {
            clock += op.seconds * 1000;
            b = freeCooledDown(b, { now: new Date(clock), cooldownSeconds });
          }
          b = withNextSequence(b);
          expect(blockProblems(b, new Date(clock))).toEqual([]);
          // every live allocation has a sequence number; free ordinals have none
          for (const o of allocatedOrdinals(b)) expect(b.sequenceNumberForAllocation[String(o)]).toBeDefined();
          for (const o of b.unallocated) expect(b.sequenceNumberForAllocation[String(o)]).toBeUndefined();
        }
      }),
      { numRuns: 150 },
    );
  });

  it.each([
    ['an allocation pointing past the attributes', (b: AllocationBlock) => ({ ...b, allocations: [5, ...b.allocations.slice(1)], unallocated: b.unallocated.slice(1) }), 'points at attribute 5'],
    ['a duplicate in unallocated', (b: AllocationBlock) => ({ ...b, unallocated: [...b.unallocated, 0] }), 'listed twice'],
    ['an allocated ordinal in unallocated', (b: AllocationBlock) => ({ ...assignOrdinal(b, 3, { handleId: 'h' })!, unallocated: b.unallocated }), 'both allocated and unallocated'],
    ['counts that do not add up', (b: AllocationBlock) => ({ ...b, unallocated: b.unallocated.slice(1) }), '0 allocated + 63 unallocated != 64'],
    ['an unreferenced attribute', (b: AllocationBlock) => ({ ...b, attributes: [{ handleId: 'x' }] }), 'not referenced'],
  ])('are reported broken for %s', (_name, damage, message) => {
    expect(blockProblems(damage(fresh())).join('\n')).toContain(message);
  });
});

describe('reassigning an ordinal to another handle', () => {
  it('points the ordinal at the new handle, drops the old entry nothing uses, and records the current sequence number', () => {
    let b = assignFromBlock(fresh(), { num: 2, handleId: 'old', attributes: { pod: 'a' } }).block;
    b = withNextSequence(b);
    const next = reassignOrdinal(b, 1, { handleId: 'new', attributes: { pod: 'b' } })!;
    expect(next.attributes).toEqual([{ handleId: 'old', secondary: { pod: 'a' } }, { handleId: 'new', secondary: { pod: 'b' } }]);
    expect(next.allocations.slice(0, 2)).toEqual([0, 1]);
    expect(next.sequenceNumberForAllocation['1']).toBe(b.sequenceNumber);
    expect(next.sequenceNumberForAllocation['0']).toBe(fresh().sequenceNumber);
    expect(next.unallocated).toEqual(b.unallocated);
    const both = reassignOrdinal(next, 0, { handleId: 'new', attributes: { pod: 'b' } })!;
    expect(both.attributes).toEqual([{ handleId: 'new', secondary: { pod: 'b' } }]);
    expect(blockProblems(both)).toEqual([]);
  });

  it('refuses a free ordinal and one cooling down', () => {
    const b = assignFromBlock(fresh(), { num: 1, handleId: 'old' }).block;
    expect(reassignOrdinal(b, 5, { handleId: 'new' })).toBeUndefined();
    const cooling = releaseOrdinals(b, [{ ordinal: 0 }], { now: NOW, cooldownSeconds: 60 }).block;
    expect(reassignOrdinal(cooling, 0, { handleId: 'new' })).toBeUndefined();
  });
});
