import type { RoutePool } from '@atoll/api';
import { chainRulesOf, countJumps, NAT_JUMP_RULE, natChainRules, natRestoreInput } from './nat-rules';

const pool = (name: string, cidr: string, extra: Partial<RoutePool> = {}): RoutePool => ({ name, cidr, natOutgoing: false, ipipMode: 'Never', vxlanMode: 'Never', disabled: false, ...extra });

describe('the NAT chain a family needs', () => {
  it.each<[string, RoutePool[], 4 | 6, string[] | undefined]>([
    ['none without a natOutgoing pool', [pool('a', '10.0.0.0/16')], 4, undefined],
    ['none for a disabled natOutgoing pool', [pool('a', '10.0.0.0/16', { natOutgoing: true, disabled: true })], 4, undefined],
    [
      'RETURN for every pool (disabled too), then MASQUERADE for each natOutgoing one, in address order',
      [pool('z', '10.2.0.0/16', { natOutgoing: true }), pool('a', '10.1.0.0/16'), pool('off', '10.3.0.0/16', { disabled: true }), pool('v6', 'fd00::/48', { natOutgoing: true })],
      4,
      ['-A ATOLL-NAT-OUTGOING -d 10.1.0.0/16 -j RETURN', '-A ATOLL-NAT-OUTGOING -d 10.2.0.0/16 -j RETURN', '-A ATOLL-NAT-OUTGOING -d 10.3.0.0/16 -j RETURN', '-A ATOLL-NAT-OUTGOING -s 10.2.0.0/16 -j MASQUERADE'],
    ],
    ['only the family asked for', [pool('v4', '10.0.0.0/16', { natOutgoing: true }), pool('v6', 'fd00::/48', { natOutgoing: true })], 6, ['-A ATOLL-NAT-OUTGOING -d fd00::/48 -j RETURN', '-A ATOLL-NAT-OUTGOING -s fd00::/48 -j MASQUERADE']],
  ])('%s', (_sentence, pools, version, expected) => {
    expect(natChainRules(pools, version)).toEqual(expected);
  });
});

describe('the iptables-restore input', () => {
  const rules = ['-A ATOLL-NAT-OUTGOING -d 10.0.0.0/16 -j RETURN', '-A ATOLL-NAT-OUTGOING -s 10.0.0.0/16 -j MASQUERADE'];
  const jump = '-m comment --comment "atoll: NAT for natOutgoing pools" -j ATOLL-NAT-OUTGOING';

  it.each<[string, { chain: string[] | undefined; jumps: number }, string[] | undefined, string | undefined]>([
    ['is nothing when the table already agrees', { chain: rules, jumps: 1 }, rules, undefined],
    ['is nothing when neither chain nor jump exists and none is wanted', { chain: undefined, jumps: 0 }, undefined, undefined],
    ['creates the chain and inserts the jump first in POSTROUTING', { chain: undefined, jumps: 0 }, rules, ['*nat', ':ATOLL-NAT-OUTGOING - [0:0]', ...rules, `-I POSTROUTING 1 ${jump}`, 'COMMIT', ''].join('\n')],
    ['rewrites a chain that differs, leaving the one jump alone', { chain: rules.slice(0, 1), jumps: 1 }, rules, ['*nat', ':ATOLL-NAT-OUTGOING - [0:0]', ...rules, 'COMMIT', ''].join('\n')],
    ['deletes extra copies of the jump', { chain: rules, jumps: 3 }, rules, ['*nat', ':ATOLL-NAT-OUTGOING - [0:0]', ...rules, `-D POSTROUTING ${jump}`, `-D POSTROUTING ${jump}`, 'COMMIT', ''].join('\n')],
    ['removes jump and chain when no pool needs NAT', { chain: rules, jumps: 1 }, undefined, ['*nat', ':ATOLL-NAT-OUTGOING - [0:0]', `-D POSTROUTING ${jump}`, '-X ATOLL-NAT-OUTGOING', 'COMMIT', ''].join('\n')],
  ])('%s', (_sentence, current, desired, expected) => {
    expect(natRestoreInput(current, desired)).toBe(expected);
  });

  it('reads the chain and the jumps from iptables -S', () => {
    expect(chainRulesOf(`-N ATOLL-NAT-OUTGOING\n${rules.join('\n')}\n`)).toEqual(rules);
    expect(countJumps(`-P POSTROUTING ACCEPT\n-A POSTROUTING -j KUBE-POSTROUTING\n${NAT_JUMP_RULE}\n-A POSTROUTING -j ATOLL-NAT-OUTGOING\n`)).toBe(1);
  });
});
