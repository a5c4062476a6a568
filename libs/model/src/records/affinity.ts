import { parseJsonLossless } from '../json';
import { asObject, optionalBoolean, optionalString, RecordDecodeError } from './record-error';

// The value at /calico/ipam/v2/<type>/<host>/ipv4|ipv6/block/<cidr>: which host owns a
// block, and where a claim or release of it stands (pending → confirmed → pendingDeletion).

export type AffinityState = 'pending' | 'confirmed' | 'pendingDeletion';

export interface BlockAffinity {
  readonly state: AffinityState;
  readonly deleted: boolean;
}

const STATES: readonly string[] = ['pending', 'confirmed', 'pendingDeletion'];

/** Reads an affinity. An empty legacy value, or state "", means confirmed (as in Calico). */
export function decodeAffinity(json: string): BlockAffinity {
  if (json.trim() === '') return { state: 'confirmed', deleted: false };
  const o = asObject('block affinity', '(value)', parseJsonLossless(json));
  const state = optionalString('block affinity', 'state', o['state']) ?? '';
  if (state !== '' && !STATES.includes(state)) {
    throw new RecordDecodeError('block affinity', 'state', `unknown state ${JSON.stringify(state)}`);
  }
  return {
    state: state === '' ? 'confirmed' : (state as AffinityState),
    deleted: optionalBoolean('block affinity', 'deleted', o['deleted']),
  };
}

export function encodeAffinity(a: BlockAffinity): string {
  return JSON.stringify({ state: a.state, deleted: a.deleted });
}
