import fs from 'node:fs';
import path from 'node:path';

// The hostile-input corpus (apps/e2e/corpus/*.json): one case per entry, each with an
// `input` for its target (the CNI plugin, atollctl, or the allocator's gRPC API) and what
// must come back: `expect: { code, messageContains }`. Inputs too big to check in are
// written as {"$repeat": "text", "count": N, "prefix"?: …, "suffix"?: …, "separator"?: "…"}
// (prefix and suffix may themselves be $repeat objects); "$SOCKET",
// "$POD", "$NAMESPACE" and "$HANDLE" in strings are replaced per case. A case with
// `knownBug` documents a defect: its test is expected to fail until the bug is fixed.

export const CORPUS_DIR = path.resolve(__dirname, '../../corpus');

export interface Expectation {
  /** CNI error code, atollctl exit code, or the allocator's stable error code. */
  readonly code: number | string;
  /** Every one of these must appear in the message (CNI msg, atollctl stderr, gRPC details). */
  readonly messageContains: string | readonly string[];
}

export interface CorpusCase<I> {
  readonly name: string;
  readonly input: I;
  readonly expect: Expectation;
  /** Why this case fails today; the test is marked failing until the bug is fixed. */
  readonly knownBug?: string;
}

export interface CorpusFile<I> {
  readonly description: string;
  readonly target: 'cni' | 'atollctl' | 'grpc';
  readonly cases: readonly CorpusCase<I>[];
}

export function loadCorpus<I>(file: string): CorpusFile<I> {
  const corpus = JSON.parse(fs.readFileSync(path.join(CORPUS_DIR, file), 'utf8')) as CorpusFile<I>;
  const names = new Set<string>();
  for (const c of corpus.cases) {
    if (names.has(c.name)) throw new Error(`${file}: case name ${JSON.stringify(c.name)} appears twice`);
    names.add(c.name);
  }
  return corpus;
}

/** Every case in every corpus file. */
export function corpusSize(): number {
  return fs
    .readdirSync(CORPUS_DIR)
    .filter((f) => f.endsWith('.json'))
    .reduce((n, f) => n + loadCorpus(f).cases.length, 0);
}

interface Repeat {
  readonly $repeat: string;
  readonly count: number;
  readonly prefix?: string | Repeat;
  readonly suffix?: string | Repeat;
  readonly separator?: string;
}

const isRepeat = (v: unknown): v is Repeat => typeof v === 'object' && v !== null && typeof (v as Repeat).$repeat === 'string';

/** Materialises $repeat objects and substitutes the $VARIABLES in every string. */
export function expand(value: unknown, vars: Readonly<Record<string, string>>): unknown {
  if (isRepeat(value)) {
    const body = Array.from({ length: value.count }, () => value.$repeat).join(value.separator ?? '');
    const part = (p: string | Repeat | undefined) => (p === undefined ? '' : (expand(p, vars) as string));
    return expand(`${part(value.prefix)}${body}${part(value.suffix)}`, vars);
  }
  if (typeof value === 'string') return value.replace(/\$(SOCKET|POD|NAMESPACE|HANDLE)\b/g, (m, k: string) => vars[k] ?? m);
  if (Array.isArray(value)) return value.map((v) => expand(v, vars));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [expand(k, vars) as string, expand(v, vars)]));
  return value;
}

export function messagesOf(e: Expectation): readonly string[] {
  return typeof e.messageContains === 'string' ? [e.messageContains] : e.messageContains;
}

/** `it`, or `it.failing` for a case that documents a known bug. */
export function caseTest<I>(c: CorpusCase<I>): jest.It {
  return c.knownBug ? it.failing : it;
}
