import type { ResourceKind } from '@atoll/model';
import { CliError } from './errors';

// Resource types on the command line, as calicoctl takes them: case-insensitive, singular
// or plural, or one of calicoctl's short names (resourcemgr's registrations).

const ALIASES: Readonly<Record<ResourceKind, readonly string[]>> = {
  IPPool: ['ippool', 'ippools', 'ipp', 'ipps', 'pool', 'pools'],
  IPReservation: ['ipreservation', 'ipreservations', 'reservation', 'reservations'],
  IPAMConfiguration: ['ipamconfiguration', 'ipamconfigurations', 'ipamconfig', 'ipamconfigs'],
  Node: ['node', 'nodes', 'no', 'nos'],
};

const BY_ALIAS = new Map<string, ResourceKind>(
  Object.entries(ALIASES).flatMap(([kind, aliases]) => aliases.map((a) => [a, kind as ResourceKind] as const)),
);

/** The kind a command-line resource type names, or undefined. */
export function lookupKind(text: string): ResourceKind | undefined {
  return BY_ALIAS.get(text.toLowerCase());
}

/** Like lookupKind, but refuses an unknown type with calicoctl's message. */
export function resolveKind(text: string): ResourceKind {
  const kind = lookupKind(text);
  if (!kind) {
    throw new CliError(`Resource type '${text}' is not supported; use one of ippool, ipreservation, ipamconfiguration, node`);
  }
  return kind;
}
