import fs from 'node:fs';
import { IntendedUse, type CniRequest } from '@atoll/api';
import type { Logger } from 'pino';
import type { PodNetwork } from '../dataplane';
import { resolveAddressRequest } from './annotations';
import { parseCniArgs, type CniArgs } from './cni-args';
import { CniCode, CniFailure, fromAllocatorError } from './errors';
import { parseNetConf, type NetConf } from './netconf';
import type { AllocatorPort, PodSource, StaticIpsPort } from './ports';
import { checkAddressListPools, type WorkloadPool } from './address-list';
import { StaticAssignment } from './static-assign';
import { POD_UID_ATTRIBUTE, StaticHandOff } from './static-handoff';
import { cniResult, hostPrefix, mainPluginResult } from './result';
import { SANDBOX_ATTRIBUTE, stickyIdentityOf, StickyAddresses } from './sticky';
import { stickyHandle } from '@atoll/model';

// What the node agent does for each CNI command. The plugin has checked the environment;
// this checks the configuration, resolves the pod's annotations, and asks the allocator.
// For Atoll's main plugin ("type": "atoll") it also wires the pod's interface (dataplane/).

export interface CniHandlerDeps {
  readonly nodeName: string;
  readonly allocator: AllocatorPort;
  readonly pods: PodSource;
  readonly log: Logger;
  readonly now?: () => Date;
  /** Wires pods for the main plugin; without it, main-plugin configurations are refused. */
  readonly podNetwork?: PodNetwork;
  /** Hand-off of requested addresses whose holder no longer needs them; without it, a held address is refused. */
  readonly staticIps?: StaticIpsPort;
  /** How long a holder must be gone from the Kubernetes API before its address is handed over (--static-handoff-grace). */
  readonly staticHandOffGraceMs?: number;
  /** The IPPools, to check an address list before anything is allocated. */
  readonly workloadPools?: () => Promise<readonly WorkloadPool[]>;
}

/** --static-handoff-grace's default. */
export const DEFAULT_STATIC_HANDOFF_GRACE_MS = 30_000;

/** What Linux accepts as an interface name (dev_valid_name), which also keeps it safe in iproute2 lines. */
const LINUX_IFNAME = /^[^\s/:]{1,15}$/;

function requireValidIfname(ifname: string): string {
  if (!LINUX_IFNAME.test(ifname) || ifname === '.' || ifname === '..') {
    throw new CniFailure(CniCode.badEnv, `invalid interface name ${JSON.stringify(ifname)}: at most 15 characters, none of them blank, "/" or ":"`);
  }
  return ifname;
}

/** What an ADD got from IPAM: addresses with the prefix the allocator gave. */
interface Assigned {
  readonly addresses: string[];
  /** False for ip_addrs_no_ipam: nothing to give back if wiring fails. */
  readonly allocated: boolean;
  /** Handles of this same pod's earlier sandboxes whose addresses were handed to this one. */
  readonly earlierSandboxes?: readonly string[];
  /** Held under the pod identity's sticky handle: a failed ADD parks them instead of releasing. */
  readonly sticky?: boolean;
}

const isNotFound = (err: unknown) => (err as { code?: string }).code === 'not-found';

/** Go's time.Now().UTC().String() layout, which Calico stores as the `timestamp` attribute. */
function calicoTimestamp(d: Date): string {
  const iso = d.toISOString(); // 2026-08-01T10:00:00.123Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}000000 +0000 UTC`;
}

export class CniHandler {
  private readonly handOff: StaticHandOff | undefined;
  private readonly sticky: StickyAddresses | undefined;

  constructor(private readonly deps: CniHandlerDeps) {
    this.handOff =
      deps.staticIps &&
      new StaticHandOff({ staticIps: deps.staticIps, pods: deps.pods, graceMs: deps.staticHandOffGraceMs ?? DEFAULT_STATIC_HANDOFF_GRACE_MS, now: () => (deps.now ?? (() => new Date()))().getTime(), log: deps.log });
    this.sticky =
      deps.staticIps && this.handOff && new StickyAddresses({ allocator: deps.allocator, staticIps: deps.staticIps, handOff: this.handOff, pods: deps.pods, node: deps.nodeName, log: deps.log });
  }

