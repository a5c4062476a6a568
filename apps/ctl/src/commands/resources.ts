import { loadResources, type Resource, ResourceLoadError } from '@atoll/model';
import { expectPositionals, ParsedArgs, stringFlag } from '../args';
import type { CommandContext, CtlIo, ResourcesApi } from '../context';
import { CliError, oneLine, UsageError } from '../errors';
import { resolveKind } from '../kinds';
import { refusalMessage } from '../rpc-errors';
import { Command, GLOBAL_OPTIONS_HELP } from './command';

// apply / create / delete, with calicoctl's messages. The whole file is loaded and
// validated before anything is sent, so a mistake in document 3 writes nothing at all.
// apply and create stop at the first resource the allocator refuses (so "the first N"
// in the partial-success line is exact); delete goes on past missing resources.

type Verb = 'apply' | 'create' | 'delete';
const PAST: Readonly<Record<Verb, string>> = { apply: 'applied', create: 'created', delete: 'deleted' };

/** Reads and validates `-f FILE|-`; every problem of the file in one line. */
export async function loadResourceFile(io: CtlIo, file: string): Promise<Resource[]> {
  let text: string;
  try {
    text = await io.readInput(file);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message;
    throw new CliError(`Failed to execute command: cannot read ${file}: ${reason}`);
  }
  let resources: Resource[];
  try {
    resources = loadResources(text, file === '-' ? '<stdin>' : file);
  } catch (err) {
    if (err instanceof ResourceLoadError) throw new CliError(`Failed to execute command: ${oneLine(err.message)}`);
    throw err;
  }
  if (resources.length === 0) throw new CliError(`No resources specified in file ${file}`);
  return resources;
}

/** `'IPPool' resource` when every resource is of one kind, else plain `resource`. */
function kindLabel(kinds: readonly string[]): string | undefined {
  const distinct = new Set(kinds);
  return distinct.size === 1 ? [...distinct][0] : undefined;
}

function send(api: ResourcesApi, verb: 'apply' | 'create', resource: Resource): Promise<unknown> {
  const request = { resourceJson: JSON.stringify(resource) };
  return verb === 'apply' ? api.apply(request) : api.create(request);
}

/** apply or create each resource in order; prints calicoctl's summary line. */
export async function writeResources(api: ResourcesApi, io: CtlIo, verb: 'apply' | 'create', resources: readonly Resource[]): Promise<void> {
  const kind = kindLabel(resources.map((r) => r.kind));
  const what = (plural: boolean) => (kind ? `'${kind}' resource${plural ? 's' : ''}` : `resource${plural ? 's' : ''}`);
  let done = 0;
  for (const resource of resources) {
    try {
      await send(api, verb, resource);
      done++;
    } catch (err) {
      const message = refusalMessage(err);
      if (done > 0) {
        io.out(`Partial success: ${verb === 'apply' ? 'applied' : 'created'} the first ${done} out of ${resources.length} ${what(true)}:\n`);
        throw new CliError(`Hit error: ${message}`);
      }
      throw new CliError(
        resources.length === 1 ? `Failed to ${verb} ${what(false)}: ${message}` : `Failed to ${verb} any ${what(true)}: ${message}`,
      );
    }
  }
  io.out(`Successfully ${PAST[verb]} ${done} ${kind ? `'${kind}' ` : ''}resource(s)\n`);
}

/** delete each (kind, name); goes on past failures and reports them all on one line. */
export async function deleteResources(api: ResourcesApi, io: CtlIo, targets: readonly { kind: string; name: string }[]): Promise<void> {
  const kind = kindLabel(targets.map((t) => t.kind));
  const failures: string[] = [];
  let done = 0;
  for (const t of targets) {
    try {
      await api.delete({ kind: t.kind, name: t.name });
      done++;
    } catch (err) {
      failures.push(refusalMessage(err));
    }
  }
  if (done > 0) io.out(`Successfully deleted ${done} ${kind ? `'${kind}' ` : ''}resource(s)\n`);
  if (failures.length > 0) {
    const what = kind ? `'${kind}' resource` : 'resource';
    throw new CliError(`Failed to delete ${what}${failures.length > 1 ? 's' : ''}: ${failures.join('; ')}`);
  }
}

const FILE_OPTION = { filename: { type: 'string', short: 'f' } } as const;

function fileArg(command: string, args: ParsedArgs): string {
  const file = stringFlag(args, 'filename');
  if (file === undefined) throw new UsageError(`'atollctl ${command}' needs -f FILE (or -f - for stdin); see 'atollctl ${command} --help'`);
  expectPositionals(command, args, 0, 0, 'arguments');
  return file;
}

function writeCommand(verb: 'apply' | 'create', summary: string, description: string): Command {
  return {
    name: verb,
    summary,
    options: FILE_OPTION,
    usage: `Usage:
  atollctl ${verb} --filename=<FILENAME> [--allocator=<ADDR>]

Options:
  -f --filename=<FILENAME>  Filename to use to ${verb} the resource. If set to
                            "-" loads from stdin.
${GLOBAL_OPTIONS_HELP}

Description:
${description}
  Valid resource types are IPPool, IPReservation, IPAMConfiguration and Node
  (projectcalico.org/v3, YAML or JSON, several documents separated by ---, or
  a List). The whole input is validated before anything is written.
`,
    async run(ctx: CommandContext, args: ParsedArgs) {
      const file = fileArg(verb, args);
      await writeResources(ctx.resources, ctx.io, verb, await loadResourceFile(ctx.io, file));
    },
  };
}

export const applyCommand = writeCommand(
  'apply',
  'Apply resources by filename or stdin (create or replace).',
  `  The apply command creates or replaces a set of resources. A resource that
  carries metadata.resourceVersion replaces only that version of it.`,
);

export const createCommand = writeCommand(
  'create',
  'Create resources by filename or stdin.',
  '  The create command creates a set of resources; one that already exists is an error.',
);

export const deleteCommand: Command = {
  name: 'delete',
  summary: 'Delete resources by filename, stdin, or type and name.',
  options: FILE_OPTION,
  usage: `Usage:
  atollctl delete ( <KIND> <NAME>... | --filename=<FILENAME> ) [--allocator=<ADDR>]

Examples:
  # Delete the IP pool named default-ipv4-ippool.
  atollctl delete ippool default-ipv4-ippool

  # Delete the resources defined in pools.yaml.
  atollctl delete -f pools.yaml

Options:
  -f --filename=<FILENAME>  Filename of the resources to delete. If set to "-"
                            loads from stdin.
${GLOBAL_OPTIONS_HELP}

Description:
  Deletes resources. KIND is case-insensitive and may be plural or a short name
  (ippool, ipp, pool; ipreservation; ipamconfig; node). Deleting an IPPool
  disables it, releases its blocks' affinities, then deletes it. Deleting the
  IPAMConfiguration "default" resets it to Calico's defaults.
`,
  async run(ctx: CommandContext, args: ParsedArgs) {
    const file = stringFlag(args, 'filename');
    if (file !== undefined) {
      expectPositionals('delete', args, 0, 0, 'arguments');
      const resources = await loadResourceFile(ctx.io, file);
      await deleteResources(ctx.resources, ctx.io, resources.map((r) => ({ kind: r.kind, name: r.metadata.name })));
      return;
    }
    const [kindText, ...names] = expectPositionals('delete', args, 2, Infinity, 'KIND and NAME (or -f FILE)');
    const kind = resolveKind(kindText!);
    await deleteResources(ctx.resources, ctx.io, names.map((name) => ({ kind, name })));
  },
};
