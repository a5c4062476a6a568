import { API_VERSION, dumpResource, type Resource, type ResourceKind } from '@atoll/model';
import { expectPositionals, outputFormat, ParsedArgs } from '../args';
import type { CommandContext, CtlIo, ResourcesApi } from '../context';
import { CliError } from '../errors';
import { resourceTable } from '../format/resource-columns';
import { renderTabTable } from '../format/tab-table';
import { resolveKind } from '../kinds';
import { refusalMessage } from '../rpc-errors';
import { Command, GLOBAL_OPTIONS_HELP } from './command';

// get: one resource by name prints as itself; a listing (or several names) prints as a
// `<Kind>List`, which `apply -f` reads back, so `get -o yaml > f && apply -f f` round-trips.

export const GET_FORMATS = ['table', 'ps', 'wide', 'yaml', 'json'] as const;
export type GetFormat = (typeof GET_FORMATS)[number];

async function fetch(api: ResourcesApi, kind: ResourceKind, names: readonly string[]): Promise<Resource[]> {
  try {
    if (names.length === 0) return (await api.list({ kind })).resourceJson.map((j) => JSON.parse(j) as Resource);
    const out: Resource[] = [];
    for (const name of names) out.push(JSON.parse((await api.get({ kind, name })).resourceJson) as Resource);
    return out;
  } catch (err) {
    throw new CliError(`Failed to get resources: ${refusalMessage(err)}`);
  }
}

/** Prints resources of one kind in a format; `single` prints the one resource itself, not a list. */
export function printResources(io: CtlIo, kind: ResourceKind, resources: readonly Resource[], format: GetFormat, single: boolean): void {
  if (format === 'yaml' || format === 'json') {
    const value = single && resources.length === 1 ? resources[0]! : ({ apiVersion: API_VERSION, kind: `${kind}List`, metadata: {}, items: resources } as unknown as Resource);
    io.out(dumpResource(value, format));
    return;
  }
  const { headings, rows } = resourceTable(kind, resources, format === 'wide');
  // calicoctl leaves an empty line after each table.
  io.out(`${renderTabTable(headings, rows)}\n`);
}

export async function getResources(api: ResourcesApi, io: CtlIo, kind: ResourceKind, names: readonly string[], format: GetFormat): Promise<void> {
  printResources(io, kind, await fetch(api, kind, names), format, names.length === 1);
}

export const getCommand: Command = {
  name: 'get',
  summary: 'Get a resource identified by type and name, or list resources of a type.',
  options: { output: { type: 'string', short: 'o' } },
  usage: `Usage:
  atollctl get <KIND> [<NAME>...] [--output=<OUTPUT>] [--allocator=<ADDR>]

Examples:
  # List all IP pools in the default output (table) format.
  atollctl get ippools

  # Get the IP pool default-ipv4-ippool as YAML (apply -f reads it back).
  atollctl get ippool default-ipv4-ippool -o yaml

Options:
  -o --output=<OUTPUT>      Output format: table (also "ps"), wide, yaml or json
                            [default: table].
${GLOBAL_OPTIONS_HELP}

Description:
  KIND is one of IPPool, IPReservation, IPAMConfiguration or Node,
  case-insensitive, singular, plural or calicoctl's short names (ipp, pool,
  ipamconfig, no ...). Without NAME every resource of the kind is listed.
`,
  async run(ctx: CommandContext, args: ParsedArgs) {
    const format = outputFormat('get', args, GET_FORMATS, 'table');
    const [kindText, ...names] = expectPositionals('get', args, 1, Infinity, 'KIND');
    await getResources(ctx.resources, ctx.io, resolveKind(kindText!), names, format);
  },
};
