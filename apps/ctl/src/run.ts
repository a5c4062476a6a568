import { RpcError, TlsConfigError, type ConnectionDiagnosis, type TlsFiles } from '@atoll/api';
import { allocatorAddress, allocatorTlsFiles, GLOBAL_OPTIONS, parseCommandArgs } from './args';
import { COMMAND_GROUPS, findCommand, TOP_USAGE, type Command } from './commands';
import type { CommandContext, CtlIo, ExplainApi, HealthApi, HistoryApi, IpamApi, MigrationApi, ResourcesApi } from './context';
import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, oneLine, UsageError } from './errors';
import { isUnavailable } from './rpc-errors';

// The whole command line → exit code, with every dependency injected: main.ts passes the
// process's streams and a real gRPC connection, tests pass a fake allocator and buffers.

export interface AllocatorConnection {
  readonly ipam: IpamApi;
  readonly resources: ResourcesApi;
  readonly history: HistoryApi;
  readonly explain: ExplainApi;
  readonly health: HealthApi;
  readonly migration?: MigrationApi;
  close(): void;
  /** Why the transport failed (TLS handshake, plaintext against TLS…), asked once after a failure. */
  diagnose?(): Promise<ConnectionDiagnosis>;
}

export interface RunDeps {
  readonly io: CtlIo;
  /** Writes to stderr: only the one failure line. */
  err(text: string): void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Opens the allocator's clients (over TLS when `tls` is given); called only once a command is about to run. */
  connect(address: string, tls?: TlsFiles): AllocatorConnection;
}

const HEALTH_PROBE_MS = 2000;

type Located = { kind: 'command'; command: Command; rest: string[] } | { kind: 'usage'; text: string };

const GLOBAL_VALUE_FLAGS = Object.entries(GLOBAL_OPTIONS).filter(([, o]) => o.type === 'string').map(([name]) => `--${name}`);

/** Skips global flags (and the values of those that take one) from `i`; returns the index of the next word. */
function skipGlobalFlags(argv: readonly string[], i: number, where: string): { next: number; help: boolean } {
  let help = false;
  while (i < argv.length && argv[i]!.startsWith('-')) {
    const token = argv[i]!;
    if (token === '-h' || token === '--help') help = true;
    else if (GLOBAL_VALUE_FLAGS.includes(token)) i++;
    else if (!(token.includes('=') && GLOBAL_VALUE_FLAGS.includes(token.split('=')[0]!))) {
      throw new UsageError(`unknown flag ${token.split('=')[0]} for 'atollctl${where}'; see 'atollctl${where} --help'`);
    }
    i++;
  }
  return { next: i, help };
}

/** Finds the command the words name; everything else on the line is for its flag parser. */
function locate(argv: readonly string[]): Located {
  const top = skipGlobalFlags(argv, 0, '');
  const word = argv[top.next];
  if (word === undefined) {
    if (top.help) return { kind: 'usage', text: TOP_USAGE };
    throw new UsageError("no command given; see 'atollctl --help'");
  }
  const before = argv.slice(0, top.next);
  const groupUsage = COMMAND_GROUPS[word];
  if (groupUsage === undefined) {
    const command = findCommand(word);
    if (!command) throw new UsageError(`unknown command ${JSON.stringify(word)}; see 'atollctl --help'`);
    return { kind: 'command', command, rest: [...before, ...argv.slice(top.next + 1)] };
  }
  const sub = skipGlobalFlags(argv, top.next + 1, ` ${word}`);
  const subWord = argv[sub.next];
  if (subWord === undefined) {
    if (sub.help || top.help) return { kind: 'usage', text: groupUsage };
    throw new UsageError(`no ${word} command given; see 'atollctl ${word} --help'`);
  }
  const command = findCommand(`${word} ${subWord}`);
  if (!command) throw new UsageError(`unknown command ${JSON.stringify(`${word} ${subWord}`)}; see 'atollctl ${word} --help'`);
  return { kind: 'command', command, rest: [...before, ...argv.slice(top.next + 1, sub.next), ...argv.slice(sub.next + 1)] };
}

