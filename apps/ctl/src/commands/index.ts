import type { Command } from './command';
import { ipamCheckCommand } from './ipam-check';
import { ipamConfigureCommand } from './ipam-configure';
import { ipamExplainCommand } from './ipam-explain';
import { ipamHistoryCommand } from './ipam-history';
import { ipamReleaseCommand } from './ipam-release';
import { ipamShowCommand } from './ipam-show';
import { ipamSplitCommand } from './ipam-split';
import { ipamUiCommand } from './ipam-ui';
import { migrateFromCalicoKddCommand } from './migrate-from-calico-kdd';
import { migrateToCalicoKddCommand } from './migrate-to-calico-kdd';
import { applyCommand, createCommand, deleteCommand } from './resources';
import { getCommand } from './resources-get';

export type { Command } from './command';

/** Every command, by the words that name it ("get", "ipam show"). */
export const COMMANDS: readonly Command[] = [
  applyCommand,
  createCommand,
  deleteCommand,
  getCommand,
  ipamShowCommand,
  ipamCheckCommand,
  ipamReleaseCommand,
  ipamConfigureCommand,
  ipamSplitCommand,
  ipamUiCommand,
  ipamHistoryCommand,
  ipamExplainCommand,
  migrateFromCalicoKddCommand,
  migrateToCalicoKddCommand,
];

export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}

function listing(entries: readonly (readonly [string, string])[]): string {
  const width = Math.max(...entries.map(([name]) => name.length));
  return entries.map(([name, summary]) => `    ${name.padEnd(width)}  ${summary}`).join('\n');
}

const TOP_LEVEL: readonly (readonly [string, string])[] = [
  ...COMMANDS.filter((c) => !c.name.includes(' ')).map((c) => [c.name, c.summary] as const),
  ['ipam', 'IP address management: show, check, release, configure, split, ui, history, explain.'],
  ['migrate', "Move IPAM between Calico's Kubernetes datastore and Atoll."],
];

const subcommands = (group: string) => COMMANDS.filter((c) => c.name.startsWith(`${group} `)).map((c) => [c.name.slice(group.length + 1), c.summary] as const);
const IPAM_LEVEL = subcommands('ipam');

export const TOP_USAGE = `Usage:
  atollctl [options] <command> [<args>...]

${listing(TOP_LEVEL)}

Options:
  -h --help               Show this screen.
     --allocator=<ADDR>   The allocator's gRPC address, host:port
                          [default: $ATOLL_ALLOCATOR or 127.0.0.1:7443].
     --allocator-ca-file=<FILE>
                          TLS: the CA that signed the allocator's certificate
                          [default: $ATOLL_ALLOCATOR_CA_FILE].
     --cert-file=<FILE>   mTLS: this client's certificate (O=atoll:admins for
                          every command) [default: $ATOLL_CERT_FILE].
     --key-file=<FILE>    mTLS: the certificate's private key
                          [default: $ATOLL_KEY_FILE].

Description:
  atollctl manages Atoll, a Calico-compatible IPAM, the way calicoctl manages
  Calico: projectcalico.org/v3 resources (IPPool, IPReservation,
  IPAMConfiguration, Node) and IP address management. It talks gRPC to the
  allocator; only the allocator talks to etcd.

See 'atollctl <command> --help' to read about a specific command.
`;

export const IPAM_USAGE = `Usage:
  atollctl ipam <command> [<args>...]

${listing(IPAM_LEVEL)}

Options:
  -h --help               Show this screen.

Description:
  IP address management commands for atollctl.

See 'atollctl ipam <command> --help' to read about a specific subcommand.
`;

export const MIGRATE_USAGE = `Usage:
  atollctl migrate <command> [<args>...]

${listing(subcommands('migrate'))}

Options:
  -h --help               Show this screen.

Description:
  Moves IP address management between Calico's Kubernetes datastore
  (crd.projectcalico.org/v1 custom resources) and Atoll, every address kept.

See 'atollctl migrate <command> --help' to read about a specific subcommand.
`;

/** Words that name a group of commands, with the group's usage. */
export const COMMAND_GROUPS: Readonly<Record<string, string>> = { ipam: IPAM_USAGE, migrate: MIGRATE_USAGE };
