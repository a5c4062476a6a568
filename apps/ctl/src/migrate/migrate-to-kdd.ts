import type { CtlIo, MigrationApi } from '../context';
import { CliError } from '../errors';
import { readAtollRecords } from './atoll-records';
import { consistencyProblems } from './consistency';
import { recordsFromKdd } from './from-kdd';
import { CRD_PLURALS, type CrdPlural, type KddApi, type KubeObject } from './kdd-api';
import { KubeApiError } from './kube-http';
import { readKddSource } from './kdd-source';
import { countsText, refuse, summaryJson, listed, type MigrationSummary } from './migration-report';
import { canonicalValue, countByKind, describeRecord, sortedJson, zeroCounts, type MigrationRecord, type RecordKind } from './records';
import { kddObjectOf, nodeAnnotationsOf, type KddTarget, type NodeAnnotations } from './to-kdd';

// atollctl migrate to-calico-kdd: the way back. Atoll's records become Calico's custom
// resources and Node annotations. Missing objects are created; an object that exists
// with the same spec is left alone; one that exists with another spec, or that Atoll does
// not have, is refused before anything is written (stale objects would mislead Calico).
// Then everything is read back, mapped again and compared, and checked by the same rules
// as `ipam check`.

export interface ToKddOptions {
  readonly dryRun: boolean;
  readonly format: 'text' | 'json';
}

export interface ToKddDeps {
  readonly io: CtlIo;
  readonly kdd: KddApi;
  readonly migration: MigrationApi;
}

/** Parallel requests to the API server while writing. */
const WRITE_CONCURRENCY = 8;

const specText = (o: KubeObject) => sortedJson(o.spec ?? {});

interface KddPlan {
  readonly creates: { rec: MigrationRecord; target: KddTarget }[];
  readonly annotations: { rec: MigrationRecord; want: NodeAnnotations; resourceVersion: string }[];
  readonly present: MigrationRecord[];
  readonly differences: string[];
}

function planToKdd(records: readonly MigrationRecord[], current: Record<CrdPlural, readonly KubeObject[]>, nodes: readonly KubeObject[]): KddPlan {
  const existing = new Map<string, KubeObject>();
  for (const p of CRD_PLURALS) for (const o of current[p]) existing.set(`${p}/${o.metadata.name}`, o);
  const wanted = new Set<string>();
  const plan: KddPlan = { creates: [], annotations: [], present: [], differences: [] };
  const nodeByName = new Map(nodes.map((n) => [n.metadata.name, n]));
  for (const rec of records) {
    const target = kddObjectOf(rec);
    if (target) {
      const id = `${target.plural}/${target.object.metadata.name}`;
      wanted.add(id);
      const have = existing.get(id);
      if (!have) plan.creates.push({ rec, target });
      else if (specText(have) === specText(target.object)) plan.present.push(rec);
      else plan.differences.push(`${describeRecord(rec)} exists in Calico's Kubernetes datastore with another spec`);
      continue;
    }
    const want = nodeAnnotationsOf(rec);
    if (!want) continue;
    const node = nodeByName.get(want.node);
    if (!node) {
      plan.differences.push(`Node ${want.node} has tunnel addresses in Atoll but no Kubernetes Node to carry them`);
      continue;
    }
    const have = node.metadata.annotations ?? {};
    const clash = Object.entries(want.annotations).filter(([k, v]) => have[k] !== undefined && have[k] !== v);
    if (clash.length > 0) plan.differences.push(`Node ${want.node}: annotation ${clash[0]![0]} is ${have[clash[0]![0]]} in Kubernetes, ${clash[0]![1]} in Atoll`);
    else if (Object.entries(want.annotations).every(([k, v]) => have[k] === v)) plan.present.push(rec);
    else plan.annotations.push({ rec, want, resourceVersion: node.metadata.resourceVersion ?? '' });
  }
  for (const [id] of existing) {
    if (!wanted.has(id)) plan.differences.push(`${id} exists in Calico's Kubernetes datastore but not in Atoll (delete it or migrate it to Atoll first)`);
  }
  return plan;
}

