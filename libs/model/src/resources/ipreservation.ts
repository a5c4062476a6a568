import { IpParseError, parseCidr } from '@atoll/ipmath';
import { readStringList, rejectUnknownFields } from './field-types';
import { ApiVersion, nameOf, ObjectMeta, validateEnvelope } from './metadata';
import { indexPath, ProblemList } from './problem-list';
import { ValidationError } from './validation-error';

/**
 * Addresses kept out of automatic assignment. Entries are CIDRs or bare addresses, and
 * need not be strictly masked (Calico's `cidrs` validator parses with ParseCIDROrIP).
 * Reservations do not apply to static (annotation) requests.
 */
export interface IPReservationSpec {
  reservedCIDRs?: string[];
}

export interface IPReservation {
  apiVersion: ApiVersion;
  kind: 'IPReservation';
  metadata: ObjectMeta;
  spec: IPReservationSpec;
}

/** Missing reservedCIDRs becomes an empty list. Entries are kept as written. Pure. */
export function applyIPReservationDefaults(reservation: IPReservation): IPReservation {
  const copy = structuredClone(reservation);
  const spec = copy.spec ?? {};
  return { ...copy, spec: { ...spec, reservedCIDRs: spec.reservedCIDRs ?? [] } };
}

/** All problems of an IPReservation: strict fields, each entry an IP or CIDR, no duplicates. Never throws. */
export function validateIPReservation(value: unknown): ValidationError[] {
  const problems = new ProblemList('IPReservation', nameOf(value));
  const spec = validateEnvelope(problems, value, { allowStatus: false });
  if (!spec) return problems.problems;
  rejectUnknownFields(problems, spec, 'spec', ['reservedCIDRs']);
  readStringList(problems, spec, 'reservedCIDRs', 'spec');
  const raw = spec['reservedCIDRs'];
  if (!Array.isArray(raw)) return problems.problems;

  const seen = new Map<string, number>();
  raw.forEach((entry: unknown, i) => {
    if (typeof entry !== 'string') return; // reported by readStringList
    const field = indexPath('spec.reservedCIDRs', i);
    try {
      parseCidr(entry, { allowBareAddress: true });
    } catch (err) {
      if (!(err instanceof IpParseError)) throw err;
      problems.add(field, 'must be an IP address or a CIDR', entry);
      return;
    }
    // The CRD declares the list UniqueItems; refusing here keeps etcd and KDD data alike.
    const first = seen.get(entry);
    if (first !== undefined) problems.add(field, `duplicate of spec.reservedCIDRs[${first}]`, entry);
    else seen.set(entry, i);
  });
  return problems.problems;
}
