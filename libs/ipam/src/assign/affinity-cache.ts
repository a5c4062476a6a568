import type { IpVersion } from '@atoll/ipmath';

/**
 * The blocks each host owns, as this engine last saw them, so that a host's allocation
 * reads its blocks directly instead of listing its affinities first. It is only a hint:
 * every block read says whose it is (a block that is gone or someone else's is dropped
 * from here), and before claiming a new block — or refusing for the block limit — the
 * host's affinities are listed afresh.
 */
export class HostAffinityCache {
  private readonly byHost = new Map<string, Map<IpVersion, Set<string>>>();

  get(host: string, version: IpVersion): readonly string[] | undefined {
    const set = this.byHost.get(host)?.get(version);
    return set ? [...set] : undefined;
  }

  set(host: string, version: IpVersion, cidrs: readonly string[]): void {
    let perHost = this.byHost.get(host);
    if (!perHost) {
      perHost = new Map();
      this.byHost.set(host, perHost);
    }
    perHost.set(version, new Set(cidrs));
  }

  add(host: string, version: IpVersion, cidr: string): void {
    this.byHost.get(host)?.get(version)?.add(cidr);
  }

  remove(host: string, version: IpVersion, cidr: string): void {
    this.byHost.get(host)?.get(version)?.delete(cidr);
  }

  forgetHost(host: string): void {
    this.byHost.delete(host);
  }
}
