import { checkAddressListPools, entriesAtOrdinal, MAX_ADDRESS_LIST_ENTRIES, noFreeEntry, parseAddressList, statefulSetOrdinal } from './address-list';
import { CniCode, CniFailure } from './errors';

const refusal = (fn: () => unknown): { code: number; message: string } => {
  try {
    fn();
  } catch (err) {
    if (err instanceof CniFailure) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('not refused');
};

describe('parsing atoll.io/ipAddrsList', () => {
  it('splits the list by family, keeping list order and writing addresses canonically', () => {
    expect(parseAddressList('["10.0.0.3","fd00::0:5","10.0.0.1"]')).toEqual({ ipv4: ['10.0.0.3', '10.0.0.1'], ipv6: ['fd00::5'] });
  });

  it.each([
    ['["10.0.0.1"', 'annotation "atoll.io/ipAddrsList": not valid JSON: '],
    ['"10.0.0.1"', 'annotation "atoll.io/ipAddrsList": must be a JSON list of IP addresses, got "10.0.0.1"'],
    ['[1]', 'annotation "atoll.io/ipAddrsList": must be a JSON list of IP addresses, got [1]'],
    ['[]', 'annotation "atoll.io/ipAddrsList": specified but empty'],
    ['["10.0.0.1 "]', 'annotation "atoll.io/ipAddrsList": invalid IP format: "10.0.0.1 "'],
    ['["10.0.0.0/24"]', 'annotation "atoll.io/ipAddrsList": invalid IP format: "10.0.0.0/24"'],
    ['["::ffff:10.0.0.1"]', 'annotation "atoll.io/ipAddrsList": invalid IP format: ::ffff:10.0.0.1 (write the IPv4 address as a.b.c.d)'],
    ['["10.0.0.1","10.0.0.2","10.0.0.1"]', 'annotation "atoll.io/ipAddrsList": "10.0.0.1" is listed twice'],
    ['["fd00::1","fd00:0::1"]', 'annotation "atoll.io/ipAddrsList": "fd00:0::1" is listed twice (also as "fd00::1")'],
  ])('refuses %s, naming the annotation', (raw, message) => {
    const r = refusal(() => parseAddressList(raw));
    expect(r.code).toBe(CniCode.badAddressRequest);
    expect(r.message.startsWith(message)).toBe(true);
  });

  it(`takes ${MAX_ADDRESS_LIST_ENTRIES} entries and refuses one more`, () => {
    const ips = (n: number) => JSON.stringify(Array.from({ length: n }, (_, i) => `10.1.${i >> 8}.${i & 255}`));
    expect(parseAddressList(ips(MAX_ADDRESS_LIST_ENTRIES)).ipv4).toHaveLength(MAX_ADDRESS_LIST_ENTRIES);
    expect(refusal(() => parseAddressList(ips(MAX_ADDRESS_LIST_ENTRIES + 1))).message).toBe('annotation "atoll.io/ipAddrsList": 1025 entries; at most 1024 are allowed');
  });
});

describe('checking an address list against the pools', () => {
  const pools = [
    { cidr: '10.0.0.0/24', disabled: false, allowedUses: ['Workload', 'Tunnel'] },
    { cidr: '10.1.0.0/24', disabled: true, allowedUses: ['Workload'] },
    { cidr: '10.2.0.0/24', disabled: false, allowedUses: ['Tunnel'] },
    { cidr: 'fd00::/120', disabled: false, allowedUses: ['Workload'] },
  ];

  it('accepts entries inside enabled Workload pools', () => {
    expect(() => checkAddressListPools(parseAddressList('["10.0.0.1","fd00::7"]'), pools)).not.toThrow();
  });

  it('names every entry outside an enabled Workload pool (disabled, Tunnel-only, or no pool)', () => {
    expect(refusal(() => checkAddressListPools(parseAddressList('["10.0.0.1","10.1.0.1","10.2.0.1","192.0.2.1"]'), pools))).toEqual({
      code: CniCode.badAddressRequest,
      message: 'annotation "atoll.io/ipAddrsList": 10.1.0.1, 10.2.0.1, 192.0.2.1 are not in any enabled IPPool that allows Workload',
    });
  });
});

describe('a StatefulSet pod\'s ordinal', () => {
  const sts = [{ kind: 'StatefulSet', name: 'db' }];
  it.each<[string, { kind: string; name: string }[] | undefined, ReturnType<typeof statefulSetOrdinal>]>([
    ['db-2', sts, { set: 'db', ordinal: 2 }],
    ['db-0', sts, { set: 'db', ordinal: 0 }],
    ['db-x-2', [{ kind: 'StatefulSet', name: 'db-x' }], { set: 'db-x', ordinal: 2 }],
    ['db-02', sts, undefined],
    ['db-2', [{ kind: 'ReplicaSet', name: 'db' }], undefined],
    ['web-2', sts, undefined],
    ['db-2', undefined, undefined],
  ])('of pod %s with owners %j is %j', (pod, owners, expected) => {
    expect(statefulSetOrdinal(pod, owners)).toEqual(expected);
  });

  it('takes the entry at its ordinal in each family', () => {
    expect(entriesAtOrdinal(parseAddressList('["10.0.0.1","10.0.0.2","10.0.0.3"]'), 'db-2', { set: 'db', ordinal: 2 })).toEqual(['10.0.0.3']);
    expect(entriesAtOrdinal(parseAddressList('["10.0.0.1","fd00::1","10.0.0.2","fd00::2"]'), 'db-1', { set: 'db', ordinal: 1 })).toEqual(['10.0.0.2', 'fd00::2']);
  });

  it('refuses an ordinal past the end of the list, saying so', () => {
    expect(refusal(() => entriesAtOrdinal(parseAddressList('["10.0.0.1","10.0.0.2","10.0.0.3"]'), 'db-3', { set: 'db', ordinal: 3 }))).toEqual({
      code: CniCode.badAddressRequest,
      message: 'annotation "atoll.io/ipAddrsList": pod db-3 is ordinal 3 of StatefulSet db, but the list has only 3 IPv4 entries (ordinals 0 to 2)',
    });
  });
});

it('says which list has no free entry and how many entries are held', () => {
  expect(noFreeEntry('IPv4', ['10.0.0.1', '10.0.0.2'], 2)).toBe('no free IPv4 address in annotation "atoll.io/ipAddrsList" ["10.0.0.1","10.0.0.2"]: 2 of 2 entries are held');
});
