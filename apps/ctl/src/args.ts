import type { TlsFiles } from '@atoll/api';
import { parseArgs } from 'node:util';
import { UsageError } from './errors';

// Flag parsing for every command with node:util's parseArgs (strict: an unknown flag is a
// usage error naming it). Every command also takes the global flags, anywhere on the line.

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

export const GLOBAL_OPTIONS = {
  allocator: { type: 'string' },
  'allocator-ca-file': { type: 'string' },
  'cert-file': { type: 'string' },
  'key-file': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpecs;

export const DEFAULT_ALLOCATOR = '127.0.0.1:7443';
export const ALLOCATOR_ENV = 'ATOLL_ALLOCATOR';

/** TLS to the allocator: each flag with its environment variable (flags win). */
export const TLS_FLAGS = { ca: ['allocator-ca-file', 'ATOLL_ALLOCATOR_CA_FILE'], cert: ['cert-file', 'ATOLL_CERT_FILE'], key: ['key-file', 'ATOLL_KEY_FILE'] } as const;

export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>;
  readonly positionals: readonly string[];
}

/** The flag a parseArgs error message is about, e.g. "--foo" from "Unknown option '--foo'. …". */
function flagOf(message: string): string {
  const quoted = /'([^']*)'/.exec(message)?.[1] ?? '';
  const names = quoted.match(/--?[A-Za-z0-9][\w-]*/g);
  return names?.[names.length - 1] ?? quoted;
}

function usageErrorFrom(err: unknown, command: string): UsageError {
  const e = err as { code?: string; message?: string };
  const see = `see 'atollctl ${command} --help'`;
  const flag = flagOf(e.message ?? '');
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`unknown flag ${flag} for 'atollctl ${command}'; ${see}`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take an argument/.test(e.message ?? '')) return new UsageError(`flag ${flag} takes no value; ${see}`);
      if (/ambiguous/.test(e.message ?? '')) {
        return new UsageError(`flag ${flag} needs a value (write ${flag}=-VALUE for one starting with '-'); ${see}`);
      }
      return new UsageError(`flag ${flag} needs a value; ${see}`);
    default:
      return new UsageError(`${e.message ?? String(err)}; ${see}`);
  }
}

/** Parses a command's arguments (after its name) with its own flags plus the global ones. */
export function parseCommandArgs(command: string, argv: readonly string[], options: OptionSpecs): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: { ...options, ...GLOBAL_OPTIONS },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as ParsedArgs['values'], positionals };
  } catch (err) {
    throw usageErrorFrom(err, command);
  }
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function booleanFlag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

export function stringsFlag(args: ParsedArgs, name: string): string[] {
  const v = args.values[name];
  if (Array.isArray(v)) return v;
  return typeof v === 'string' ? [v] : [];
}

/** Refuses positional arguments beyond `max` (and fewer than `min`), naming what is wrong. */
export function expectPositionals(command: string, args: ParsedArgs, min: number, max: number, what: string): readonly string[] {
  const p = args.positionals;
  const see = `see 'atollctl ${command} --help'`;
  if (p.length < min) throw new UsageError(`missing ${what} for 'atollctl ${command}'; ${see}`);
  if (p.length > max) {
    throw new UsageError(`unexpected argument ${JSON.stringify(p[max])} for 'atollctl ${command}'; ${see}`);
  }
  return p;
}

/** The allocator address: --allocator, else $ATOLL_ALLOCATOR (an empty one counts as unset), else the default. */
export function allocatorAddress(args: ParsedArgs, env: Readonly<Record<string, string | undefined>>): string {
  const flag = stringFlag(args, 'allocator');
  if (flag !== undefined) {
    if (flag.trim() === '') throw new UsageError('flag --allocator needs a host:port address');
    return flag.trim();
  }
  const fromEnv = env[ALLOCATOR_ENV]?.trim();
  return fromEnv ? fromEnv : DEFAULT_ALLOCATOR;
}

/** One of `allowed` for `-o/--output`, or a usage error listing them. */
export function outputFormat<T extends string>(command: string, args: ParsedArgs, allowed: readonly T[], fallback: T): T {
  const v = stringFlag(args, 'output');
  if (v === undefined) return fallback;
  if ((allowed as readonly string[]).includes(v)) return v as T;
  throw new UsageError(`flag --output must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}; see 'atollctl ${command} --help'`);
}

/** The TLS files for the allocator from --allocator-ca-file/--cert-file/--key-file or their variables; undefined: plaintext. */
export function allocatorTlsFiles(args: ParsedArgs, env: Readonly<Record<string, string | undefined>>): TlsFiles | undefined {
  const files: { ca?: { flag: string; path: string }; cert?: { flag: string; path: string }; key?: { flag: string; path: string } } = {};
  for (const [part, [flag, variable]] of Object.entries(TLS_FLAGS) as [keyof typeof TLS_FLAGS, readonly [string, string]][]) {
    const fromFlag = stringFlag(args, flag);
    if (fromFlag !== undefined && fromFlag.trim() === '') throw new UsageError(`flag --${flag} needs a file path`);
    const fromEnv = env[variable]?.trim();
    const path = fromFlag ?? (fromEnv ? fromEnv : undefined);
    if (path !== undefined) files[part] = { flag: fromFlag !== undefined ? `--${flag}` : `$${variable}`, path };
  }
  return files.ca || files.cert || files.key ? files : undefined;
}
