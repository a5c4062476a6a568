import { bitsOf, blockAt, cidrEquals, formatCidr, tryParseCidr } from '@atoll/ipmath';
import { applyIPPoolDefaults, IPPool } from '@atoll/model';
import { expectPositionals, ParsedArgs, stringFlag } from '../args';
import type { CommandContext, CtlIo, ResourcesApi } from '../context';
import { CliError, UsageError } from '../errors';
import { isNotFound, refusalMessage } from '../rpc-errors';
import { Command, GLOBAL_OPTIONS_HELP } from './command';

// ipam split N: replaces a pool by N equal pools named split-<name>-<i>, with calicoctl's
// messages. calicoctl creates the children with an "unsafe" create that skips the overlap
// check and then deletes the parent without releasing its blocks. The Resources service
// has neither: a child always overlaps its parent, so here the parent goes first.
//
//   1. disable the parent (no new addresses come from it);
//   2. delete it (the allocator releases its blocks' affinities: empty blocks go, blocks
//      holding addresses stay, unaffine, and keep their addresses);
//   3. create every child disabled, so none is used before all exist;
//   4. enable them, if the parent was enabled.
//
// If a child cannot be created, the children made so far are deleted and the parent is
// created again. Everything that can be checked without writing is checked before step 1.

const MAX_NAME = 253;

/** calicoctl's splitCIDR: `parts` equal CIDRs in address order, or its error text. */
export function splitCidr(cidrText: string, parts: number): string[] {
  const power = Math.log2(parts);
  if (!Number.isInteger(parts) || !Number.isInteger(power) || power === 0) {
    throw new CliError(`number to split CIDR into is not a valid power of 2: ${parts}`);
  }
  const cidr = tryParseCidr(cidrText);
  if (!cidr) throw new CliError(`error reading CIDR ${cidrText} before attempting to split it`);
  if (cidr.prefix + power > bitsOf(cidr.version)) {
    throw new CliError(`the CIDR ${cidrText} is not large enough to be split into ${parts} parts`);
  }
  const prefix = cidr.prefix + power;
  return Array.from({ length: parts }, (_, i) => formatCidr(blockAt(cidr, prefix, BigInt(i))));
}

/** split-<name>-<i>, cutting long names as calicoctl does. */
export function childName(parent: string, i: number): string {
  const name = `split-${parent}-${i}`;
  return name.length > MAX_NAME ? `split-${parent.slice(0, 245)}-${i}` : name;
}

function parsePools(jsons: readonly string[]): IPPool[] {
  return jsons.map((j) => JSON.parse(j) as IPPool);
}

async function findPool(api: ResourcesApi, name: string | undefined, cidr: string | undefined): Promise<IPPool> {
  if (name !== undefined) {
    try {
      return JSON.parse((await api.get({ kind: 'IPPool', name })).resourceJson) as IPPool;
    } catch (err) {
      throw new CliError(`unable to find IP pool with name ${name}: ${refusalMessage(err)}`);
    }
  }
  const wanted = tryParseCidr(cidr!);
  const pools = parsePools((await api.list({ kind: 'IPPool' })).resourceJson);
  const found = pools.find((p) => {
    const c = tryParseCidr(p.spec.cidr);
    return p.spec.cidr === cidr || (wanted !== undefined && c !== undefined && cidrEquals(c, wanted));
  });
  if (!found) throw new CliError(`unable to find IP pool covering the specified CIDR ${cidr}`);
  return found;
}

/** The pool as a new resource: same labels, annotations and spec, no identity or version. */
function fresh(pool: IPPool, name: string, spec: IPPool['spec']): IPPool {
  const { labels, annotations } = pool.metadata;
  return {
    apiVersion: pool.apiVersion,
    kind: 'IPPool',
    metadata: { name, ...(labels && { labels }), ...(annotations && { annotations }) },
    spec,
  };
}

const toJson = (r: IPPool) => ({ resourceJson: JSON.stringify(r) });

async function rollBack(api: ResourcesApi, parent: IPPool, created: readonly string[]): Promise<string> {
  try {
    for (const name of created) await api.delete({ kind: 'IPPool', name });
    await api.create(toJson(fresh(parent, parent.metadata.name, parent.spec)));
    return `the split was rolled back and IP pool ${parent.metadata.name} recreated`;
  } catch (err) {
    return `rolling back failed too (${refusalMessage(err)}): recreate IP pool ${parent.metadata.name} (CIDR ${parent.spec.cidr}) by hand`;
  }
}

