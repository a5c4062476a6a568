import type { RoutePool } from '@atoll/api';
import { compareCidrs, formatCidr, tryParseCidr, type Cidr, type IpVersion } from '@atoll/ipmath';

// Calico's natOutgoing, without ipsets: traffic from a natOutgoing pool to a destination
// outside every pool is masqueraded. One chain of the agent's own in the nat table, reached
// from POSTROUTING by one jump rule that carries a comment, written whole with
// `iptables-restore --noflush` so that nothing else in the table is touched.

export const NAT_CHAIN = 'ATOLL-NAT-OUTGOING';
const JUMP_SPEC = `-m comment --comment "atoll: NAT for natOutgoing pools" -j ${NAT_CHAIN}`;
/** The jump rule as `iptables -S POSTROUTING` prints it. */
export const NAT_JUMP_RULE = `-A POSTROUTING ${JUMP_SPEC}`;

/**
 * The chain's rules for one family, as `iptables -S <chain>` prints them: RETURN for every
 * pool's destination (disabled pools too: their addresses may still be live), then
 * MASQUERADE for the sources of each enabled natOutgoing pool. Undefined when no pool of
 * the family needs NAT: then neither the chain nor the jump should exist.
 */
export function natChainRules(pools: Iterable<RoutePool>, version: IpVersion): string[] | undefined {
  const all: { cidr: Cidr; pool: RoutePool }[] = [];
  for (const pool of pools) {
    const cidr = tryParseCidr(pool.cidr);
    if (cidr?.version === version) all.push({ cidr, pool });
  }
  all.sort((a, b) => compareCidrs(a.cidr, b.cidr));
  const masquerade = all.filter((p) => p.pool.natOutgoing && !p.pool.disabled);
  if (masquerade.length === 0) return undefined;
  return [
    ...all.map((p) => `-A ${NAT_CHAIN} -d ${formatCidr(p.cidr)} -j RETURN`),
    ...masquerade.map((p) => `-A ${NAT_CHAIN} -s ${formatCidr(p.cidr)} -j MASQUERADE`),
  ];
}

/** What the nat table holds of ours now. */
export interface NatState {
  /** The chain's rules (without its `-N` line); undefined when the chain does not exist. */
  readonly chain: readonly string[] | undefined;
  /** How many copies of our jump rule POSTROUTING has. */
  readonly jumps: number;
}

/**
 * The `iptables-restore --noflush` input that turns `current` into `desired`, or undefined
 * when they already agree. Declaring the chain flushes it inside the same atomic commit.
 */
export function natRestoreInput(current: NatState, desired: readonly string[] | undefined): string | undefined {
  if (desired === undefined) {
    if (current.chain === undefined && current.jumps === 0) return undefined;
    const deletes = Array.from({ length: current.jumps }, () => `-D POSTROUTING ${JUMP_SPEC}`);
    return ['*nat', `:${NAT_CHAIN} - [0:0]`, ...deletes, `-X ${NAT_CHAIN}`, 'COMMIT', ''].join('\n');
  }
  const chainRight = current.chain !== undefined && current.chain.length === desired.length && current.chain.every((r, i) => r === desired[i]);
  if (chainRight && current.jumps === 1) return undefined;
  const jump = current.jumps === 0 ? [`-I POSTROUTING 1 ${JUMP_SPEC}`] : Array.from({ length: current.jumps - 1 }, () => `-D POSTROUTING ${JUMP_SPEC}`);
  return ['*nat', `:${NAT_CHAIN} - [0:0]`, ...desired, ...jump, 'COMMIT', ''].join('\n');
}

/** `iptables -t nat -S POSTROUTING` output → how many of its rules are our jump. */
export function countJumps(postrouting: string): number {
  return postrouting.split('\n').filter((line) => line.trim() === NAT_JUMP_RULE).length;
}

/** `iptables -t nat -S <chain>` output → its rules, without the `-N` line. */
export function chainRulesOf(listing: string): string[] {
  return listing
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith(`-A ${NAT_CHAIN} `));
}
