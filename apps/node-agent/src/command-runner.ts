import { execFile } from 'node:child_process';

// How the agent runs iproute2 and iptables (routing and the pod dataplane): execFile, never a shell. An exit status is data
// for the caller (ip -batch reports failed lines on stderr); only a command that could not
// be started (not installed) or did not finish in time rejects. Tests point a runner at a namespace they made.

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export type CommandRunner = (file: string, args: readonly string[], input?: string) => Promise<CommandResult>;

/** A command that ran and answered with a failure the caller cannot take as data. */
export class CommandFailedError extends Error {
  constructor(
    readonly command: string,
    readonly stderr: string,
  ) {
    super(`${command} failed: ${stderr.trim() || 'no message'}`);
    this.name = 'CommandFailedError';
  }
}

/** A command that could not be started, or was killed at its time limit. */
export class CommandError extends Error {
  constructor(
    readonly command: string,
    cause: Error,
  ) {
    super(`${command}: ${cause.message}`, { cause });
    this.name = 'CommandError';
  }
}

const TIMEOUT_MS = 30_000;
/** A routing table of tens of thousands of routes, as JSON. */
const MAX_OUTPUT_BYTES = 256 * 1024 * 1024;

/** Runs commands in this process's network namespace, or inside `netnsPath` through nsenter. */
export function execFileRunner(opts: { netnsPath?: string } = {}): CommandRunner {
  return (file, args, input) => {
    const [cmd, argv] = opts.netnsPath ? ['nsenter', [`--net=${opts.netnsPath}`, file, ...args]] : [file, [...args]];
    return new Promise((resolve, reject) => {
      const child = execFile(cmd, argv, { encoding: 'utf8', timeout: TIMEOUT_MS, maxBuffer: MAX_OUTPUT_BYTES }, (err, stdout, stderr) => {
        const code = (err as { code?: unknown } | null)?.code;
        if (err && typeof code !== 'number') reject(new CommandError(`${cmd} ${argv.join(' ')}`, err));
        else resolve({ code: typeof code === 'number' ? code : 0, stdout, stderr });
      });
      child.stdin?.on('error', () => undefined); // a command that exits before reading its input
      child.stdin?.end(input ?? '');
    });
  };
}