export async function splitPool(api: ResourcesApi, io: CtlIo, opts: { parts: number; name?: string; cidr?: string }): Promise<void> {
  if (opts.name === undefined && opts.cidr === undefined) {
    throw new UsageError('no name or CIDR provided. Provide a name or CIDR to denote the IP pool to split');
  }
  const parent = await findPool(api, opts.name, opts.cidr);
  const name = parent.metadata.name;
  const cidrs = splitCidr(parent.spec.cidr, opts.parts);
  const enabled = parent.spec.disabled !== true;

  // Checks that would otherwise fail half-way, after the parent is gone.
  const childPrefix = tryParseCidr(cidrs[0]!)!.prefix;
  const blockSize = applyIPPoolDefaults(parent).spec.blockSize;
  if (enabled && childPrefix > blockSize) {
    throw new CliError(
      `error splitting the CIDR ${parent.spec.cidr} into ${opts.parts} CIDRs: /${childPrefix} pools are smaller than the pool's /${blockSize} blocks`,
    );
  }
  const names = cidrs.map((_, i) => childName(name, i));
  const existing = new Set(parsePools((await api.list({ kind: 'IPPool' })).resourceJson).map((p) => p.metadata.name));
  const taken = names.find((n) => existing.has(n));
  if (taken) throw new CliError(`error splitting IP pool ${name}: an IP pool named ${taken} already exists`);

  if (enabled) {
    try {
      await api.apply(toJson({ ...parent, spec: { ...parent.spec, disabled: true } }));
    } catch (err) {
      throw new CliError(`error disabling IP pool ${parent.spec.cidr}: ${refusalMessage(err)}`);
    }
  }
  try {
    await api.delete({ kind: 'IPPool', name });
  } catch (err) {
    const reason = refusalMessage(err);
    if (enabled && !isNotFound(err)) await api.apply(toJson({ ...parent, metadata: { ...parent.metadata, resourceVersion: undefined } })).catch(() => undefined);
    throw new CliError(`error removing the IP pool that was split ${name}: ${reason}`);
  }

  const created: { name: string; json: string }[] = [];
  for (const [i, cidr] of cidrs.entries()) {
    try {
      const response = await api.create(toJson(fresh(parent, names[i]!, { ...parent.spec, cidr, disabled: true })));
      created.push({ name: names[i]!, json: response.resourceJson });
    } catch (err) {
      const reason = refusalMessage(err);
      throw new CliError(`error creating split pool with cidr ${cidr}: ${reason}; ${await rollBack(api, parent, created.map((c) => c.name))}`);
    }
  }
  if (enabled) {
    for (const child of created) {
      const pool = JSON.parse(child.json) as IPPool;
      try {
        await api.apply(toJson({ ...pool, spec: { ...pool.spec, disabled: false } }));
      } catch (err) {
        throw new CliError(`error enabling split pool ${child.name}: ${refusalMessage(err)}; enable the split pools with 'atollctl apply'`);
      }
    }
  }

  let text = `IP Pool ${name} was successfully split into ${opts.parts} smaller pools.\n`;
  for (const [i, cidr] of cidrs.entries()) text += `Created ${names[i]} with CIDR ${cidr}.\n`;
  io.out(text);
}

export const ipamSplitCommand: Command = {
  name: 'ipam split',
  summary: 'Split an IP pool into a power-of-2 number of equal smaller pools.',
  options: { cidr: { type: 'string' }, name: { type: 'string' } },
  usage: `Usage:
  atollctl ipam split <NUMBER> [--cidr=<CIDR>] [--name=<POOL_NAME>] [--allocator=<ADDR>]

Options:
     --cidr=<CIDR>             CIDR of the IP pool to split.
     --name=<POOL_NAME>        Name of the IP pool to split.
${GLOBAL_OPTIONS_HELP}

Description:
  The ipam split command splits an IP pool specified by the specified CIDR or name
  into the specified number of smaller IP pools, named split-<name>-<i>. Each child
  IP pool will be of equal size. IP pools can only be split into a number of smaller
  pools that is a power of 2.

  Atoll has no datastore lock: the pool is disabled and deleted (its blocks keep
  their addresses but lose their node affinity), then the new pools are created
  disabled and enabled together. Run it when no pods are being created.

Examples:
  # Split the IP pool specified by 172.0.0.0/8 into 2 smaller pools
  atollctl ipam split --cidr=172.0.0.0/8 2
`,
  async run(ctx: CommandContext, args: ParsedArgs) {
    const [numberText] = expectPositionals('ipam split', args, 1, 1, 'NUMBER');
    if (!/^[+-]?\d+$/.test(numberText!)) {
      throw new UsageError(`error reading number to split IP pools into. ${numberText} is not a valid number`);
    }
    const name = stringFlag(args, 'name');
    const cidr = stringFlag(args, 'cidr');
    await splitPool(ctx.resources, ctx.io, { parts: Number(numberText), ...(name !== undefined && { name }), ...(cidr !== undefined && { cidr }) });
  },
};
