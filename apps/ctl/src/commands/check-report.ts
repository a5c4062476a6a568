import type { Allocation } from '@atoll/api';
import { parseJsonLossless } from '@atoll/model';
import { CliError } from '../errors';
import { ATOLLCTL_VERSION } from '../version';

// The machine-readable report of `ipam check -o FILE`, in calicoctl's layout (version,
// clusterGUID, datastoreLocked, clusterInformationRevision, clusterType, allocations by IP,
// leakedHandles), which `ipam release --from-report` reads back.
//
// Atoll cannot yet tell a leaked address from one a pod uses (that needs the Kubernetes
// API), so the report marks every allocation in use and says so (`podsChecked: false`):
// releasing from it frees only what a report explicitly marks not in use.

export interface ReportAllocation {
  ip: string;
  handle?: string;
  sequenceNumber?: bigint | number;
  pod?: string;
  namespace?: string;
  node?: string;
  type?: string;
  creationTimestamp?: string;
  inUse: boolean;
  borrowed?: boolean;
  owners: string[];
}

/** Go's HandleInfo has no json tags, hence the capitalised keys. */
export interface ReportHandle {
  ID: string;
  UID: string | null;
  Revision: string;
}

export interface CheckReport {
  version: string;
  clusterGUID: string;
  datastoreLocked: boolean;
  clusterInformationRevision: string;
  clusterType: string;
  /** Atoll's addition: false while in-use means "not known to be leaked", not "seen in use". */
  podsChecked?: boolean;
  allocations: Record<string, ReportAllocation[]>;
  leakedHandles?: ReportHandle[];
}

function hostOf(affinity: string): string {
  return affinity.startsWith('host:') ? affinity.slice('host:'.length) : '';
}

/** One report entry for an allocation (fields in calicoctl's order); `owners` are the resources known to use its IP. */
export function reportAllocation(a: Allocation, owners: readonly string[]): ReportAllocation {
  const blockHost = hostOf(a.blockAffinity);
  const node = a.attributes['node'] || blockHost;
  const optional = (value: string | undefined) => (value ? value : undefined);
  const entry: ReportAllocation = {
    ip: a.address,
    handle: optional(a.handleId),
    sequenceNumber: a.sequenceNumber ? BigInt(a.sequenceNumber) : undefined,
    pod: optional(a.attributes['pod']),
    namespace: optional(a.attributes['namespace']),
    node: optional(node),
    type: optional(a.attributes['type']),
    creationTimestamp: optional(a.attributes['timestamp']),
    inUse: true,
    borrowed: node !== blockHost ? true : undefined,
    owners: [...owners],
  };
  // Calico's omitempty: absent rather than empty (formatJson leaves undefined out).
  return entry;
}

export function newReport(allocations: Record<string, ReportAllocation[]>, leakedHandles: readonly string[]): CheckReport {
  return {
    version: ATOLLCTL_VERSION,
    clusterGUID: '',
    datastoreLocked: false,
    clusterInformationRevision: '',
    clusterType: '',
    podsChecked: false,
    allocations,
    ...(leakedHandles.length > 0 && { leakedHandles: leakedHandles.map((id) => ({ ID: id, UID: null, Revision: '' })) }),
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses a report file's text; refuses anything that is not shaped like one. */
export function parseReport(text: string, file: string): CheckReport {
  let value: unknown;
  try {
    value = parseJsonLossless(text);
  } catch (err) {
    throw new CliError(`the provided report (${file}) is not valid JSON: ${(err as Error).message}`);
  }
  const bad = (what: string) => new CliError(`the provided report (${file}) is not an IPAM check report: ${what}`);
  if (!isObject(value)) throw bad('not a JSON object');
  if (typeof value['version'] !== 'string') throw bad('"version" is missing');
  const allocations = value['allocations'] ?? {};
  if (!isObject(allocations)) throw bad('"allocations" is not an object');
  for (const [ip, list] of Object.entries(allocations)) {
    if (!Array.isArray(list) || !list.every((a) => isObject(a) && typeof a['ip'] === 'string' && typeof a['inUse'] === 'boolean')) {
      throw bad(`allocations of ${ip} are not a list of {ip, inUse, …}`);
    }
  }
  const handles = value['leakedHandles'] ?? [];
  if (!Array.isArray(handles) || !handles.every((h) => isObject(h) && typeof h['ID'] === 'string')) {
    throw bad('"leakedHandles" is not a list of {ID, …}');
  }
  return value as unknown as CheckReport;
}
