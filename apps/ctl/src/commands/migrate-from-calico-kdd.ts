import { booleanFlag, expectPositionals, outputFormat, ParsedArgs, stringFlag } from '../args';
import type { CommandContext } from '../context';
import { CliError, UsageError } from '../errors';
import { KddApi } from '../migrate/kdd-api';
import { kubeHttpFromFile } from '../migrate/kube-http';
import { migrateFromKdd } from '../migrate/migrate-from-kdd';
import { Command, GLOBAL_OPTIONS_HELP } from './command';

export function kubeconfigFlag(command: string, args: ParsedArgs): string {
  const path = stringFlag(args, 'kubeconfig');
  if (!path) throw new UsageError(`flag --kubeconfig is required: the kubeconfig of the cluster whose Calico datastore to use; see 'atollctl ${command} --help'`);
  return path;
}

export function migrationApi(ctx: CommandContext) {
  if (!ctx.migration) throw new CliError('this atollctl cannot reach the allocator\'s Migration service');
  return ctx.migration;
}

export const migrateFromCalicoKddCommand: Command = {
  name: 'migrate from-calico-kdd',
  summary: "Copy Calico's IPAM from its Kubernetes datastore into Atoll.",
  options: {
    kubeconfig: { type: 'string' },
    'dry-run': { type: 'boolean' },
    merge: { type: 'boolean' },
    output: { type: 'string', short: 'o' },
  },
  usage: `Usage:
  atollctl migrate from-calico-kdd --kubeconfig=<FILE> [--dry-run] [--merge]
                                   [-o json] [--allocator=<ADDR>]

Options:
     --kubeconfig=<FILE>  The cluster whose Calico IPAM to read (custom resources of
                          crd.projectcalico.org/v1 and Node tunnel annotations).
     --dry-run            Print what would be written (counts per kind and the first
                          differences) and write nothing.
     --merge              Keep what the Atoll datastore already holds and add Calico's
                          objects; any conflicting address is still refused.
  -o --output=<FORMAT>    text (default) or json.
${GLOBAL_OPTIONS_HELP}

Description:
  Reads every IPPool, IPReservation, IPAMConfig, IPAMBlock, BlockAffinity and
  IPAMHandle, and the nodes' tunnel addresses, validates them, and writes them
  through the allocator in Calico's etcd layout, every address kept. A second run
  changes nothing and says so; a run that was interrupted is completed by the next.
  Ends by reading everything back and running the ipam check; any difference is
  listed and the exit code is non-zero. Calico must not allocate meanwhile: see
  docs/migrating-from-calico.md.
`,
  async run(ctx: CommandContext, args: ParsedArgs) {
    expectPositionals('migrate from-calico-kdd', args, 0, 0, 'arguments');
    const format = outputFormat('migrate from-calico-kdd', args, ['text', 'json'] as const, 'text');
    const kdd = new KddApi(await kubeHttpFromFile(kubeconfigFlag('migrate from-calico-kdd', args)));
    await migrateFromKdd(
      { io: ctx.io, kdd, migration: migrationApi(ctx), check: { ipam: ctx.ipam, resources: ctx.resources } },
      { dryRun: booleanFlag(args, 'dry-run'), merge: booleanFlag(args, 'merge'), format },
    );
  },
};