async function inParallel<T>(items: readonly T[], limit: number, each: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await each(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Create, or accept an object that appeared meanwhile with the same spec (a run whose answer was lost). */
async function createObject(kdd: KddApi, t: KddTarget): Promise<void> {
  try {
    await kdd.create(t.plural, t.object);
  } catch (err) {
    if (!(err instanceof KubeApiError && err.status === 409)) throw err;
    const now = (await kdd.list(t.plural)).find((o) => o.metadata.name === t.object.metadata.name);
    if (!now || specText(now) !== specText(t.object)) throw new CliError(`${t.plural}/${t.object.metadata.name} was created by someone else with another spec`);
  }
}

const WRITE_ORDER: readonly RecordKind[] = ['IPAMHandle', 'IPAMBlock', 'BlockAffinity', 'IPAMConfig', 'IPReservation', 'IPPool'];

export async function migrateToKdd(deps: ToKddDeps, opts: ToKddOptions): Promise<MigrationSummary> {
  const { io } = deps;
  const text = opts.format === 'text';
  const atoll = [...(await readAtollRecords(deps.migration)).values()];
  const sourceProblems = consistencyProblems(atoll);
  if (sourceProblems.length > 0) refuse(`cannot migrate: the Atoll datastore is not consistent (${sourceProblems.length} problem(s)); nothing was written`, sourceProblems);
  // Nodes without tunnel addresses have nothing to carry back.
  const records = atoll.filter((r) => r.kind !== 'Node' || nodeAnnotationsOf(r) !== undefined);
  const sourceCounts = countByKind(records);
  if (text) io.out(`Read from Atoll: ${countsText(sourceCounts)}.\n`);

  const current = await readKddSource(deps.kdd);
  const plan = planToKdd(records, current.objects, current.nodes);
  const toWrite = countByKind([...plan.creates.map((c) => c.rec), ...plan.annotations.map((a) => a.rec)]);
  const summary: MigrationSummary = {
    direction: 'to-calico-kdd',
    dryRun: opts.dryRun,
    source: sourceCounts,
    alreadyPresent: countByKind(plan.present),
    toWrite,
    written: 0,
    skipped: [],
    differences: [...plan.differences, ...plan.creates.map((c) => `${describeRecord(c.rec)} is not in Calico's Kubernetes datastore yet`)],
  };
  if (opts.dryRun) {
    if (text) {
      io.out(`Already in Calico's Kubernetes datastore: ${countsText(summary.alreadyPresent)}.\nWould write: ${countsText(toWrite)}.\n`);
      if (summary.differences.length > 0) io.out(`First differences:\n${listed(summary.differences)}\n`);
      io.out('Dry run: nothing was written.\n');
    } else io.out(summaryJson(summary));
    return summary;
  }
  if (plan.differences.length > 0) refuse(`cannot migrate: ${plan.differences.length} object(s) in Calico's Kubernetes datastore differ from Atoll's; nothing was written`, plan.differences);

  const total = plan.creates.length + plan.annotations.length;
  if (total === 0) {
    if (text) io.out(`Nothing to migrate: Calico's Kubernetes datastore already holds all ${records.length} objects from Atoll.\n`);
  } else {
    if (text) io.out(`Writing ${countsText(toWrite)} to the Kubernetes API…\n`);
    const rank = (k: RecordKind) => WRITE_ORDER.indexOf(k);
    const creates = [...plan.creates].sort((a, b) => rank(a.rec.kind) - rank(b.rec.kind));
    let written = 0;
    const progress = () => {
      written++;
      if (text && (written % 1000 === 0 || written === total)) io.out(`  wrote ${written} of ${total}\n`);
    };
    try {
      await inParallel(creates, WRITE_CONCURRENCY, async (c) => {
        await createObject(deps.kdd, c.target);
        progress();
      });
      for (const a of plan.annotations) {
        await deps.kdd.annotateNode(a.want.node, a.resourceVersion, a.want.annotations);
        progress();
      }
    } catch (err) {
      throw new CliError(`writing to the Kubernetes API stopped: ${(err as Error).message}; what was written is kept and a second run completes the migration`);
    }
  }

  // Read back, map again with the from-kdd mapping, and compare record by record.
  const back = recordsFromKdd(await readKddSource(deps.kdd));
  const backByKey = new Map(back.records.map((r) => [r.key, r]));
  const problems = [...back.problems];
  for (const r of records) {
    const got = backByKey.get(r.key);
    if (!got) problems.push(`${describeRecord(r)} is missing from Calico's Kubernetes datastore`);
    else if (canonicalValue(r.kind, r.value) !== canonicalValue(r.kind, got.value)) problems.push(`${describeRecord(r)} differs in Calico's Kubernetes datastore`);
  }
  problems.push(...consistencyProblems(back.records));
  const readBack = zeroCounts();
  for (const r of records) if (backByKey.has(r.key)) readBack[r.kind]++;
  const done: MigrationSummary = { ...summary, written: total, differences: [], verified: { readBack, problems } };
  if (problems.length > 0) refuse(`verification failed: Calico's Kubernetes datastore does not match Atoll (${problems.length} difference(s))`, problems);
  if (text) io.out(`Verified: Calico's Kubernetes datastore holds ${countsText(readBack)}, as Atoll does; the ipam check rules find no problems.\n`);
  else io.out(summaryJson(done));
  return done;
}
