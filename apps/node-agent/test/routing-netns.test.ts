import { Writable } from 'node:stream';
import type { RoutePool } from '@atoll/api';
import { cleanupNetnsWithPrefix, createNetns, uniqueNetnsName, type Netns } from '@atoll/test-tools';
import pino from 'pino';
import { execFileRunner } from '../src/command-runner';
import type { RouteSpec } from '../src/routing/desired-routes';
import { IpRoutes } from '../src/routing/ip-routes';
import { NatOutgoingReconciler } from '../src/routing/nat-reconciler';
import { RouteReconciler, type RouteFailureReason } from '../src/routing/route-reconciler';

// The route and NAT reconcilers against a network namespace this test creates: every ip and
// iptables command runs inside it (nsenter), never in the machine's own namespace.

const PROTO = 197;
const RUN_PREFIX = uniqueNetnsName('atrt-');

const ip = async (ns: Netns, args: string[]) => {
  const r = await ns.exec('ip', args);
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')} in ${ns.name}: ${r.stderr}`);
  return r.stdout;
};

/** The namespace's routes of a protocol as `dst via gw` / `blackhole dst` lines, both families, sorted. */
async function routesOf(ns: Netns, proto: number | string = PROTO): Promise<string[]> {
  const out: string[] = [];
  for (const family of ['-4', '-6']) {
    const list = JSON.parse((await ip(ns, [family, '-j', 'route', 'show', 'table', 'main', 'proto', String(proto)])) || '[]') as { type?: string; dst: string; gateway?: string }[];
    for (const r of list) out.push(r.type === 'blackhole' ? `blackhole ${r.dst}` : `${r.dst} via ${r.gateway}`);
  }
  return out.sort();
}

const desired = (...routes: RouteSpec[]) => new Map(routes.map((r) => [r.dst, r]));

function capturingLog() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, new Writable({ write: (c, _e, cb) => (lines.push(JSON.parse(c.toString())), cb()) }));
  return { log, lines };
}

