import type { KubeObject } from './types';

// Calico's IPAM custom resources (group crd.projectcalico.org, version v1), as a cluster
// with Calico's Kubernetes datastore serves them: cluster-scoped, no status subresource,
// stored as given. The apiserver keeps a custom resource's JSON as written, so the
// stand-in must too — including uint64 sequence numbers above 2^53 (see http-io.ts).

export const CALICO_CRD_GROUP = 'crd.projectcalico.org';
export const CALICO_CRD_VERSION = 'v1';
export const CALICO_CRD_API_VERSION = `${CALICO_CRD_GROUP}/${CALICO_CRD_VERSION}`;

export type CalicoResourceName = 'ippools' | 'ipreservations' | 'ipamconfigs' | 'ipamblocks' | 'blockaffinities' | 'ipamhandles';

interface CalicoCrdFacts {
  readonly name: CalicoResourceName;
  readonly singularName: string;
  readonly kind: string;
}

const KINDS: readonly CalicoCrdFacts[] = [
  { name: 'ippools', singularName: 'ippool', kind: 'IPPool' },
  { name: 'ipreservations', singularName: 'ipreservation', kind: 'IPReservation' },
  { name: 'ipamconfigs', singularName: 'ipamconfig', kind: 'IPAMConfig' },
  { name: 'ipamblocks', singularName: 'ipamblock', kind: 'IPAMBlock' },
  { name: 'blockaffinities', singularName: 'blockaffinity', kind: 'BlockAffinity' },
  { name: 'ipamhandles', singularName: 'ipamhandle', kind: 'IPAMHandle' },
];

/** The per-kind facts the stand-in needs, in the shape of resources.ts's ResourceType. */
export function calicoCrdTypes<T>(make: (facts: CalicoCrdFacts & { apiVersion: string; group: string; listKind: string; prepareForCreate(obj: KubeObject): void }) => T): Record<CalicoResourceName, T> {
  const out = {} as Record<CalicoResourceName, T>;
  for (const k of KINDS) {
    out[k.name] = make({
      ...k,
      apiVersion: CALICO_CRD_API_VERSION,
      group: CALICO_CRD_GROUP,
      listKind: `${k.kind}List`,
      // A custom resource without a status subresource is stored exactly as created.
      prepareForCreate: () => undefined,
    });
  }
  return out;
}
