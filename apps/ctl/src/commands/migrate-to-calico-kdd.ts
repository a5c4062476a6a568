import { booleanFlag, expectPositionals, outputFormat, ParsedArgs } from '../args';
import type { CommandContext } from '../context';
import { KddApi } from '../migrate/kdd-api';
import { kubeHttpFromFile } from '../migrate/kube-http';
import { migrateToKdd } from '../migrate/migrate-to-kdd';
import { Command, GLOBAL_OPTIONS_HELP } from './command';
import { kubeconfigFlag, migrationApi } from './migrate-from-calico-kdd';

export const migrateToCalicoKddCommand: Command = {
  name: 'migrate to-calico-kdd',
  summary: "Copy Atoll's IPAM back into Calico's Kubernetes datastore.",
  options: {
    kubeconfig: { type: 'string' },
    'dry-run': { type: 'boolean' },
    output: { type: 'string', short: 'o' },
  },
  usage: `Usage:
  atollctl migrate to-calico-kdd --kubeconfig=<FILE> [--dry-run] [-o json]
                                 [--allocator=<ADDR>]

Options:
     --kubeconfig=<FILE>  The cluster whose Calico datastore to write.
     --dry-run            Print what would be written and write nothing.
  -o --output=<FORMAT>    text (default) or json.
${GLOBAL_OPTIONS_HELP}

Description:
  The way back: writes Atoll's pools, reservations, IPAM config, blocks,
  affinities and handles as Calico's custom resources (crd.projectcalico.org/v1)
  and the nodes' tunnel addresses as Node annotations. Creates what is missing,
  leaves what is already the same, and refuses (writing nothing) when an object
  exists with another spec or exists only in Calico. Ends by reading everything
  back and checking it; any difference is listed and the exit code is non-zero.
`,
  async run(ctx: CommandContext, args: ParsedArgs) {
    expectPositionals('migrate to-calico-kdd', args, 0, 0, 'arguments');
    const format = outputFormat('migrate to-calico-kdd', args, ['text', 'json'] as const, 'text');
    const kdd = new KddApi(await kubeHttpFromFile(kubeconfigFlag('migrate to-calico-kdd', args)));
    await migrateToKdd({ io: ctx.io, kdd, migration: migrationApi(ctx) }, { dryRun: booleanFlag(args, 'dry-run'), format });
  },
};