  /** Answers with the result JSON text ('' for commands without a result); throws CniFailure. */
  async handle(req: CniRequest): Promise<string> {
    switch (req.command) {
      case 'ADD':
        return this.add(req);
      case 'DEL':
        return this.del(req);
      case 'CHECK':
        return this.check(req);
      case 'GC':
        return this.gc(req);
      case 'STATUS':
        return this.status();
      default:
        throw new CniFailure(CniCode.badEnv, `unknown CNI command ${JSON.stringify(req.command)}`);
    }
  }

  private handleId(netconf: NetConf, containerId: string): string {
    if (!containerId) throw new CniFailure(CniCode.badEnv, 'required env variables [CNI_CONTAINERID] missing');
    return `${netconf.name}.${containerId}`;
  }

  private async podContext(args: CniArgs) {
    if (!args.podNamespace || !args.podName) return { annotations: {}, nsAnnotations: {}, nsLabels: undefined, k8s: false, uid: undefined, ownerReferences: undefined };
    const [pod, ns] = await Promise.all([this.deps.pods.pod(args.podNamespace, args.podName), this.deps.pods.namespace(args.podNamespace)]).catch((err: unknown) => {
      throw new CniFailure(CniCode.tryAgainLater, `cannot read pod ${args.podNamespace}/${args.podName} from the Kubernetes API: ${(err as Error).message}`);
    });
    if (!pod) throw new CniFailure(CniCode.tryAgainLater, `pod ${args.podNamespace}/${args.podName} not found in the Kubernetes API`);
    // The runtime's K8S_POD_UID names the pod this sandbox is for; a cached read may be an earlier pod of that name.
    return { annotations: pod.annotations, nsAnnotations: ns?.annotations ?? {}, nsLabels: ns?.labels ?? {}, k8s: true, uid: args.podUid ?? pod.uid, ownerReferences: pod.ownerReferences };
  }

  private async readPools(): Promise<readonly WorkloadPool[]> {
    try {
      return await this.deps.workloadPools!();
    } catch (err) {
      throw new CniFailure(CniCode.tryAgainLater, `cannot read the IPPools to check the address list: ${(err as Error).message}`);
    }
  }

  private async add(req: CniRequest): Promise<string> {
    const netconf = parseNetConf(req.networkConfig);
    const args = parseCniArgs(req.args);
    const handleId = this.handleId(netconf, req.containerId);
    const podNetwork = netconf.mainPlugin ? this.requirePodNetwork(req) : undefined;
    if (!netconf.mainPlugin || !podNetwork) {
      const assigned = await this.assign(req, netconf, args, handleId);
      return JSON.stringify(cniResult(netconf.cniVersion, assigned.addresses, netconf.gateways));
    }
    const log = this.deps.log.child({ handle: handleId, node: this.deps.nodeName });
    // The veth pair needs no address: make it while the allocator chooses them.
    const started = performance.now();
    const preparing = podNetwork.prepare({ containerId: req.containerId, ifname: req.ifname, netnsPath: req.netns, mtu: netconf.mainPlugin.mtu });
    preparing.catch(() => undefined); // awaited below; an early failure must not be unhandled
    let assigned: Assigned;
    try {
      assigned = await this.assign(req, netconf, args, handleId);
    } catch (err) {
      await preparing.then((p) => podNetwork.discard(p), () => undefined);
      throw err;
    }
    // An earlier sandbox of this pod that was never torn down may still have its veth and
    // the host routes to these addresses: remove them, or this pod's routes cannot be added.
    for (const handle of assigned.earlierSandboxes ?? []) {
      if (!handle.startsWith(`${netconf.name}.`)) continue;
      const earlier = handle.slice(netconf.name.length + 1);
      await podNetwork.detach(earlier, req.ifname).then(
        (removed) => removed && log.info({ containerId: earlier }, "removed the interface of the pod's earlier sandbox"),
        (err: unknown) => log.warn({ err, containerId: earlier }, "could not remove the interface of the pod's earlier sandbox"),
      );
    }
    try {
      const attached = await podNetwork.configure(await preparing, assigned.addresses);
      log.info({ ips: attached.addresses.map((a) => a.cidr), hostLink: attached.hostLink.name, ms: Math.round(performance.now() - started) }, 'wired the pod');
      return JSON.stringify(mainPluginResult(netconf.cniVersion, attached));
    } catch (err) {
      // all or nothing: the addresses go back when the pod cannot be wired (a sticky pod's to its identity)
      if (assigned.sticky) await this.sticky!.park(handleId).catch((e: unknown) => log.warn({ err: e }, 'rollback failed'));
      else if (assigned.allocated) await this.deps.allocator.releaseByHandle({ handleId }).catch((e: unknown) => log.warn({ err: e }, 'rollback failed'));
      throw new CniFailure(CniCode.internal, (err as Error).message);
    }
  }

