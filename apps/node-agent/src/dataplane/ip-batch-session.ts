import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { NetCommandError } from './net-commands-error';

// One long-lived `ip -o -force -batch -` for the node's own namespace, so that wiring a pod
// forks no process on the node side (each fork of the agent costs milliseconds on every
// ADD and DEL). iproute2 flushes its output after every line, numbers the lines it reads,
// and reports a failing one as "Command failed -:N" after the error text; with stderr
// merged into stdout (in that order, as written) a request is done when the output of its
// sentinel line appears, and failed if an error names one of its lines.

const SENTINEL = 'link show dev lo';
/** `ip -o link show dev lo`: the loopback device is index 1 in every namespace. */
const SENTINEL_OUTPUT = /^1: lo: /;
const FAILED_LINE = /^Command failed -:(\d+)$/;

interface Pending {
  readonly first: number;
  readonly last: number;
  readonly lines: readonly string[];
  readonly errors: string[];
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class IpBatchSession {
  private child: ChildProcessWithoutNullStreams | undefined;
  private nextLine = 1;
  private partial = '';
  private unclaimed: string[] = [];
  private readonly pending: Pending[] = [];

  /** `argv` runs iproute2 (e.g. ['ip'] or ['nsenter', '--net=…', 'ip']); batch flags are added. */
  constructor(
    private readonly argv: readonly string[],
    private readonly timeoutMs = 10_000,
  ) {}

  /** Runs `lines` in order; rejects with the error text of every failing line (the others still ran). */
  run(lines: readonly string[]): Promise<void> {
    for (const l of lines) if (/[\r\n]/.test(l)) return Promise.reject(new Error(`refusing an iproute2 command with a line break: ${JSON.stringify(l)}`));
    const child = this.started();
    const first = this.nextLine;
    const last = first + lines.length; // the sentinel
    this.nextLine = last + 1;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error(`ip -batch did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      this.pending.push({ first, last, lines, errors: [], resolve, reject, timer });
      child.stdin.write(`${[...lines, SENTINEL].join('\n')}\n`);
    });
  }

  /** Ends the process; pending requests fail. */
  close(): void {
    this.fail(new Error('ip -batch session closed'));
  }

  private started(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    const [file, ...args] = this.argv;
    // sh only to merge stderr into stdout, keeping the order iproute2 wrote them in.
    const child = spawn('sh', ['-c', 'exec "$@" -o -force -batch - 2>&1', 'sh', file!, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.onOutput(chunk));
    child.stdin.on('error', () => undefined); // reported by 'exit'
    child.once('exit', (code, signal) => {
      if (this.child === child) this.fail(new Error(`ip -batch exited (${signal ?? code})${this.unclaimed.length ? `: ${this.unclaimed.join(' ')}` : ''}`));
    });
    child.once('error', (err) => {
      if (this.child === child) this.fail(err);
    });
    this.child = child;
    this.nextLine = 1;
    this.partial = '';
    this.unclaimed = [];
    return child;
  }

  private onOutput(chunk: string): void {
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const failed = FAILED_LINE.exec(line);
      if (failed) {
        const n = Number(failed[1]);
        const owner = this.pending.find((p) => n >= p.first && n <= p.last);
        owner?.errors.push(`${owner.lines[n - owner.first] ?? SENTINEL}: ${this.unclaimed.join(' ') || 'failed'}`);
        this.unclaimed = [];
      } else if (SENTINEL_OUTPUT.test(line)) {
        const done = this.pending.shift();
        if (!done) continue;
        clearTimeout(done.timer);
        if (done.errors.length > 0) done.reject(new NetCommandError('ip -batch', done.errors.join('; ')));
        else done.resolve();
      } else if (line.trim() !== '') {
        this.unclaimed.push(line.trim());
      }
    }
  }

  private fail(err: Error): void {
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null) child.kill('SIGKILL');
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(err);
    }
  }
}
