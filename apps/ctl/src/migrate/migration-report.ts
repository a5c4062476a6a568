import { stringifyJsonLossless } from '@atoll/model';
import { CliError } from '../errors';
import { RECORD_KINDS, type KindCounts } from './records';

// What a migration prints: counts per kind, the first differences, and the verdict. Text
// for people, `-o json` for scripts; a refusal or a failed verification is an error
// (non-zero exit) whose message lists what was wrong.

/** How many differences a refusal or a dry run lists before "… and N more". */
export const SHOWN_DIFFERENCES = 20;

export function countsText(counts: KindCounts): string {
  return RECORD_KINDS.filter((k) => counts[k] > 0)
    .map((k) => `${counts[k]} ${k}`)
    .join(', ') || 'nothing';
}

export function listed(lines: readonly string[], limit = SHOWN_DIFFERENCES): string {
  const shown = lines.slice(0, limit).map((l) => `  ${l}`);
  if (lines.length > limit) shown.push(`  … and ${lines.length - limit} more`);
  return shown.join('\n');
}

/** A refusal: nothing was written. */
export function refuse(summary: string, lines: readonly string[]): never {
  throw new CliError(`${summary}:\n${listed(lines)}`);
}

export interface MigrationSummary {
  readonly direction: 'from-calico-kdd' | 'to-calico-kdd';
  readonly dryRun: boolean;
  readonly source: KindCounts;
  readonly alreadyPresent: KindCounts;
  readonly toWrite: KindCounts;
  readonly written: number;
  readonly skipped: readonly string[];
  readonly differences: readonly string[];
  readonly verified?: { readonly readBack: KindCounts; readonly problems: readonly string[] };
}

export function summaryJson(s: MigrationSummary): string {
  return `${stringifyJsonLossless({ ...s, differences: s.differences.slice(0, SHOWN_DIFFERENCES) })}\n`;
}
