import { FAULT_KINDS, Ledger, parseFaultGroups, seededRandom, fromEnv, SHORT_FORM, type ChaosPod } from '../../../tools/chaos';

// The chaos suite's bookkeeping must catch what it claims to catch: these feed the ledger
// the histories of real defects (an address handed out twice, an allocation lost under a
// live pod, a block listing an address twice) and the histories that are legitimate.

let seq = 0;
const pod = (name: string, staticIp?: string): ChaosPod => ({
  seq: ++seq,
  name,
  namespace: 'chaos',
  containerId: `c-${name}`,
  handle: `k8s-pod-network.c-${name}`,
  agent: 0,
  ...(staticIp && { staticIp }),
  ips: [],
  released: false,
});
const listed = (...pairs: [string, ChaosPod | string][]) => pairs.map(([address, p]) => ({ address, handleId: typeof p === 'string' ? p : p.handle }));

describe('the chaos ledger', () => {
  it('reports an address handed to a second pod while the first still holds it', () => {
    const ledger = new Ledger();
    const a = pod('a');
    const b = pod('b');
    ledger.addSucceeded(a, ['10.0.0.1'], {});
    ledger.addSucceeded(b, ['10.0.0.1'], {});
    expect(ledger.duplicates).toEqual([expect.objectContaining({ address: '10.0.0.1', holders: ['chaos/a', 'chaos/b'], seenBy: 'bookkeeping' })]);
  });

  it('accepts an address handed on once the first pod started its DEL', () => {
    const ledger = new Ledger();
    const a = pod('a');
    const b = pod('b');
    ledger.addSucceeded(a, ['10.0.0.1'], {});
    ledger.delStarting(a);
    ledger.addSucceeded(b, ['10.0.0.1'], {});
    expect(ledger.duplicates).toEqual([]);
    expect([...ledger.live]).toEqual([b]);
  });

  it('reports an address listed twice by the datastore, once however often it is seen', () => {
    const ledger = new Ledger();
    ledger.checkListing(listed(['10.0.0.1', 'h1'], ['10.0.0.1', 'h2']), performance.now());
    ledger.checkListing(listed(['10.0.0.1', 'h2'], ['10.0.0.1', 'h1']), performance.now());
    expect(ledger.duplicates).toEqual([expect.objectContaining({ address: '10.0.0.1', seenBy: 'datastore' })]);
  });

  it('reports a live pod whose address the datastore no longer has, or has under another handle', () => {
    const ledger = new Ledger();
    const a = pod('a');
    const b = pod('b');
    ledger.addSucceeded(a, ['10.0.0.1'], {});
    ledger.addSucceeded(b, ['10.0.0.2'], {});
    ledger.checkListing(listed(['10.0.0.2', 'k8s-pod-network.someone-else']), performance.now() + 1);
    expect(ledger.lost).toEqual([
      expect.objectContaining({ address: '10.0.0.1', handle: a.handle }),
      expect.objectContaining({ address: '10.0.0.2', handle: b.handle, found: 'k8s-pod-network.someone-else' }),
    ]);
  });

  it('does not hold a listing against pods added after it started or being deleted', () => {
    const ledger = new Ledger();
    const startedAt = performance.now() - 1;
    const late = pod('late');
    const leaving = pod('leaving');
    ledger.addSucceeded(leaving, ['10.0.0.3'], {});
    ledger.addSucceeded(late, ['10.0.0.4'], {});
    ledger.delStarting(leaving);
    ledger.checkListing([], startedAt);
    expect(ledger.lost).toEqual([]);
  });

  it('hands out a static address only after the pod that asked for it was deleted', () => {
    const ledger = new Ledger();
    const first = () => 0;
    const a = pod('a', ledger.claimStatic(['10.201.0.10'], first));
    expect(a.staticIp).toBe('10.201.0.10');
    expect(ledger.claimStatic(['10.201.0.10'], first)).toBeUndefined();
    ledger.delStarting(a);
    expect(ledger.claimStatic(['10.201.0.10'], first)).toBeUndefined();
    ledger.released(a);
    expect(ledger.claimStatic(['10.201.0.10'], first)).toBe('10.201.0.10');
  });
});

describe('chaos settings', () => {
  it('reads ATOLL_CHAOS_* over the defaults and refuses bad values naming the variable', () => {
    expect(fromEnv(SHORT_FORM, { ATOLL_CHAOS_OPERATIONS: '20000', ATOLL_CHAOS_STATIC_FRACTION: '0.5' })).toMatchObject({ operations: 20000, staticFraction: 0.5, agents: 5 });
    expect(() => fromEnv(SHORT_FORM, { ATOLL_CHAOS_OPERATIONS: 'lots' })).toThrow('ATOLL_CHAOS_OPERATIONS: expected a whole number, got "lots"');
    expect(() => fromEnv(SHORT_FORM, { ATOLL_CHAOS_AGENTS: '0' })).toThrow('at least 1');
  });

  it('selects fault kinds by group with --faults, and refuses an unknown group naming it', () => {
    expect(parseFaultGroups('partition')).toEqual(['allocator-etcd-cut', 'allocator-etcd-one-way']);
    expect(parseFaultGroups('crash, partition,crash')).toEqual([...FAULT_KINDS]);
    expect(() => parseFaultGroups('partition,netem')).toThrow('--faults: unknown fault group "netem" (known: crash, partition)');
    expect(() => parseFaultGroups('')).toThrow('--faults: name at least one fault group');
    expect(SHORT_FORM.faults).toEqual(FAULT_KINDS);
  });

  it('makes the same choices for the same seed', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    expect(Array.from({ length: 5 }, a)).toEqual(Array.from({ length: 5 }, b));
  });
});
