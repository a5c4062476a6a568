import { formatCidr, tryParseCidr } from '@atoll/ipmath';
import { CommandFailedError, type CommandRunner } from '../command-runner';
import type { RouteSpec } from './desired-routes';

// The routes of one protocol number in the main table, through iproute2: listed with
// `ip -j route show table main proto N` (both families), changed with one
// `ip -force -batch -` per reconcile, whose failures are told apart by line number.

/** A route of ours as the kernel shows it; `other` for a type the agent never makes (e.g. changed by hand). */
export interface KernelRoute extends RouteSpec {
  readonly other?: boolean;
}

export type RouteOp = 'add' | 'replace' | 'del';

/** One `ip -batch` line: `route add 10.0.1.0/26 via 172.30.0.2 table main proto 197`, or a blackhole. */
export function routeCommand(op: RouteOp, route: RouteSpec, protocol: number): string {
  const target = route.via === undefined ? `blackhole ${route.dst}` : `${route.dst} via ${route.via}`;
  return `route ${op} ${target} table main proto ${protocol}`;
}

interface IpRouteJson {
  readonly type?: string;
  readonly dst?: string;
  readonly gateway?: string;
  readonly nexthops?: unknown;
}

/** `ip -j route show` output → routes by canonical destination (a host route's "10.0.0.5" is 10.0.0.5/32). */
export function parseRouteList(json: string): Map<string, KernelRoute> {
  const out = new Map<string, KernelRoute>();
  const entries = json.trim() === '' ? [] : (JSON.parse(json) as IpRouteJson[]);
  for (const e of entries) {
    const cidr = e.dst ? tryParseCidr(e.dst, { allowBareAddress: true }) : undefined;
    if (!cidr) continue;
    const dst = formatCidr(cidr);
    const type = e.type ?? 'unicast';
    if (type === 'blackhole') out.set(dst, { dst });
    else if (type === 'unicast' && e.gateway && e.nexthops === undefined) out.set(dst, { dst, via: e.gateway });
    else out.set(dst, { dst, other: true });
  }
  return out;
}

/**
 * `ip -force -batch` stderr → the message of each failed line (1-based). iproute2 prints
 * the kernel's answer ("Error: Nexthop has invalid gateway.", "RTNETLINK answers: File
 * exists"), then "Command failed -:<line>".
 */
export function parseBatchFailures(stderr: string): Map<number, string> {
  const failures = new Map<number, string>();
  let message: string[] = [];
  for (const line of stderr.split('\n')) {
    const failed = /^Command failed .*:(\d+)\s*$/.exec(line);
    if (failed) {
      failures.set(Number(failed[1]), message.join(' ').trim() || 'failed');
      message = [];
    } else if (line.trim() !== '') {
      message.push(line.trim());
    }
  }
  return failures;
}

export class IpRoutes {
  constructor(
    private readonly run: CommandRunner,
    readonly protocol: number,
  ) {}

  /** Every route with our protocol in the main table, IPv4 and IPv6. */
  async listOwn(): Promise<Map<string, KernelRoute>> {
    const out = new Map<string, KernelRoute>();
    for (const family of ['-4', '-6']) {
      const args = [family, '-j', 'route', 'show', 'table', 'main', 'proto', String(this.protocol)];
      const r = await this.run('ip', args);
      if (r.code !== 0) throw new CommandFailedError(`ip ${args.join(' ')}`, r.stderr);
      for (const [dst, route] of parseRouteList(r.stdout)) out.set(dst, route);
    }
    return out;
  }

  /** Runs the lines in one batch that goes on past failures; returns the failures by line index (0-based). */
  async applyBatch(lines: readonly string[]): Promise<Map<number, string>> {
    if (lines.length === 0) return new Map();
    const r = await this.run('ip', ['-force', '-batch', '-'], `${lines.join('\n')}\n`);
    if (r.code === 0) return new Map();
    const failures = new Map([...parseBatchFailures(r.stderr)].map(([line, message]) => [line - 1, message]));
    if (failures.size === 0) throw new CommandFailedError('ip -force -batch -', r.stderr);
    return failures;
  }
}
