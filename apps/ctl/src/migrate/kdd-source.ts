import type { KddApi } from './kdd-api';
import { CRD_PLURALS, type CrdPlural, type KubeObject } from './kdd-kinds';
import type { KddSource } from './from-kdd';

/** Everything a migration reads from Calico's Kubernetes datastore, listed in parallel. */
export async function readKddSource(kdd: KddApi): Promise<KddSource> {
  const [nodes, ...lists] = await Promise.all([kdd.listNodes(), ...CRD_PLURALS.map((p) => kdd.list(p))]);
  const objects = Object.fromEntries(CRD_PLURALS.map((p, i) => [p, lists[i]!])) as Record<CrdPlural, KubeObject[]>;
  return { objects, nodes };
}
