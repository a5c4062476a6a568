import type { AllocatorClients } from '@atoll/api';

// What a command is given: the allocator's clients and where its output goes. Commands
// never touch process.*, so they run in unit tests against a fake allocator and in-memory
// sinks exactly as they run in the binary.

// PromiseClient<…> also lists the grpc-js Client's own methods (close, getChannel) and the
// streaming health `watch`, which the promise clients do not actually carry; only the
// unary calls are part of what a command may use.
type UnaryCalls<C> = Omit<C, 'close' | 'getChannel' | 'watch'>;

export type IpamApi = UnaryCalls<AllocatorClients['ipam']>;
export type ResourcesApi = UnaryCalls<AllocatorClients['resources']>;
export type HealthApi = UnaryCalls<AllocatorClients['health']>;
export type HistoryApi = UnaryCalls<AllocatorClients['history']>;
export type ExplainApi = UnaryCalls<AllocatorClients['explain']>;
export type MigrationApi = UnaryCalls<AllocatorClients['migration']>;

export interface CtlIo {
  /** Writes command output (stdout). Errors are not written here: commands throw them. */
  out(text: string): void;
  /** The text of a file, or of stdin for "-". */
  readInput(path: string): Promise<string>;
  /** Creates or replaces a file (ipam check's report). */
  writeFile(path: string, text: string): Promise<void>;
  /** Resolves with the signal's name on SIGINT or SIGTERM (ipam ui serves until then). */
  untilStopped?(): Promise<string>;
  /** Asks the desktop to open a URL (xdg-open); resolves false when it cannot, never rejects. */
  openUrl?(url: string): Promise<boolean>;
}

export interface CommandContext {
  readonly io: CtlIo;
  /** The allocator's address, for messages. */
  readonly allocator: string;
  readonly ipam: IpamApi;
  readonly resources: ResourcesApi;
  readonly history: HistoryApi;
  readonly explain: ExplainApi;
  /** The process environment (KUBECONFIG, HOME), for commands that read a kubeconfig. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Raw records for `migrate` (absent in tests that fake only the other services). */
  readonly migration?: MigrationApi;
}
