import type { BlockUtilization } from '@atoll/api';
import { formatIp, tryParseIp } from '@atoll/ipmath';
import { parseStickyHandle, stickyIdentityText } from '@atoll/model';
import { booleanFlag, expectPositionals, outputFormat, ParsedArgs, stringFlag } from '../args';
import type { CommandContext, CtlIo, IpamApi } from '../context';
import { CliError, UsageError } from '../errors';
import { BoxColumn, renderBoxTable } from '../format/box-table';
import { formatCount, formatCountWithPercent } from '../format/go-float';
import { formatJson } from '../format/json';
import { isNotFound, refusalMessage } from '../rpc-errors';
import { Command, GLOBAL_OPTIONS_HELP } from './command';

// ipam show and its variants, each a table like calicoctl's or (-o json) the same facts as
// JSON. Every number comes from the allocator (GetUtilization, GetAssignmentAttributes,
// ListAllocations, GetIPAMConfig); nothing is recomputed here.

export type ShowFormat = 'table' | 'json';

/** Counts arrive as decimal strings (IPv6 sizes exceed 64 bits). */
const count = (text: string): bigint => BigInt(text || '0');

const UTILIZATION_COLUMNS: readonly BoxColumn[] = [
  { header: 'GROUPING' },
  { header: 'CIDR' },
  { header: 'IPS TOTAL', align: 'right' },
  { header: 'IPS IN USE', align: 'right' },
  { header: 'IPS RESERVED', align: 'right' },
  { header: 'IPS FREE', align: 'right' },
];

interface Usage {
  readonly cidr: string;
  readonly capacity: string;
  readonly inUse: string;
  readonly reserved: string;
  readonly available: string;
}

function usageRow(grouping: string, u: Usage): string[] {
  const capacity = count(u.capacity);
  return [
    grouping,
    u.cidr,
    formatCount(capacity),
    formatCountWithPercent(count(u.inUse), capacity),
    formatCountWithPercent(count(u.reserved), capacity),
    formatCountWithPercent(count(u.available), capacity),
  ];
}

function usageJson(u: Usage) {
  return { capacity: count(u.capacity), inUse: count(u.inUse), reserved: count(u.reserved), available: count(u.available) };
}

function blockJson(b: BlockUtilization) {
  return { cidr: b.cidr, affinity: b.affinity, ...usageJson(b) };
}

export async function showUtilization(api: Pick<IpamApi, 'getUtilization'>, io: CtlIo, opts: { showBlocks: boolean; format: ShowFormat }): Promise<void> {
  const usage = await api.getUtilization({ poolNames: [] });
  if (opts.format === 'json') {
    io.out(
      formatJson({
        pools: usage.pools.map((p) => ({ name: p.name, cidr: p.cidr, ...usageJson(p), blocks: p.blocks.map(blockJson) })),
        orphanBlocks: usage.orphanBlocks.map(blockJson),
      }),
    );
    return;
  }
  const rows: string[][] = [];
  for (const pool of usage.pools) {
    rows.push(usageRow('IP Pool', pool));
    if (opts.showBlocks) rows.push(...pool.blocks.map((b) => usageRow('Block', b)));
  }
  // Blocks inside no pool have no pool row (Calico's "orphaned allocation blocks").
  if (opts.showBlocks) rows.push(...usage.orphanBlocks.map((b) => usageRow('Block', b)));
  io.out(renderBoxTable(UTILIZATION_COLUMNS, rows));
}

function canonicalIp(text: string): string {
  const ip = tryParseIp(text);
  if (!ip) throw new CliError(`Invalid IP address specified: ${text}`);
  return formatIp(ip);
}

export async function showIp(api: Pick<IpamApi, 'getAssignmentAttributes'>, io: CtlIo, ipText: string, format: ShowFormat): Promise<void> {
  const ip = canonicalIp(ipText);
  let attrs;
  try {
    attrs = await api.getAssignmentAttributes({ ip });
  } catch (err) {
    if (!isNotFound(err)) throw new CliError(refusalMessage(err));
    io.out(format === 'json' ? formatJson({ ip, assigned: false }) : `${ip} is not assigned\n`);
    return;
  }
  // A sticky address belongs to a StatefulSet pod identity, kept across its pods (libs/model sticky-handle.ts).
  const sticky = parseStickyHandle(attrs.handleId);
  if (format === 'json') {
    io.out(
      formatJson({
        ip,
        assigned: true,
        block: attrs.block,
        handleId: attrs.handleId,
        ...(sticky && { sticky: { identity: stickyIdentityText(sticky), inUse: !sticky.idle } }),
        attributes: attrs.attributes,
        sequenceNumber: attrs.sequenceNumber === '' ? null : BigInt(attrs.sequenceNumber),
      }),
    );
    return;
  }
  let text = `IP ${ip} is in use\nHandle ID: ${attrs.handleId || '<none>'}\n`;
  if (sticky) {
    const user = sticky.idle ? 'no sandbox uses it now' : `used by sandbox ${attrs.attributes['sandbox'] ?? '<unknown>'}`;
    text += `Sticky: kept for StatefulSet pod identity ${stickyIdentityText(sticky)} (namespace/set/ordinal); ${user}\n`;
  }
  const keys = Object.keys(attrs.attributes).sort();
  if (keys.length === 0) text += 'No Active Owner attributes defined\n';
  else text += `Active Owner Attributes:\n${keys.map((k) => `  ${k}: ${attrs.attributes[k]}\n`).join('')}`;
  io.out(text);
}

interface BorrowedIp {
  readonly ip: string;
  readonly borrowingNode: string;
  readonly block: string;
  readonly blockOwner: string;
  readonly type: string;
  readonly allocatedTo: string;
}

