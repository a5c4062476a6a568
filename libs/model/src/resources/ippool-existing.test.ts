import { parseCidr } from '@atoll/ipmath';
import { IPPool, IPPoolSpec, validatePoolAgainstExisting, validatePoolBlockSize, validatePoolUpdate } from './index';

function pool(name: string, spec: Partial<IPPoolSpec> & { cidr: string }): IPPool {
  return { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec };
}

function reasons(problems: readonly { field: string; reason: string }[]): Array<[string, string]> {
  return problems.map((p) => [p.field, p.reason]);
}

describe('validatePoolAgainstExisting', () => {
  const existing = [pool('p1', { cidr: '10.0.0.0/16' }), pool('p6', { cidr: 'fd00::/64' })];

  it('names the new pool first, then the existing pool and its CIDR, as Calico does', () => {
    expect(reasons(validatePoolAgainstExisting(pool('p2', { cidr: '10.0.1.0/24' }), existing))).toEqual([
      ['spec.cidr', 'IPPool(p2) CIDR overlaps with IPPool(p1) CIDR 10.0.0.0/16'],
    ]);
  });

  it('reports one problem per overlapping pool', () => {
    const pools = [pool('a', { cidr: '10.1.0.0/16' }), pool('b', { cidr: '10.2.0.0/16' }), pool('c', { cidr: '10.3.0.0/16' })];
    expect(reasons(validatePoolAgainstExisting(pool('big', { cidr: '10.0.0.0/14' }), pools))).toEqual([
      ['spec.cidr', 'IPPool(big) CIDR overlaps with IPPool(a) CIDR 10.1.0.0/16'],
      ['spec.cidr', 'IPPool(big) CIDR overlaps with IPPool(b) CIDR 10.2.0.0/16'],
      ['spec.cidr', 'IPPool(big) CIDR overlaps with IPPool(c) CIDR 10.3.0.0/16'],
    ]);
  });

  it('quotes the existing CIDR as stored, even when not canonical', () => {
    const stored = [pool('old', { cidr: 'fd00:0:0::/64' })];
    expect(reasons(validatePoolAgainstExisting(pool('new', { cidr: 'fd00::/80' }), stored))).toEqual([
      ['spec.cidr', 'IPPool(new) CIDR overlaps with IPPool(old) CIDR fd00:0:0::/64'],
    ]);
  });

  it.each([
    ['an adjacent range', '10.1.0.0/16'],
    ['the other family', 'fd01::/64'],
    ['the same name (that is "already exists", not an overlap)', '10.0.0.0/16', 'p1'],
  ])('accepts %s', (_title, cidr, name = 'p2') => {
    expect(validatePoolAgainstExisting(pool(name, { cidr }), existing)).toEqual([]);
  });

  it('skips an existing pool whose CIDR does not parse, as Calico does', () => {
    expect(validatePoolAgainstExisting(pool('p2', { cidr: '10.0.0.0/16' }), [pool('bad', { cidr: 'garbage' })])).toEqual([]);
  });

  it('also refuses a block size that conflicts with existing blocks', () => {
    const problems = validatePoolAgainstExisting(pool('p2', { cidr: '10.9.0.0/16', blockSize: 24 }), existing, ['10.9.3.0/26']);
    expect(reasons(problems)).toEqual([
      ['spec.blockSize', 'IPPool blocksSize conflicts with existing allocations that use a different blockSize'],
    ]);
  });
});

describe('validatePoolBlockSize', () => {
  const conflict = 'IPPool blocksSize conflicts with existing allocations that use a different blockSize';

  it.each([
    ['refuses a pool over a block of another size', { cidr: '10.0.0.0/16', blockSize: 24 }, ['10.0.5.0/26'], [conflict]],
    ['compares against the default block size', { cidr: '10.0.0.0/16' }, ['10.0.5.0/28'], [conflict]],
    ['refuses a block that contains the pool', { cidr: '10.0.0.0/28', blockSize: 28 }, ['10.0.0.0/26'], [conflict]],
    ['accepts blocks of the same size', { cidr: '10.0.0.0/16' }, ['10.0.5.0/26', '10.0.9.64/26'], []],
    ['ignores blocks outside the pool', { cidr: '10.0.0.0/16', blockSize: 24 }, ['10.1.0.0/26'], []],
    ['ignores blocks of the other family', { cidr: 'fd00::/64' }, ['10.0.0.0/26'], []],
    ['ignores block text that does not parse', { cidr: '10.0.0.0/16' }, ['nonsense'], []],
  ])('%s', (_title, spec, blocks, expected) => {
    expect(validatePoolBlockSize(pool('p', spec), blocks).map((p) => p.reason)).toEqual(expected);
  });

  it('accepts parsed CIDRs as well as text', () => {
    expect(validatePoolBlockSize(pool('p', { cidr: '10.0.0.0/16' }), [parseCidr('10.0.0.0/24')])).toHaveLength(1);
  });
});

describe('validatePoolUpdate', () => {
  const lb = pool('lb', { cidr: '10.0.0.0/16', allowedUses: ['LoadBalancer'] });

  it.each([
    ['refuses a changed CIDR', pool('p', { cidr: '10.0.0.0/16' }), pool('p', { cidr: '10.0.0.0/15' }), [['spec.cidr', 'IPPool CIDR cannot be modified']]],
    ['refuses a changed block size', pool('p', { cidr: '10.0.0.0/16' }), pool('p', { cidr: '10.0.0.0/16', blockSize: 24 }), [['spec.blockSize', 'IPPool BlockSize cannot be modified']]],
    [
      'refuses a LoadBalancer pool becoming a Workload pool',
      lb,
      pool('lb', { cidr: '10.0.0.0/16', allowedUses: ['Workload'] }),
      [['spec.allowedUses', 'IPPool allowed use cannot be changed from LoadBalancer to Workload or Tunnel']],
    ],
    [
      'refuses a LoadBalancer pool losing allowedUses (the default is Workload and Tunnel)',
      lb,
      pool('lb', { cidr: '10.0.0.0/16' }),
      [['spec.allowedUses', 'IPPool allowed use cannot be changed from LoadBalancer to Workload or Tunnel']],
    ],
    ['accepts an unchanged LoadBalancer pool', lb, lb, []],
    ['accepts a Workload pool becoming a LoadBalancer pool', pool('p', { cidr: '10.0.0.0/16' }), lb, []],
    ['accepts the same IPv6 network written canonically', pool('p', { cidr: 'fd00:0:0::/122' }), pool('p', { cidr: 'fd00::/122' }), []],
    ['accepts a default block size made explicit', pool('p', { cidr: '10.0.0.0/16' }), pool('p', { cidr: '10.0.0.0/16', blockSize: 26 }), []],
    [
      'accepts changes to mutable fields',
      pool('p', { cidr: '10.0.0.0/16' }),
      pool('p', { cidr: '10.0.0.0/16', disabled: true, natOutgoing: true, nodeSelector: '!all()', vxlanMode: 'Always' }),
      [],
    ],
  ])('%s', (_title, before, after, expected) => {
    expect(reasons(validatePoolUpdate(before, after))).toEqual(expected);
  });

  it('never mutates either pool', () => {
    const before = Object.freeze(pool('p', Object.freeze({ cidr: '10.0.0.0/16' })));
    const after = Object.freeze(pool('p', Object.freeze({ cidr: '10.1.0.0/16' })));
    expect(validatePoolUpdate(before, after)).toHaveLength(1);
    expect(before.spec).toEqual({ cidr: '10.0.0.0/16' });
  });
});
