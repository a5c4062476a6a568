import type { Allocation, CheckResponse, GetUtilizationResponse } from '@atoll/api';
import { Cidr, cidrContains, formatIp, parseCidrDetailed, tryParseCidr } from '@atoll/ipmath';
import type { IPPool, Node } from '@atoll/model';
import { booleanFlag, expectPositionals, ParsedArgs, stringFlag } from '../args';
import type { CommandContext, CtlIo, IpamApi, ResourcesApi } from '../context';
import { CliError } from '../errors';
import { formatJson } from '../format/json';
import { Command, GLOBAL_OPTIONS_HELP } from './command';
import { newReport, ReportAllocation, reportAllocation } from './check-report';

// ipam check: calicoctl's progress lines, built from the allocator's consistency check
// (blocks, handles, affinities) plus what atollctl can cross-check itself: node tunnel
// addresses against allocations and active pools. Whether an allocated address is still
// used by a pod needs the Kubernetes API; that part is reported as not checked.

export const TOP_NODES = 20;
export const POD_CHECK_UNAVAILABLE =
  'Not checked: finding IPs that are allocated but not used by any pod needs the Kubernetes API, which atollctl does not use yet.';

export interface CheckApi {
  readonly ipam: Pick<IpamApi, 'check' | 'getUtilization' | 'listAllocations'>;
  readonly resources: Pick<ResourcesApi, 'list'>;
}

export interface CheckOptions {
  readonly showAllIps: boolean;
  readonly showProblemIps: boolean;
  /** Where to write the report (calicoctl's -o FILE). */
  readonly reportFile?: string;
  /** json: the findings as one JSON document instead of progress lines. */
  readonly format: 'text' | 'json';
}

export interface TunnelIpProblem {
  readonly ip: string;
  readonly owner: string;
}

/** Calico's getNodeIPs (plus the IPv6 tunnel addresses): the addresses a node itself uses. */
function nodeTunnelIps(node: Node): string[] {
  const s = node.spec ?? {};
  return [s.ipv4VXLANTunnelAddr, s.ipv6VXLANTunnelAddr, s.wireguard?.interfaceIPv4Address, s.wireguard?.interfaceIPv6Address, s.bgp?.ipv4IPIPTunnelAddr]
    .filter((a): a is string => typeof a === 'string' && a !== '')
    .flatMap((a) => {
      try {
        return [formatIp(parseCidrDetailed(a, { allowBareAddress: true }).address)];
      } catch {
        return []; // validation keeps these parseable; a bad one is not ours to judge here
      }
    });
}

function attrString(a: Allocation): string {
  const extra = Object.keys(a.attributes)
    .sort()
    .map((k) => `${k}=${a.attributes[k]}`)
    .join(',');
  return `Main:${a.handleId || '<none>'} Extra:${extra}`;
}

/** The node an allocation belongs to: its `node` attribute, else its block's host. */
export function nodeOf(a: Allocation): string {
  return a.attributes['node'] || (a.blockAffinity.startsWith('host:') ? a.blockAffinity.slice(5) : '');
}

/** What `ipam check` (and `ipam ui`) learn from the allocator, before any formatting. */
export interface Findings {
  readonly check: CheckResponse;
  readonly usage: GetUtilizationResponse;
  readonly pools: readonly IPPool[];
  readonly nodes: readonly Node[];
  readonly blocks: readonly { cidr: string; affinity: string }[];
  readonly activePools: readonly string[];
  readonly allocations: readonly Allocation[];
  readonly inUse: ReadonlyMap<string, readonly string[]>;
  readonly notInActivePools: readonly TunnelIpProblem[];
  readonly withoutAllocation: readonly TunnelIpProblem[];
  readonly missingHandles: readonly string[];
  readonly problems: number;
}