async function allocatorAnswers(health: HealthApi): Promise<boolean> {
  try {
    await health.check({ service: '' }, { timeoutMs: HEALTH_PROBE_MS });
    return true;
  } catch {
    return false;
  }
}

/** What a failed connection means, in one line; undefined when the transport is not what failed. */
function transportProblem(d: ConnectionDiagnosis | undefined, address: string, tls: TlsFiles | undefined): string | undefined {
  const ca = tls?.ca?.flag ?? '--allocator-ca-file';
  switch (d?.kind) {
    case 'requires-tls':
      return `the allocator at ${address} closed the connection without answering: it requires TLS; pass --allocator-ca-file, --cert-file and --key-file`;
    case 'not-tls':
      return `the allocator at ${address} does not speak TLS; drop --allocator-ca-file, --cert-file and --key-file`;
    case 'untrusted-server':
      return `cannot verify the allocator at ${address}: ${oneLine(d.detail)}; give the CA that signed its certificate with ${ca}`;
    case 'client-certificate-required':
      return `the allocator at ${address} requires a client certificate; pass --cert-file and --key-file`;
    case 'client-certificate-refused':
      if (!tls?.cert) return `the allocator at ${address} requires a client certificate; pass --cert-file and --key-file`;
      return `the allocator at ${address} refused the client certificate ${JSON.stringify(tls.cert.path)}: it is not signed by a CA the allocator trusts`;
    default:
      return undefined;
  }
}

/** The one line a failure is reported with. */
async function failureLine(err: unknown, address: string, connection: AllocatorConnection | undefined, tls?: TlsFiles): Promise<string> {
  if (err instanceof CliError || err instanceof UsageError) return oneLine(err.message);
  if (isUnavailable(err)) {
    // 'unavailable' is both "no connection" and "the allocator cannot reach etcd": ask it.
    if (connection && (await allocatorAnswers(connection.health))) {
      return `the allocator at ${address} could not complete the request: ${oneLine(err.message)}; try again`;
    }
    // grpc-js reports TLS handshake failures as 'unavailable' with free text: ask the transport.
    const problem = transportProblem(await connection?.diagnose?.().catch(() => undefined), address, tls);
    if (problem) return problem;
    // grpc-js ends its message with an empty "Resolution note:" when DNS played no part.
    return `cannot reach the allocator at ${address}: ${oneLine(err.message).replace(/\s*Resolution note:\s*$/, '')}`;
  }
  if (err instanceof RpcError) return oneLine(err.message);
  return `internal error: ${oneLine(err instanceof Error ? err.message : String(err))}`;
}

export async function runAtollctl(argv: readonly string[], deps: RunDeps): Promise<number> {
  let located: Located;
  let command: Command;
  let parsed;
  try {
    located = locate(argv);
    if (located.kind === 'usage') {
      deps.io.out(located.text);
      return EXIT_OK;
    }
    command = located.command;
    parsed = parseCommandArgs(command.name, located.rest, command.options);
  } catch (err) {
    deps.err(`atollctl: ${await failureLine(err, '', undefined)}\n`);
    return err instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE;
  }
  if (parsed.values['help'] === true) {
    deps.io.out(command.usage);
    return EXIT_OK;
  }

  let address = '';
  let connection: AllocatorConnection | undefined;
  let tls: TlsFiles | undefined;
  try {
    address = allocatorAddress(parsed, deps.env);
    tls = allocatorTlsFiles(parsed, deps.env);
    try {
      connection = deps.connect(address, tls);
    } catch (err) {
      if (err instanceof TlsConfigError) throw new CliError(err.message);
      throw new UsageError(`flag --allocator: cannot use ${JSON.stringify(address)}: ${(err as Error).message}`);
    }
    const ctx: CommandContext = {
      io: deps.io,
      allocator: address,
      ipam: connection.ipam,
      resources: connection.resources,
      history: connection.history,
      explain: connection.explain,
      env: deps.env,
      ...(connection.migration && { migration: connection.migration }),
    };
    await command.run(ctx, parsed);
    return EXIT_OK;
  } catch (err) {
    deps.err(`atollctl: ${await failureLine(err, address, connection, tls)}\n`);
    return err instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE;
  } finally {
    connection?.close();
  }
}
