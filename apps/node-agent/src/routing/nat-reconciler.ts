import type { RoutePool } from '@atoll/api';
import type { IpVersion } from '@atoll/ipmath';
import { CommandFailedError, type CommandRunner } from '../command-runner';
import { chainRulesOf, countJumps, NAT_CHAIN, natChainRules, natRestoreInput, type NatState } from './nat-rules';

// Keeps the NAT chain and its jump as the pools ask, per family (iptables for IPv4,
// ip6tables for IPv6): reads what the nat table holds of ours, and writes only when that
// differs, in one `iptables-restore --noflush` commit.

const TOOLS: Readonly<Record<IpVersion, { readonly list: string; readonly restore: string }>> = {
  4: { list: 'iptables', restore: 'iptables-restore' },
  6: { list: 'ip6tables', restore: 'ip6tables-restore' },
};
const WAIT = ['-w', '5'];

export class NatOutgoingReconciler {
  constructor(private readonly run: CommandRunner) {}

  /** Brings both families in line with `pools`; returns the families whose rules it rewrote. */
  async reconcile(pools: Iterable<RoutePool>): Promise<IpVersion[]> {
    const list = [...pools];
    const rewritten: IpVersion[] = [];
    for (const version of [4, 6] as const) {
      const desired = natChainRules(list, version);
      // A family nothing asks NAT for and whose tables cannot be read (no ip6tables, IPv6 off) has nothing of ours either.
      const current = await this.read(version).catch((err: unknown) => {
        if (desired === undefined) return undefined;
        throw err;
      });
      const input = current && natRestoreInput(current, desired);
      if (input === undefined) continue;
      const r = await this.run(TOOLS[version].restore, [...WAIT, '--noflush'], input);
      if (r.code !== 0) throw new CommandFailedError(`${TOOLS[version].restore} --noflush`, r.stderr);
      rewritten.push(version);
    }
    return rewritten;
  }

  private async read(version: IpVersion): Promise<NatState> {
    const tool = TOOLS[version].list;
    const postrouting = await this.run(tool, [...WAIT, '-t', 'nat', '-S', 'POSTROUTING']);
    if (postrouting.code !== 0) throw new CommandFailedError(`${tool} -t nat -S POSTROUTING`, postrouting.stderr);
    // A chain that does not exist is exit status 1 ("No chain/target/match by that name", or nft's "incompatible").
    const chain = await this.run(tool, [...WAIT, '-t', 'nat', '-S', NAT_CHAIN]);
    return { chain: chain.code === 0 ? chainRulesOf(chain.stdout) : undefined, jumps: countJumps(postrouting.stdout) };
  }
}