export async function gatherFindings(api: CheckApi): Promise<Findings> {
  const [check, usage, listed, poolList, nodeList] = await Promise.all([
    api.ipam.check({}),
    api.ipam.getUtilization({ poolNames: [] }),
    api.ipam.listAllocations({ node: '', handlePrefix: '' }),
    api.resources.list({ kind: 'IPPool' }),
    api.resources.list({ kind: 'Node' }),
  ]);
  const pools = poolList.resourceJson.map((j) => JSON.parse(j) as IPPool);
  const nodes = nodeList.resourceJson.map((j) => JSON.parse(j) as Node);
  // GetUtilization may leave a block's affinity empty; an allocation in it also names it.
  const affinityFromAllocations = new Map(listed.allocations.filter((a) => a.blockAffinity !== '').map((a) => [a.block, a.blockAffinity]));
  const blocks = [...usage.pools.flatMap((p) => p.blocks), ...usage.orphanBlocks]
    .map((b) => ({ cidr: b.cidr, affinity: b.affinity || affinityFromAllocations.get(b.cidr) || '' }))
    .sort((x, y) => (x.cidr < y.cidr ? -1 : x.cidr > y.cidr ? 1 : 0));
  const activePools = pools.filter((p) => p.spec.disabled !== true).map((p) => p.spec.cidr);
  const activeCidrs = activePools.map((c) => tryParseCidr(c)).filter((c): c is Cidr => c !== undefined);

  const inUse = new Map<string, string[]>();
  for (const n of nodes) {
    for (const ip of nodeTunnelIps(n)) inUse.set(ip, [...(inUse.get(ip) ?? []), `Node(${n.metadata.name})`]);
  }
  const allocated = new Set(listed.allocations.map((a) => a.address));
  const notInActivePools: TunnelIpProblem[] = [];
  const withoutAllocation: TunnelIpProblem[] = [];
  for (const [ip, owners] of inUse) {
    if (allocated.has(ip)) continue;
    const parsed = tryParseCidr(ip, { allowBareAddress: true });
    const inActivePool = parsed !== undefined && activeCidrs.some((c) => cidrContains(c, { version: parsed.version, value: parsed.base }));
    for (const owner of owners) (inActivePool ? withoutAllocation : notInActivePools).push({ ip, owner });
  }
  const missingHandles = [...new Set(check.addressesWithoutHandle.map((a) => a.handleId))];
  const tunnelProblems = new Set([...notInActivePools, ...withoutAllocation].map((p) => p.ip)).size;
  return {
    check,
    usage,
    pools,
    nodes,
    blocks,
    activePools,
    allocations: listed.allocations,
    inUse,
    notInActivePools,
    withoutAllocation,
    missingHandles,
    problems: check.problems + tunnelProblems,
  };
}

function progressText(f: Findings, opts: CheckOptions): string {
  const showProblems = opts.showProblemIps || opts.showAllIps;
  const lines: string[] = ['Checking IPAM for inconsistencies...', ''];
  const byBlock = new Map<string, Allocation[]>();
  for (const a of f.allocations) byBlock.set(a.block, [...(byBlock.get(a.block) ?? []), a]);

  lines.push('Loading all IPAM blocks...', `Found ${f.check.blocks} IPAM blocks.`);
  for (const b of f.blocks) {
    lines.push(` IPAM block ${b.cidr} affinity=${b.affinity || '<none>'}:`);
    if (opts.showAllIps) for (const a of byBlock.get(b.cidr) ?? []) lines.push(`  ${a.address} allocated; attrs ${attrString(a)}`);
  }
  lines.push(`IPAM blocks record ${f.check.allocations} allocations.`, '');

  lines.push('Loading all IPAM pools...', ...f.activePools.map((c) => `  ${c}`), `Found ${f.activePools.length} active IP pools.`, '');

  lines.push('Loading all nodes.');
  if (opts.showAllIps) for (const [ip, owners] of f.inUse) for (const o of owners) lines.push(`  ${ip} belongs to ${o}`);
  lines.push(`Found ${[...f.inUse.values()].reduce((n, o) => n + o.length, 0)} node tunnel IPs.`, '');

  lines.push('Loading all handles');
  const perNode = new Map<string, number>();
  for (const a of f.allocations) perNode.set(nodeOf(a), (perNode.get(nodeOf(a)) ?? 0) + 1);
  const ranked = [...perNode].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1));
  lines.push(`Looking for top (up to ${TOP_NODES}) nodes by allocations...`);
  for (const [node, n] of ranked.slice(0, TOP_NODES)) lines.push(`  ${node} has ${n} allocations`);
  if (ranked.length > 0) lines.push(`Node with most allocations has ${ranked[0]![1]}; median is ${ranked[Math.floor(ranked.length / 2)]![1]}`);
  lines.push('');

  lines.push('Scanning for IPs that are allocated but not actually in use...', POD_CHECK_UNAVAILABLE);
  lines.push('Scanning for IPs that are in use by a workload or node but not allocated in IPAM...');
  if (showProblems) {
    for (const p of f.notInActivePools) lines.push(`  ${p.ip} in use by ${p.owner} is not in any active IP pool.`);
    for (const p of f.withoutAllocation) lines.push(`  ${p.ip} in use by ${p.owner} and in active IPAM pool but has no IPAM allocation.`);
  }
  const distinct = (ps: readonly TunnelIpProblem[]) => new Set(ps.map((p) => p.ip)).size;
  lines.push(`Found ${distinct(f.notInActivePools)} in-use IPs that are not in active IP pools.`);
  lines.push(`Found ${distinct(f.withoutAllocation)} in-use IPs that are in active IP pools but have no corresponding IPAM allocation.`, '');

  const leaked = f.check.handlesWithoutAddresses;
  lines.push('Scanning for IPAM handles with no matching IPs...');
  if (opts.showAllIps) for (const h of leaked) lines.push(`  ${h} doesn't have any active IPs.`);
  lines.push(`Found ${leaked.length} handles with no matching IPs (and ${f.check.handles - leaked.length} handles with matches).`);
  lines.push('Scanning for IPs with missing handle...');
  if (showProblems) for (const h of f.missingHandles) lines.push(`  ${h} is in use in a block but doesn't exist.`);
  lines.push(`Found ${f.missingHandles.length} handles mentioned in blocks with no matching handle resource.`);

  // Atoll's datastore checks beyond calicoctl's: counts, block structure, pools, affinities.
  lines.push('Scanning for handles whose IP counts differ from their blocks...');
  if (showProblems) {
    for (const m of f.check.miscountedHandles) lines.push(`  ${m.handleId} records ${m.recorded} IPs in block ${m.block}; the block holds ${m.actual}.`);
  }
  lines.push(`Found ${f.check.miscountedHandles.length} miscounted handles.`);
  lines.push('Scanning for invalid IPAM blocks...');
  if (showProblems) for (const b of f.check.invalidBlocks) for (const p of b.problems) lines.push(`  ${p}`);
  lines.push(`Found ${f.check.invalidBlocks.length} invalid IPAMBlocks.`);
  lines.push('Scanning for IPAM blocks outside every IP pool...');
  if (showProblems) for (const b of f.check.blocksOutsidePools) lines.push(`  ${b} is not in any IP pool.`);
  lines.push(`Found ${f.check.blocksOutsidePools.length} IPAM blocks outside every IP pool.`);
  lines.push('Scanning for block affinity problems...');
  if (showProblems) for (const a of f.check.affinityProblems) lines.push(`  ${a.key}: ${a.problem}`);
  lines.push(`Found ${f.check.affinityProblems.length} block affinity problems.`);

  lines.push(`Check complete; found ${f.problems} problems.`);
  return `${lines.join('\n')}\n`;
}