  private requirePodNetwork(req: CniRequest): PodNetwork {
    if (!this.deps.podNetwork) throw new CniFailure(CniCode.badConfig, 'this node agent does not wire pods; use the atoll-ipam plugin under a main plugin instead');
    if (!req.ifname) throw new CniFailure(CniCode.badEnv, 'required env variables [CNI_IFNAME] missing');
    if (!req.netns) throw new CniFailure(CniCode.badEnv, 'required env variables [CNI_NETNS] missing');
    // Both go into iproute2 commands: no blanks, no line breaks.
    requireValidIfname(req.ifname);
    if (!/^\/\S+$/.test(req.netns)) throw new CniFailure(CniCode.badEnv, `invalid network namespace path ${JSON.stringify(req.netns)}: expected an absolute path without blanks`);
    if (!fs.existsSync(req.netns)) throw new CniFailure(CniCode.badEnv, `network namespace ${req.netns} does not exist`);
    return this.deps.podNetwork;
  }

  private async assign(req: CniRequest, netconf: NetConf, args: CniArgs, sandboxHandle: string): Promise<Assigned> {
    const started = performance.now();
    const ctx = await this.podContext(args);
    const podReadMs = Math.round(performance.now() - started);
    const request = resolveAddressRequest({ netconf, args, podAnnotations: ctx.annotations, namespaceAnnotations: ctx.nsAnnotations, ownerReferences: ctx.ownerReferences });
    const attributes: Record<string, string> = {
      node: this.deps.nodeName,
      timestamp: calicoTimestamp((this.deps.now ?? (() => new Date()))()),
      ...(ctx.k8s && { namespace: args.podNamespace!, pod: args.podName! }),
      ...(ctx.k8s && ctx.uid && { [POD_UID_ATTRIBUTE]: ctx.uid }),
    };
    if (request.kind === 'no-ipam') return { addresses: request.ips.map(hostPrefix), allocated: false };

    // A sticky StatefulSet pod's addresses (auto-assigned or from its list) are its identity's.
    const identity = ctx.k8s && request.kind !== 'static' ? stickyIdentityOf(args.podNamespace!, args.podName!, ctx.annotations, ctx.nsAnnotations, ctx.ownerReferences) : undefined;
    if (identity && !this.sticky) throw new CniFailure(CniCode.badConfig, `pod ${args.podNamespace}/${args.podName} is sticky, but this node agent has no StaticIps connection to keep its addresses`);
    const handleId = identity ? stickyHandle(identity) : sandboxHandle;
    if (identity) attributes[SANDBOX_ATTRIBUTE] = sandboxHandle;
    const log = this.deps.log.child({ handle: handleId, node: this.deps.nodeName });
    if (identity) {
      const requester = { namespace: args.podNamespace!, name: args.podName!, uid: ctx.uid, handleId, node: this.deps.nodeName, attributes, sandbox: sandboxHandle };
      // Its datastore errors are the allocator's: out of space or unreachable is code 11, as for any ADD.
      const kept = await this.sticky!.reclaim(identity, requester).catch((err: unknown) => {
        throw fromAllocatorError(err, 'failed to take the sticky addresses');
      });
      if (kept.ips.length > 0) {
        // As when first given: an auto-assigned address with its block's prefix, a list entry as a host address.
        const addresses = request.kind === 'auto' ? await Promise.all(kept.ips.map((ip) => this.withBlockPrefix(ip))) : kept.ips.map(hostPrefix);
        log.info({ ips: addresses, podReadMs, ms: Math.round(performance.now() - started) }, 'assigned the sticky addresses');
        return { addresses, allocated: true, sticky: true, ...(kept.earlierSandboxes.length > 0 && { earlierSandboxes: kept.earlierSandboxes }) };
      }
    }

    if (request.kind === 'static' || request.kind === 'list') {
      const requester = ctx.k8s ? { namespace: args.podNamespace!, name: args.podName!, uid: ctx.uid, handleId, node: this.deps.nodeName, attributes } : undefined;
      const job = new StaticAssignment({ allocator: this.deps.allocator, handOff: this.handOff, log }, handleId, attributes, this.deps.nodeName, requester);
      let assigned: string[];
      if (request.kind === 'static') assigned = await job.exact(request.ips);
      else {
        // The whole list is checked before anything is allocated.
        if (this.deps.workloadPools) checkAddressListPools(request.list, await this.readPools());
        assigned = request.atOrdinal ? await job.exact(request.atOrdinal) : await job.firstFree(request.list);
      }
      const handedOff = job.handOffs();
      log.info({ ips: assigned, podReadMs, ms: Math.round(performance.now() - started), ...(handedOff.length > 0 && { handedOffFrom: handedOff }) }, 'assigned specific addresses');
      const earlierSandboxes = [...new Set(handedOff.filter((h) => h.reason === 'same-pod').map((h) => h.from))];
      return { addresses: assigned.map(hostPrefix), allocated: true, ...(identity && { sticky: true }), ...(earlierSandboxes.length > 0 && { earlierSandboxes }) };
    }

    try {
      const r = await this.deps.allocator.autoAssign({
        num4: request.assignIpv4 ? 1 : 0,
        num6: request.assignIpv6 ? 1 : 0,
        handleId,
        attributes,
        hostname: this.deps.nodeName,
        ipv4Pools: [...request.ipv4Pools],
        ipv6Pools: [...request.ipv6Pools],
        maxBlocksPerHost: 0,
        intendedUse: IntendedUse.INTENDED_USE_WORKLOAD,
        namespaceLabels: { ...(ctx.nsLabels ?? {}) },
        allOrNothing: true,
      });
      const ips = [...(r.ipv4?.ips ?? []), ...(r.ipv6?.ips ?? [])];
      log.info({ ips, podReadMs, ms: Math.round(performance.now() - started) }, 'assigned addresses');
      return { addresses: ips, allocated: true, ...(identity && { sticky: true }) };
    } catch (err) {
      throw fromAllocatorError(err, 'failed to assign an IP address');
    }
  }

