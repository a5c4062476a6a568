import type { CheckResponse, ReadRecordsResponse, RecordWrite } from '@atoll/api';
import { parseJsonLossless, stringifyJsonLossless } from '@atoll/model';
import { calicoKddDataset } from '../../../../tools/k8s-api/calico-kdd-dataset';
import type { CheckApi } from '../commands/ipam-check';
import type { MigrationApi } from '../context';
import type { KddApi } from './kdd-api';
import { CRD_PLURALS, type CrdPlural, type KubeObject } from './kdd-kinds';
import { migrateFromKdd } from './migrate-from-kdd';

// The from-calico-kdd runner against in-memory stand-ins for both sides: what it prints,
// that a dry run writes nothing, and that a destination which does not hold what was
// written fails the verification with the differences listed.

function kddOf(): KddApi {
  const data = calicoKddDataset({ nodes: 2, blocks: 4, allocations: 20 });
  const objects = Object.fromEntries(CRD_PLURALS.map((p) => [p, [] as KubeObject[]])) as Record<CrdPlural, KubeObject[]>;
  for (const o of data.objects) objects[o.plural as CrdPlural].push(parseJsonLossless(stringifyJsonLossless(o.body)) as unknown as KubeObject);
  return { list: async (p: CrdPlural) => objects[p], listNodes: async () => data.nodes as unknown as KubeObject[] } as unknown as KddApi;
}

/** An Atoll side in memory; `dropEvery` loses every n-th write while answering success. */
function atollOf(dropEvery = 0): { api: MigrationApi; writes: RecordWrite[] } {
  const stored = new Map<string, { value: string; revision: string }>();
  const writes: RecordWrite[] = [];
  let revision = 1;
  const api = {
    readRecords: async (): Promise<ReadRecordsResponse> => ({ records: [...stored].map(([key, v]) => ({ key, ...v })), revision: String(revision) }),
    writeRecords: async (req: { writes: RecordWrite[] }) => {
      revision++;
      for (const w of req.writes) {
        writes.push(w);
        if (dropEvery > 0 && writes.length % dropEvery === 0) continue;
        stored.set(w.key, { value: w.value, revision: String(revision) });
      }
      return { revision: String(revision) };
    },
  } as unknown as MigrationApi;
  return { api, writes };
}

const cleanCheck: CheckApi = {
  ipam: {
    check: async () => ({ blocks: 0, allocations: 0, handles: 0, affinities: 0, invalidBlocks: [], handlesWithoutAddresses: [], addressesWithoutHandle: [], miscountedHandles: [], blocksOutsidePools: [], affinityProblems: [], problems: 0 }) as CheckResponse,
    getUtilization: async () => ({ pools: [], orphanBlocks: [] }),
    listAllocations: async () => ({ allocations: [] }),
  },
  resources: { list: async () => ({ resourceJson: [] }) },
} as unknown as CheckApi;

describe('migrate from-calico-kdd', () => {
  it('writes nothing on --dry-run and prints counts per kind', async () => {
    const out: string[] = [];
    const atoll = atollOf();
    await migrateFromKdd({ io: { out: (t: string) => void out.push(t) } as never, kdd: kddOf(), migration: atoll.api, check: cleanCheck }, { dryRun: true, merge: false, format: 'text' });
    expect(atoll.writes).toEqual([]);
    expect(out.join('')).toContain('Would write: 3 IPPool, 2 IPReservation, 1 IPAMConfig, 4 IPAMBlock, 4 BlockAffinity, 20 IPAMHandle, 2 Node.');
  });

  it('writes everything once, each record only if absent, pools last; a second run writes nothing', async () => {
    const atoll = atollOf();
    const deps = { io: { out: () => undefined } as never, kdd: kddOf(), migration: atoll.api, check: cleanCheck };
    const first = await migrateFromKdd(deps, { dryRun: false, merge: false, format: 'json' });
    expect(first.written).toBe(36);
    expect(atoll.writes.at(-1)!.key).toMatch(/\/ippools\//);
    expect(atoll.writes.every((w) => w.expectRevision === '0')).toBe(true);
    const second = await migrateFromKdd(deps, { dryRun: false, merge: false, format: 'json' });
    expect(second.written).toBe(0);
    expect(atoll.writes).toHaveLength(36);
  });

  it('fails the verification, listing what is missing, when the destination lost writes', async () => {
    const atoll = atollOf(7);
    await expect(migrateFromKdd({ io: { out: () => undefined } as never, kdd: kddOf(), migration: atoll.api, check: cleanCheck }, { dryRun: false, merge: false, format: 'text' })).rejects.toThrow(
      /^verification failed: the Atoll datastore does not match Calico's Kubernetes datastore \(5 difference\(s\)\):\n {2}\S+ \S+ is missing from Atoll/,
    );
  });
});
