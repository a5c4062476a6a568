import { formatCidr } from '@atoll/ipmath';
import {
  decodeAffinity,
  decodeBlock,
  decodeHandle,
  decodeIpamConfig,
  DEFAULT_IPAM_CONFIG,
  encodeAffinity,
  encodeBlock,
  encodeHandle,
  encodeIpamConfig,
  RecordDecodeError,
  blockHost,
} from '../index';

// A block as Calico's etcd datastore writes it (two addresses on one handle, one of them
// cooling down), with a sequence number above 2^53.
const CALICO_BLOCK =
  '{"cidr":"10.0.0.0/26","affinity":"host:node-1","affinity_claim_time":"2026-08-01T10:00:00Z",' +
  '"allocations":[0,1,null,null],"unallocated":[2,3],' +
  '"attributes":[{"handle_id":"k8s-pod-network.abc","secondary":{"namespace":"default","node":"node-1","pod":"p","timestamp":"2026-08-01 10:00:00.123456789 +0000 UTC"}},{"releasedAt":"2026-08-01T10:05:00Z"}],' +
  '"sequenceNumber":1786000000000000007,"sequenceNumberForAllocation":{"0":1786000000000000001,"1":1786000000000000003},"deleted":false}';

describe('IPAM block record', () => {
  it('reads a block written by Calico with exact 64-bit sequence numbers', () => {
    const b = decodeBlock(CALICO_BLOCK);
    expect(formatCidr(b.cidr)).toBe('10.0.0.0/26');
    expect(b.affinity).toBe('host:node-1');
    expect(blockHost(b)).toBe('node-1');
    expect(b.sequenceNumber).toBe(1786000000000000007n);
    expect(b.sequenceNumberForAllocation['1']).toBe(1786000000000000003n);
    expect(b.attributes[0]?.handleId).toBe('k8s-pod-network.abc');
    expect(b.attributes[1]?.releasedAt).toBe('2026-08-01T10:05:00Z');
  });

  it('writes the block back byte for byte', () => {
    expect(encodeBlock(decodeBlock(CALICO_BLOCK))).toBe(CALICO_BLOCK);
  });

  it('writes a null affinity (not omitted) and leaves out an absent claim time', () => {
    const b = { ...decodeBlock(CALICO_BLOCK), affinity: null, affinityClaimTime: undefined };
    const { affinityClaimTime: _drop, ...rest } = b;
    const json = encodeBlock(rest);
    expect(json).toContain('"affinity":null');
    expect(json).not.toContain('affinity_claim_time');
  });

  it('reads old blocks with null handle_id and secondary', () => {
    const b = decodeBlock('{"cidr":"fd00::/122","affinity":null,"allocations":[0],"unallocated":[],"attributes":[{"handle_id":null,"secondary":null}],"sequenceNumber":0,"sequenceNumberForAllocation":null,"deleted":false}');
    expect(b.attributes).toEqual([{}]);
    expect(b.sequenceNumberForAllocation).toEqual({});
    expect(blockHost(b)).toBeUndefined();
  });

  it.each([
    ['{"cidr":"nope"}', 'cidr'],
    ['{"cidr":"10.0.0.0/26","allocations":"x"}', 'allocations'],
    ['{"cidr":"10.0.0.0/26","allocations":[1.5]}', 'allocations[0]'],
    ['{"cidr":"10.0.0.0/26","sequenceNumber":-1}', 'sequenceNumber'],
    ['{"cidr":"10.0.0.0/26","attributes":[{"secondary":{"a":1}}]}', 'attributes[0].secondary.a'],
    ['[]', '(value)'],
  ])('refuses %s naming the field %s', (json, field) => {
    expect(() => decodeBlock(json)).toThrow(RecordDecodeError);
    expect(() => decodeBlock(json)).toThrow(`: ${field}: `);
  });
});

describe('affinity, handle and config records', () => {
  it.each([
    ['', 'confirmed'],
    ['{}', 'confirmed'],
    ['{"state":""}', 'confirmed'],
    ['{"state":"pending","deleted":false}', 'pending'],
    ['{"state":"pendingDeletion"}', 'pendingDeletion'],
  ])('reads the affinity value %j as %s', (json, state) => {
    expect(decodeAffinity(json).state).toBe(state);
  });

  it('refuses an unknown affinity state', () => {
    expect(() => decodeAffinity('{"state":"maybe"}')).toThrow('unknown state');
  });

  it('round-trips an affinity and a handle', () => {
    expect(encodeAffinity({ state: 'pending', deleted: false })).toBe('{"state":"pending","deleted":false}');
    const h = { block: { '10.0.0.0/26': 2, 'fd00::/122': 1 }, deleted: false };
    expect(decodeHandle(encodeHandle(h))).toEqual(h);
    expect(encodeHandle(h)).toBe('{"block":{"10.0.0.0/26":2,"fd00::/122":1},"deleted":false}');
  });

  it('refuses a negative handle count', () => {
    expect(() => decodeHandle('{"block":{"10.0.0.0/26":-1}}')).toThrow('block.10.0.0.0/26');
  });

  it('reads a stored config without auto_allocate_blocks as false (omitempty)', () => {
    expect(decodeIpamConfig('{"strict_affinity":true}')).toEqual({
      ...DEFAULT_IPAM_CONFIG,
      strictAffinity: true,
      autoAllocateBlocks: false,
    });
  });

  it('writes the config with omitempty and reads it back', () => {
    const c = { ...DEFAULT_IPAM_CONFIG, strictAffinity: true, maxBlocksPerHost: 2, ipCooldownSeconds: 30 };
    expect(encodeIpamConfig(c)).toBe(
      '{"strict_affinity":true,"auto_allocate_blocks":true,"maxBlocksPerHost":2,"kubeVirtVMAddressPersistence":"Enabled","ipCooldownSeconds":30}',
    );
    expect(decodeIpamConfig(encodeIpamConfig(c))).toEqual(c);
    expect(decodeIpamConfig(encodeIpamConfig(DEFAULT_IPAM_CONFIG))).toEqual(DEFAULT_IPAM_CONFIG);
  });
});
