import { gatherFindings, type CheckApi } from '../commands/ipam-check';
import type { CtlIo, MigrationApi } from '../context';
import { CliError } from '../errors';
import { readAtollRecords, writeAtollRecords } from './atoll-records';
import { consistencyProblems } from './consistency';
import { recordsFromKdd } from './from-kdd';
import type { KddApi } from './kdd-api';
import { readKddSource } from './kdd-source';
import { countsText, listed, refuse, summaryJson, type MigrationSummary } from './migration-report';
import { planToAtoll } from './plan-to-atoll';
import { canonicalValue, countByKind, describeRecord, nodeTunnels, type MigrationRecord } from './records';

// atollctl migrate from-calico-kdd: read Calico's Kubernetes datastore, refuse anything
// that cannot be mapped or would collide, write the rest through the allocator (CAS per
// batch), then read everything back and run the consistency check. Every step before the
// writes only reads, so a refusal leaves both sides as they were; a run cut short leaves
// a subset of the source in Atoll, which the next run completes.

export interface FromKddOptions {
  readonly dryRun: boolean;
  readonly merge: boolean;
  readonly format: 'text' | 'json';
}

export interface FromKddDeps {
  readonly io: CtlIo;
  readonly kdd: KddApi;
  readonly migration: MigrationApi;
  readonly check: CheckApi;
}

/** The allocator's resource cache follows etcd by watch: give the check a moment to see new pools. */
const CHECK_SETTLE_MS = 5000;

