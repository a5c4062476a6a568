import fc from 'fast-check';
import { parseCidr } from '@atoll/ipmath';
import { stringifyJsonLossless } from '../json';
import { decodeBlock, encodeBlock, type AllocationAttribute, type AllocationBlock } from './block';

// encodeBlock is written by hand for speed; it must give exactly the text of the generic
// lossless writer applied to Calico's field order and omitempty rules.
function reference(b: AllocationBlock): string {
  const attribute = (a: AllocationAttribute) => ({
    ...(a.handleId !== undefined && { handle_id: a.handleId }),
    ...(a.secondary !== undefined && { secondary: a.secondary }),
    ...(a.alternateOwnerAttrs !== undefined && { alternateOwnerAttrs: a.alternateOwnerAttrs }),
    ...(a.releasedAt !== undefined && { releasedAt: a.releasedAt }),
  });
  return stringifyJsonLossless({
    cidr: blockCidrText,
    affinity: b.affinity,
    ...(b.affinityClaimTime !== undefined && { affinity_claim_time: b.affinityClaimTime }),
    allocations: b.allocations,
    unallocated: b.unallocated,
    attributes: b.attributes.map(attribute),
    sequenceNumber: b.sequenceNumber,
    sequenceNumberForAllocation: b.sequenceNumberForAllocation,
    deleted: b.deleted,
    ...(b.hostAffinity !== undefined && { hostAffinity: b.hostAffinity }),
  });
}

const blockCidrText = '10.0.0.0/29';
const text = fc.string({ unit: 'binary', maxLength: 12 });
const strings = fc.dictionary(text, text, { maxKeys: 3 });
const uint64 = fc.bigInt({ min: 0n, max: 0xffffffffffffffffn });

const attribute: fc.Arbitrary<AllocationAttribute> = fc.record(
  { handleId: text, secondary: strings, alternateOwnerAttrs: strings, releasedAt: text },
  { requiredKeys: [] },
);

const block: fc.Arbitrary<AllocationBlock> = fc
  .record({
    affinity: fc.option(text, { nil: null }),
    affinityClaimTime: fc.option(text, { nil: undefined }),
    allocations: fc.array(fc.option(fc.nat(7), { nil: null }), { minLength: 8, maxLength: 8 }),
    unallocated: fc.uniqueArray(fc.nat(7), { maxLength: 8 }),
    attributes: fc.array(attribute, { maxLength: 4 }),
    sequenceNumber: uint64,
    sequenceNumberForAllocation: fc.dictionary(fc.nat(7).map(String), uint64, { maxKeys: 8 }),
    deleted: fc.boolean(),
    hostAffinity: fc.option(text, { nil: undefined }),
  })
  .map((r) => {
    const b: Record<string, unknown> = { ...r, cidr: parseCidr(blockCidrText) };
    for (const k of ['affinityClaimTime', 'hostAffinity']) if (b[k] === undefined) delete b[k];
    return b as unknown as AllocationBlock;
  });

describe('encodeBlock', () => {
  it('writes exactly what the generic lossless writer writes, for any block', () => {
    fc.assert(
      fc.property(block, (b) => {
        expect(encodeBlock(b)).toBe(reference(b));
      }),
      { numRuns: 500 },
    );
  });

  it('keeps an attribute key named "__proto__" through decode and encode', () => {
    const text =
      '{"cidr":"10.0.0.0/29","affinity":null,"allocations":[0,null,null,null,null,null,null,null],"unallocated":[1,2,3,4,5,6,7],' +
      '"attributes":[{"handle_id":"h","secondary":{"__proto__":"x","pod":"p"}}],"sequenceNumber":0,"sequenceNumberForAllocation":{"0":0},"deleted":false}';
    const b = decodeBlock(text);
    expect(Object.keys(b.attributes[0]!.secondary!)).toEqual(['__proto__', 'pod']);
    expect(encodeBlock(b)).toBe(text);
  });

  it('round-trips through decodeBlock, 64-bit sequence numbers exact', () => {
    fc.assert(
      fc.property(block, (b) => {
        const again = decodeBlock(encodeBlock(b));
        expect(again.sequenceNumber).toBe(b.sequenceNumber);
        expect(again.sequenceNumberForAllocation).toEqual(b.sequenceNumberForAllocation);
        expect(encodeBlock(again)).toBe(encodeBlock(b));
      }),
      { numRuns: 200 },
    );
  });
});