function findingsJson(f: Findings) {
  const c = f.check;
  return {
    blocks: c.blocks,
    allocations: c.allocations,
    handles: c.handles,
    affinities: c.affinities,
    activePools: f.activePools,
    nodeTunnelIps: [...f.inUse].flatMap(([ip, owners]) => owners.map((owner) => ({ ip, owner }))),
    podCrossCheck: 'not checked: needs the Kubernetes API',
    tunnelIpsNotInActivePools: f.notInActivePools,
    tunnelIpsWithoutAllocation: f.withoutAllocation,
    handlesWithoutAddresses: c.handlesWithoutAddresses,
    addressesWithoutHandle: c.addressesWithoutHandle,
    miscountedHandles: c.miscountedHandles,
    invalidBlocks: c.invalidBlocks,
    blocksOutsidePools: c.blocksOutsidePools,
    affinityProblems: c.affinityProblems,
    problems: f.problems,
  };
}

async function writeReport(io: CtlIo, file: string, f: Findings): Promise<void> {
  const allocations: Record<string, ReportAllocation[]> = {};
  for (const a of f.allocations) {
    (allocations[a.address] ??= []).push(reportAllocation(a, f.inUse.get(a.address) ?? []));
  }
  try {
    await io.writeFile(file, formatJson(newReport(allocations, f.check.handlesWithoutAddresses)));
  } catch (err) {
    throw new CliError(`cannot write the report to ${file}: ${(err as Error).message}`);
  }
}

export async function checkIpam(api: CheckApi, io: CtlIo, opts: CheckOptions): Promise<void> {
  const findings = await gatherFindings(api);
  io.out(opts.format === 'json' ? formatJson(findingsJson(findings)) : progressText(findings, opts));
  if (opts.reportFile !== undefined) await writeReport(io, opts.reportFile, findings);
}

export const ipamCheckCommand: Command = {
  name: 'ipam check',
  summary: 'Check the integrity of the IPAM data structures.',
  options: {
    output: { type: 'string', short: 'o' },
    'show-all-ips': { type: 'boolean' },
    'show-problem-ips': { type: 'boolean' },
  },
  usage: `Usage:
  atollctl ipam check [--show-all-ips] [--show-problem-ips] [-o <FILE>|-o json] [--allocator=<ADDR>]

Options:
  -o --output=<FILE>        Path to output report file; "-o json" instead prints the
                            findings as JSON on stdout (write ./json for a file of
                            that name).
     --show-all-ips         Print all IPs that are checked.
     --show-problem-ips     Print all IPs that are leaked or not allocated properly.
${GLOBAL_OPTIONS_HELP}

Description:
  The ipam check command checks the integrity of the IPAM data structures: blocks,
  handles and block affinities as the allocator reads them, and node tunnel
  addresses against allocations and active pools. Cross-checking allocations
  against pods needs the Kubernetes API and is not done yet, so the report marks
  every allocation in use.
`,
  async run(ctx: CommandContext, args: ParsedArgs) {
    expectPositionals('ipam check', args, 0, 0, 'arguments');
    const output = stringFlag(args, 'output');
    await checkIpam(
      { ipam: ctx.ipam, resources: ctx.resources },
      ctx.io,
      {
        showAllIps: booleanFlag(args, 'show-all-ips'),
        showProblemIps: booleanFlag(args, 'show-problem-ips'),
        format: output === 'json' ? 'json' : 'text',
        ...(output !== undefined && output !== 'json' && { reportFile: output }),
      },
    );
  },
};