  private async withBlockPrefix(ip: string): Promise<string> {
    try {
      const { block } = await this.deps.allocator.getAssignmentAttributes({ ip });
      return `${ip}/${block.split('/')[1]}`;
    } catch (err) {
      throw fromAllocatorError(err, `failed to read the block of sticky address ${ip}`);
    }
  }

  /**
   * Releases by `<network>.<containerID>` and by `<namespace>.<pod>`; nothing to release is
   * success. For the main plugin the pod's veth goes first (the host route to an address
   * must be gone before the address can be handed out again); that needs no namespace.
   */
  private async del(req: CniRequest): Promise<string> {
    const netconf = parseNetConf(req.networkConfig);
    const args = parseCniArgs(req.args);
    const handles = [this.handleId(netconf, req.containerId)];
    if (args.podNamespace && args.podName) handles.push(`${args.podNamespace}.${args.podName}`);
    let failure: unknown;
    if (netconf.mainPlugin) {
      if (!this.deps.podNetwork) throw new CniFailure(CniCode.badConfig, 'this node agent does not wire pods; use the atoll-ipam plugin under a main plugin instead');
      const ifname = requireValidIfname(req.ifname || 'eth0');
      await this.deps.podNetwork.detach(req.containerId, ifname).catch((err: unknown) => {
        failure = new CniFailure(CniCode.internal, `failed to remove the pod's interface: ${(err as Error).message}`);
      });
    }
    // Both handles at once: one round trip to the allocator instead of two.
    let releasedAny = false;
    await Promise.all(
      handles.map(async (handleId) => {
        try {
          const r = await this.deps.allocator.releaseByHandle({ handleId });
          releasedAny = true;
          this.deps.log.info({ handle: handleId, node: this.deps.nodeName, ips: r.released }, 'released addresses');
        } catch (err) {
          if (!isNotFound(err)) failure ??= err; // keep going: release what can be released
        }
      }),
    );
    // A sandbox whose handle held nothing may be a sticky pod's: its addresses stay the identity's.
    if (!releasedAny && failure === undefined && this.sticky) {
      await this.sticky.park(handles[0]!).catch((err: unknown) => {
        failure = err;
      });
    }
    if (failure instanceof CniFailure) throw failure;
    if (failure !== undefined) throw fromAllocatorError(failure, 'failed to release addresses');
    return '';
  }