async function checkProblems(api: CheckApi): Promise<string[]> {
  const deadline = Date.now() + CHECK_SETTLE_MS;
  for (;;) {
    const f = await gatherFindings(api);
    const c = f.check;
    const problems = [
      ...c.invalidBlocks.map((b) => `block ${b.block}: ${b.problems.join('; ')}`),
      ...c.handlesWithoutAddresses.map((h) => `handle ${h} has no address`),
      ...c.addressesWithoutHandle.map((a) => `address ${a.address} has handle ${a.handleId}, which does not exist`),
      ...c.miscountedHandles.map((m) => `handle ${m.handleId} counts ${m.recorded} in ${m.block}, the block holds ${m.actual}`),
      ...c.blocksOutsidePools.map((b) => `block ${b} lies in no pool`),
      ...c.affinityProblems.map((a) => `${a.key}: ${a.problem}`),
      ...f.notInActivePools.map((p) => `${p.ip} used by ${p.owner} is in no active pool`),
      ...f.withoutAllocation.map((p) => `${p.ip} used by ${p.owner} has no allocation`),
    ];
    if (problems.length === 0 || Date.now() > deadline) return problems;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Source records missing from, or different in, what was read back. */
function readBackDifferences(source: readonly MigrationRecord[], readBack: ReadonlyMap<string, MigrationRecord>): string[] {
  const out: string[] = [];
  for (const r of source) {
    const got = readBack.get(r.key);
    if (!got) out.push(`${describeRecord(r)} is missing from Atoll`);
    else if (r.kind === 'Node') {
      const want = nodeTunnels(r.value);
      const have = nodeTunnels(got.value);
      if (Object.entries(want).some(([k, v]) => have[k as keyof typeof have] !== v)) out.push(`${describeRecord(r)}: tunnel addresses differ in Atoll`);
    } else if (canonicalValue(r.kind, r.value) !== canonicalValue(r.kind, got.value)) out.push(`${describeRecord(r)} differs in Atoll`);
  }
  return out;
}

export async function migrateFromKdd(deps: FromKddDeps, opts: FromKddOptions): Promise<MigrationSummary> {
  const { io } = deps;
  const text = opts.format === 'text';
  const source = await readKddSource(deps.kdd);
  const conversion = recordsFromKdd(source);
  if (conversion.problems.length > 0) refuse(`cannot migrate: ${conversion.problems.length} object(s) in Calico's Kubernetes datastore cannot be mapped; nothing was written`, conversion.problems);
  const records = conversion.records;
  const sourceProblems = consistencyProblems(records);
  if (sourceProblems.length > 0) refuse(`cannot migrate: Calico's Kubernetes datastore is not consistent (${sourceProblems.length} problem(s)); nothing was written`, sourceProblems);
  const sourceCounts = countByKind(records);
  if (text) io.out(`Read from Calico's Kubernetes datastore: ${countsText(sourceCounts)}.\n`);
  if (text && conversion.skipped.length > 0) io.out(`Not migrated (Calico marked them deleted):\n${listed(conversion.skipped)}\n`);

  const atoll = await readAtollRecords(deps.migration);
  const plan = planToAtoll(records, atoll);
  const differences = [...plan.conflicts, ...(opts.merge ? [] : plan.onlyInAtoll)];
  const toWrite = countByKind(plan.writes);
  const summary: MigrationSummary = { direction: 'from-calico-kdd', dryRun: opts.dryRun, source: sourceCounts, alreadyPresent: plan.alreadyPresent, toWrite, written: 0, skipped: conversion.skipped, differences: [...differences, ...plan.writes.map((w) => `${describeRecord(w)} is not in Atoll yet`)] };

  if (opts.dryRun) {
    if (text) {
      io.out(`Already in Atoll: ${countsText(plan.alreadyPresent)}.\nWould write: ${countsText(toWrite)}.\n`);
      if (summary.differences.length > 0) io.out(`First differences:\n${listed(summary.differences)}\n`);
      io.out('Dry run: nothing was written.\n');
    } else io.out(summaryJson(summary));
    return summary;
  }
  if (plan.conflicts.length > 0) {
    refuse(`cannot migrate: ${plan.conflicts.length} object(s) conflict with what the Atoll datastore holds${opts.merge ? '' : ' (--merge does not override conflicts)'}; nothing was written`, plan.conflicts);
  }
  if (!opts.merge && plan.onlyInAtoll.length > 0) {
    refuse(`cannot migrate: the Atoll datastore is not empty and differs from Calico's (${plan.onlyInAtoll.length} object(s) exist only in Atoll); give --merge to keep them and add Calico's; nothing was written`, plan.onlyInAtoll);
  }
  if (opts.merge) {
    // The union must itself be consistent: another node's handle counts, pools, affinities.
    const union = new Map<string, MigrationRecord>(atoll);
    for (const w of plan.writes) union.set(w.key, w);
    const mergedProblems = consistencyProblems([...union.values()]);
    if (mergedProblems.length > 0) refuse(`cannot merge: Calico's objects and Atoll's together would not be consistent; nothing was written`, mergedProblems);
  }

  if (plan.writes.length === 0) {
    if (text) io.out(`Nothing to migrate: the Atoll datastore already holds all ${records.length} objects from Calico's Kubernetes datastore.\n`);
  } else {
    if (text) io.out(`Writing ${countsText(toWrite)} (${plan.writes.length} records) through the allocator…\n`);
    try {
      await writeAtollRecords(deps.migration, plan.writes, (n) => {
        if (text) io.out(`  wrote ${n} of ${plan.writes.length}\n`);
      });
    } catch (err) {
      throw new CliError(`writing to Atoll stopped: ${(err as Error).message}; what was written is kept and a second run completes the migration`);
    }
  }

  const readBack = await readAtollRecords(deps.migration);
  const missing = readBackDifferences(records, readBack);
  const problems = [...missing, ...(await checkProblems(deps.check))];
  const readBackCounts = countByKind(records.filter((r) => readBack.has(r.key)));
  const done: MigrationSummary = { ...summary, written: plan.writes.length, differences: differences, verified: { readBack: readBackCounts, problems } };
  if (problems.length > 0) refuse(`verification failed: the Atoll datastore does not match Calico's Kubernetes datastore (${problems.length} difference(s))`, problems);
  if (text) io.out(`Verified: Atoll holds ${countsText(readBackCounts)}, as Calico's Kubernetes datastore does; ipam check found no problems.\n`);
  else io.out(summaryJson(done));
  return done;
}