/** "host:node-2" → "node-2", as calicoctl strips the affinity type. */
function ownerOf(affinity: string): string {
  const parts = affinity.split(':');
  return parts.length === 2 ? parts[1]! : parts[0]!;
}

export async function showBorrowed(api: Pick<IpamApi, 'listAllocations'>, io: CtlIo, format: ShowFormat): Promise<void> {
  const { allocations } = await api.listAllocations({ node: '', handlePrefix: '' });
  const borrowed: BorrowedIp[] = [];
  let unclassified = 0;
  for (const a of allocations) {
    const node = a.attributes['node'];
    if (node === undefined) {
      unclassified++;
      continue;
    }
    const owner = ownerOf(a.blockAffinity);
    if (owner === node) continue;
    const ns = a.attributes['namespace'] ?? '';
    const vmi = a.attributes['vmi-name'];
    const pod = a.attributes['pod'];
    const [type, allocatedTo] =
      vmi !== undefined ? ['vmi', `${ns}/${vmi}`] : pod !== undefined ? ['pod', `${ns}/${pod}`] : [a.attributes['type'] ?? '', ''];
    borrowed.push({ ip: a.address, borrowingNode: node, block: a.block, blockOwner: owner, type, allocatedTo });
  }
  if (format === 'json') {
    io.out(formatJson({ borrowed, unclassified }));
    return;
  }
  const columns = ['IP', 'BORROWING-NODE', 'BLOCK', 'BLOCK OWNER', 'TYPE', 'ALLOCATED-TO'].map((header) => ({ header }));
  let text = renderBoxTable(
    columns,
    borrowed.map((b) => [b.ip, b.borrowingNode, b.block, b.blockOwner, b.type, b.allocatedTo]),
  );
  if (unclassified > 0) {
    text += `\nNote: found ${unclassified} IP allocations without an explicit node association. Unable to determine if they are borrowed.\n`;
  }
  io.out(text);
}

export async function showConfiguration(api: Pick<IpamApi, 'getIpamConfig'>, io: CtlIo, format: ShowFormat): Promise<void> {
  const c = await api.getIpamConfig({});
  if (format === 'json') {
    io.out(
      formatJson({
        strictAffinity: c.strictAffinity,
        autoAllocateBlocks: c.autoAllocateBlocks,
        maxBlocksPerHost: c.maxBlocksPerHost,
        kubeVirtVMAddressPersistence: c.kubeVirtVmAddressPersistence,
        ipCooldownSeconds: c.ipCooldownSeconds,
      }),
    );
    return;
  }
  // Values as Go's %#v prints them: strings quoted, numbers and booleans bare.
  const rows = [
    ['StrictAffinity', String(c.strictAffinity)],
    ['AutoAllocateBlocks', String(c.autoAllocateBlocks)],
    ['MaxBlocksPerHost', String(c.maxBlocksPerHost)],
    ['KubeVirtVMAddressPersistence', JSON.stringify(c.kubeVirtVmAddressPersistence)],
    ['IPCooldownSeconds', String(c.ipCooldownSeconds)],
  ];
  io.out(renderBoxTable([{ header: 'PROPERTY' }, { header: 'VALUE' }], rows));
}

export const ipamShowCommand: Command = {
  name: 'ipam show',
  summary: 'Show details of an assigned IP address, or of overall IP usage.',
  options: {
    ip: { type: 'string' },
    'show-blocks': { type: 'boolean' },
    'show-borrowed': { type: 'boolean' },
    'show-configuration': { type: 'boolean' },
    output: { type: 'string', short: 'o' },
  },
  usage: `Usage:
  atollctl ipam show [--ip=<IP> | --show-blocks | --show-borrowed | --show-configuration]
                     [--output=<OUTPUT>] [--allocator=<ADDR>]

Options:
     --ip=<IP>             Report whether this specific IP address is in use.
     --show-blocks         Show detailed information for IP blocks as well as pools.
     --show-borrowed       Show detailed information for "borrowed" IP addresses.
     --show-configuration  Show current Calico IPAM configuration.
  -o --output=<OUTPUT>     table or json [default: table].
${GLOBAL_OPTIONS_HELP}

Description:
  The ipam show command prints information about a given IP address, or about
  overall IP usage: per pool (and with --show-blocks per block) the addresses
  in total, in use, reserved by IPReservations, and free.
`,
  async run(ctx: CommandContext, args: ParsedArgs) {
    expectPositionals('ipam show', args, 0, 0, 'arguments');
    const format = outputFormat('ipam show', args, ['table', 'json'] as const, 'table');
    const ip = stringFlag(args, 'ip');
    const modes = [ip !== undefined && '--ip', booleanFlag(args, 'show-borrowed') && '--show-borrowed', booleanFlag(args, 'show-configuration') && '--show-configuration'].filter(
      (m): m is string => typeof m === 'string',
    );
    if (modes.length > 1 || (modes.length === 1 && booleanFlag(args, 'show-blocks'))) {
      const used = booleanFlag(args, 'show-blocks') ? [...modes, '--show-blocks'] : modes;
      throw new UsageError(`flags ${used.join(' and ')} cannot be used together; see 'atollctl ipam show --help'`);
    }
    if (ip !== undefined) return showIp(ctx.ipam, ctx.io, ip, format);
    if (booleanFlag(args, 'show-borrowed')) return showBorrowed(ctx.ipam, ctx.io, format);
    if (booleanFlag(args, 'show-configuration')) return showConfiguration(ctx.ipam, ctx.io, format);
    return showUtilization(ctx.ipam, ctx.io, { showBlocks: booleanFlag(args, 'show-blocks'), format });
  },
};