  /** The handle's addresses must be exactly those of prevResult. */
  private async check(req: CniRequest): Promise<string> {
    const netconf = parseNetConf(req.networkConfig);
    const handleId = this.handleId(netconf, req.containerId);
    const expected = (netconf.prevResult?.ips ?? []).map((i) => String(i.address ?? '').split('/')[0] ?? '').sort();
    let actual: string[];
    try {
      actual = [...(await this.deps.allocator.ipsByHandle({ handleId })).ips].sort();
    } catch (err) {
      if (isNotFound(err)) actual = [];
      else throw fromAllocatorError(err, 'failed to check addresses');
    }
    // A sticky pod's sandbox holds nothing itself: its addresses are under the identity's handle.
    if (actual.length === 0 && this.sticky) {
      actual = (await this.sticky.ofSandbox(handleId).catch((err: unknown) => {
        throw fromAllocatorError(err, 'failed to check addresses');
      })).sort();
    }
    if (expected.length === 0 || expected.join(',') !== actual.join(',')) {
      throw new CniFailure(CniCode.badConfig, `addresses of ${handleId} are [${actual.join(' ')}], but prevResult has [${expected.join(' ')}]`);
    }
    if (netconf.mainPlugin) {
      const problems = await this.requirePodNetwork(req).problems({ containerId: req.containerId, ifname: req.ifname, netnsPath: req.netns, addresses: expected });
      if (problems.length > 0) throw new CniFailure(CniCode.badConfig, `the pod's network is not as ADD left it: ${problems.join('; ')}`);
    }
    return '';
  }

  /** CNI 1.1 GC: release this node's handles of this network that are not valid attachments. */
  private async gc(req: CniRequest): Promise<string> {
    const netconf = parseNetConf(req.networkConfig);
    const keep = new Set((netconf.validAttachments ?? []).map((a) => `${netconf.name}.${a.containerID}`));
    let listed;
    try {
      listed = await this.deps.allocator.listAllocations({ node: this.deps.nodeName, handlePrefix: `${netconf.name}.` });
    } catch (err) {
      throw fromAllocatorError(err, 'failed to list allocations for garbage collection');
    }
    const stale = [...new Set(listed.allocations.map((a) => a.handleId))].filter((h) => h && !keep.has(h));
    let failure: unknown;
    for (const handleId of stale) {
      await this.deps.allocator.releaseByHandle({ handleId }).then(
        (r) => this.deps.log.info({ handle: handleId, node: this.deps.nodeName, ips: r.released }, 'garbage collected'),
        (err: unknown) => {
          if (!isNotFound(err)) failure = err;
        },
      );
    }
    if (failure !== undefined) throw fromAllocatorError(failure, 'garbage collection incomplete');
    return '';
  }

  /** Ready when the allocator answers (and through it, etcd). */
  private async status(): Promise<string> {
    try {
      await this.deps.allocator.getIpamConfig({}, { timeoutMs: 3000 });
    } catch (err) {
      throw new CniFailure(CniCode.notAvailable, `the allocator is not reachable: ${(err as Error).message}`);
    }
    return '';
  }
}
