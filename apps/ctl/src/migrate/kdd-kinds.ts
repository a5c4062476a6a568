import type { JsonValue } from '@atoll/model';

// The custom resource kinds of Calico's IPAM (group crd.projectcalico.org, version v1) and
// the object shape a migration reads and writes.

export const CRD_GROUP_VERSION = 'crd.projectcalico.org/v1';

export type CrdPlural = 'ippools' | 'ipreservations' | 'ipamconfigs' | 'ipamblocks' | 'blockaffinities' | 'ipamhandles';

export const CRD_KINDS: Readonly<Record<CrdPlural, string>> = {
  ippools: 'IPPool',
  ipreservations: 'IPReservation',
  ipamconfigs: 'IPAMConfig',
  ipamblocks: 'IPAMBlock',
  blockaffinities: 'BlockAffinity',
  ipamhandles: 'IPAMHandle',
};

export const CRD_PLURALS = Object.keys(CRD_KINDS) as CrdPlural[];

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; uid?: string; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown };
  spec?: Record<string, JsonValue>;
  [k: string]: unknown;
}