describe('host-gw routing in a network namespace', () => {
  let ns: Netns;

  beforeAll(async () => {
    ns = await createNetns(`${RUN_PREFIX}-node`);
    // eth0 on 172.30.0.0/24 and fd30::/64: gateways there are directly reachable, others are not.
    await ip(ns, ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'peer0']);
    await ip(ns, ['link', 'set', 'eth0', 'up']);
    await ip(ns, ['link', 'set', 'peer0', 'up']);
    await ip(ns, ['addr', 'add', '172.30.0.1/24', 'dev', 'eth0']);
    await ip(ns, ['addr', 'add', 'fd30::1/64', 'dev', 'eth0', 'nodad']);
  });
  afterAll(async () => {
    await ns?.delete();
    await cleanupNetnsWithPrefix(RUN_PREFIX);
  });

  describe('the route reconciler', () => {
    const make = () => {
      const { log, lines } = capturingLog();
      const failures: RouteFailureReason[] = [];
      const reconciler = new RouteReconciler(new IpRoutes(execFileRunner({ netnsPath: ns.path }), PROTO), { log, onFailure: (r) => failures.push(r) });
      return { reconciler, lines, failures };
    };
    afterEach(async () => {
      await ip(ns, ['-4', 'route', 'flush', 'proto', String(PROTO)]);
      await ip(ns, ['-6', 'route', 'flush', 'proto', String(PROTO)]);
    });

    it('adds the routes with its protocol, replaces a changed gateway, deletes what is no longer wanted', async () => {
      const { reconciler } = make();
      const first = desired({ dst: '10.1.0.0/26', via: '172.30.0.2' }, { dst: '10.0.0.0/26' }, { dst: '10.0.0.9/32', via: '172.30.0.3' }, { dst: 'fd00:1::/122', via: 'fd30::2' }, { dst: 'fd00::/122' });
      expect(await reconciler.reconcile(first, { full: false })).toEqual({ added: 5, replaced: 0, deleted: 0, unchanged: 0, failed: 0, held: 0 });
      expect(await routesOf(ns)).toEqual(['10.0.0.9 via 172.30.0.3', '10.1.0.0/26 via 172.30.0.2', 'blackhole 10.0.0.0/26', 'blackhole fd00::/122', 'fd00:1::/122 via fd30::2']);

      const second = desired({ dst: '10.1.0.0/26', via: '172.30.0.4' }, { dst: '10.0.0.0/26' }, { dst: 'fd00::/122' });
      expect(await reconciler.reconcile(second, { full: false })).toEqual({ added: 0, replaced: 1, deleted: 2, unchanged: 2, failed: 0, held: 0 });
      expect(await routesOf(ns)).toEqual(['10.1.0.0/26 via 172.30.0.4', 'blackhole 10.0.0.0/26', 'blackhole fd00::/122']);
    });

    it("leaves routes of other protocols alone, even one holding a destination it wants", async () => {
      const { reconciler, lines, failures } = make();
      await ip(ns, ['route', 'add', '10.5.0.0/24', 'via', '172.30.0.9']);
      await ip(ns, ['route', 'add', '10.6.0.0/24', 'via', '172.30.0.9', 'proto', 'static']);
      const before = [...(await routesOf(ns, 'boot')), ...(await routesOf(ns, 'static'))];
      await reconciler.reconcile(desired({ dst: '10.5.0.0/24', via: '172.30.0.2' }, { dst: '10.7.0.0/24', via: '172.30.0.2' }), { full: false });
      await reconciler.reconcile(desired(), { full: false });
      expect([...(await routesOf(ns, 'boot')), ...(await routesOf(ns, 'static'))]).toEqual(before);
      expect(before).toEqual(['10.5.0.0/24 via 172.30.0.9', '10.6.0.0/24 via 172.30.0.9']);
      expect(failures).toEqual(['conflict']);
      expect(lines.find((l) => l['reason'] === 'conflict')).toMatchObject({ route: '10.5.0.0/24 via 172.30.0.2', kernel: 'RTNETLINK answers: File exists' });
      await ip(ns, ['route', 'del', '10.5.0.0/24']);
      await ip(ns, ['route', 'del', '10.6.0.0/24']);
    });

    it('logs a gateway off the segment once with the kernel\'s reason, and tries it again only at a full pass', async () => {
      const { reconciler, lines, failures } = make();
      const want = desired({ dst: '10.2.0.0/26', via: '172.31.0.2' }, { dst: 'fd00:2::/122', via: 'fd31::2' }, { dst: '10.1.0.0/26', via: '172.30.0.2' });
      expect(await reconciler.reconcile(want, { full: false })).toMatchObject({ added: 1, failed: 2 });
      expect(await reconciler.reconcile(want, { full: false })).toMatchObject({ added: 0, unchanged: 1, failed: 0, held: 2 });
      expect(await reconciler.reconcile(want, { full: true })).toMatchObject({ failed: 2, held: 0 });
      expect(failures).toEqual(['gateway-unreachable', 'gateway-unreachable', 'gateway-unreachable', 'gateway-unreachable']);
      const warnings = lines.filter((l) => l['msg'] !== undefined && String(l['msg']).startsWith('route not installed'));
      expect(warnings.map((w) => [w['route'], w['kernel']])).toEqual([
        ['10.2.0.0/26 via 172.31.0.2', 'Error: Nexthop has invalid gateway.'],
        ['fd00:2::/122 via fd31::2', 'RTNETLINK answers: No route to host'],
      ]);
      expect([...reconciler.failures.keys()].sort()).toEqual(['10.2.0.0/26', 'fd00:2::/122']);
      expect(await routesOf(ns)).toEqual(['10.1.0.0/26 via 172.30.0.2']);
    });

    it('puts back a route deleted by hand at the next full pass (a pass between full ones trusts its own results)', async () => {
      const { reconciler } = make();
      const want = desired({ dst: '10.1.0.0/26', via: '172.30.0.2' }, { dst: '10.0.0.0/26' });
      await reconciler.reconcile(want, { full: false });
      await ip(ns, ['route', 'del', '10.1.0.0/26']);
      expect(await reconciler.reconcile(want, { full: false })).toMatchObject({ added: 0, unchanged: 2 });
      expect(await routesOf(ns)).toEqual(['blackhole 10.0.0.0/26']);
      expect(await reconciler.reconcile(want, { full: true })).toMatchObject({ added: 1, unchanged: 1 });
      expect(await routesOf(ns)).toEqual(['10.1.0.0/26 via 172.30.0.2', 'blackhole 10.0.0.0/26']);
    });
  });

  describe('the NAT reconciler', () => {
    const pool = (name: string, cidr: string, extra: Partial<RoutePool> = {}): RoutePool => ({ name, cidr, natOutgoing: false, ipipMode: 'Never', vxlanMode: 'Never', disabled: false, ...extra });
    const nat = async (tool: 'iptables' | 'ip6tables') => (await ns.exec(tool, ['-t', 'nat', '-S'])).stdout.trim().split('\n');

    it('writes the chain and one jump, rewrites them when pools change, and removes both when no pool needs NAT', async () => {
      const reconciler = new NatOutgoingReconciler(execFileRunner({ netnsPath: ns.path }));
      // someone else's rule in POSTROUTING stays where it is
      await ns.exec('iptables', ['-t', 'nat', '-A', 'POSTROUTING', '-o', 'eth0', '-j', 'ACCEPT']);
      expect(await reconciler.reconcile([pool('pods', '10.244.0.0/16', { natOutgoing: true }), pool('v6', 'fd00::/48', { natOutgoing: true })])).toEqual([4, 6]);
      expect(await nat('iptables')).toEqual([
        '-P PREROUTING ACCEPT',
        '-P INPUT ACCEPT',
        '-P OUTPUT ACCEPT',
        '-P POSTROUTING ACCEPT',
        '-N ATOLL-NAT-OUTGOING',
        '-A POSTROUTING -m comment --comment "atoll: NAT for natOutgoing pools" -j ATOLL-NAT-OUTGOING',
        '-A POSTROUTING -o eth0 -j ACCEPT',
        '-A ATOLL-NAT-OUTGOING -d 10.244.0.0/16 -j RETURN',
        '-A ATOLL-NAT-OUTGOING -s 10.244.0.0/16 -j MASQUERADE',
      ]);
      expect(await nat('ip6tables')).toContain('-A ATOLL-NAT-OUTGOING -s fd00::/48 -j MASQUERADE');
      // nothing changed: nothing written
      expect(await reconciler.reconcile([pool('pods', '10.244.0.0/16', { natOutgoing: true }), pool('v6', 'fd00::/48', { natOutgoing: true })])).toEqual([]);

      // a second pool, without NAT: its destinations are not masqueraded either
      expect(await reconciler.reconcile([pool('pods', '10.244.0.0/16', { natOutgoing: true }), pool('other', '10.96.0.0/12')])).toEqual([4, 6]);
      expect((await nat('iptables')).filter((r) => r.includes('ATOLL-NAT-OUTGOING'))).toEqual([
        '-N ATOLL-NAT-OUTGOING',
        '-A POSTROUTING -m comment --comment "atoll: NAT for natOutgoing pools" -j ATOLL-NAT-OUTGOING',
        '-A ATOLL-NAT-OUTGOING -d 10.96.0.0/12 -j RETURN',
        '-A ATOLL-NAT-OUTGOING -d 10.244.0.0/16 -j RETURN',
        '-A ATOLL-NAT-OUTGOING -s 10.244.0.0/16 -j MASQUERADE',
      ]);
      expect((await nat('ip6tables')).filter((r) => r.includes('ATOLL-NAT-OUTGOING'))).toEqual([]);

      expect(await reconciler.reconcile([pool('pods', '10.244.0.0/16')])).toEqual([4]);
      expect(await nat('iptables')).toEqual(['-P PREROUTING ACCEPT', '-P INPUT ACCEPT', '-P OUTPUT ACCEPT', '-P POSTROUTING ACCEPT', '-A POSTROUTING -o eth0 -j ACCEPT']);
    });
  });
});
