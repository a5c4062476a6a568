import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';

// Network namespaces for tests and the local quickstart. Every command the harness runs
// is `ip netns …` or runs inside a namespace it created, so a test can set up bridges and
// veths without touching the machine's own network. Needs root (as the CNI plugins do).

export const NETNS_DIR = '/var/run/netns';

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Netns {
  readonly name: string;
  /** The bind mount a CNI runtime passes as CNI_NETNS. */
  readonly path: string;
  /** Runs `cmd args…` inside the namespace (`ip netns exec`); never rejects on exit status. */
  exec(cmd: string, args?: readonly string[]): Promise<ExecResult>;
  /** Deletes the namespace and with it every interface inside; deleting twice is fine. */
  delete(): Promise<void>;
}

/** Namespace names become file names and `ip` arguments: keep them boring. */
const NETNS_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** cleanupNetnsWithPrefix refuses shorter prefixes, so a typo cannot sweep everything. */
const MIN_PREFIX_LENGTH = 3;

/** Runs a command without a shell and resolves its exit status and output. */
export function runCommand(cmd: string, args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, [...args], { encoding: 'utf8', timeout: opts.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : null) : 0;
      if (code === null) reject(new Error(`${cmd} ${args.join(' ')}: ${err!.message}${stderr ? `\n${stderr}` : ''}`));
      else resolve({ code, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

async function ipOrThrow(args: readonly string[]): Promise<string> {
  const r = await runCommand('ip', args);
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** `prefix` plus 8 random hex characters: unique per test, recognisable for cleanup. */
export function uniqueNetnsName(prefix: string): string {
  return `${prefix}${randomBytes(4).toString('hex')}`;
}

function netnsHandle(name: string): Netns {
  return {
    name,
    path: `${NETNS_DIR}/${name}`,
    exec: (cmd, args = []) => runCommand('ip', ['netns', 'exec', name, cmd, ...args]),
    async delete() {
      const r = await runCommand('ip', ['netns', 'delete', name]);
      if (r.code !== 0 && fs.existsSync(`${NETNS_DIR}/${name}`)) throw new Error(`ip netns delete ${name} failed: ${r.stderr.trim()}`);
    },
  };
}

/** Creates the namespace `name` with its loopback up. Fails if it exists already. */
export async function createNetns(name: string): Promise<Netns> {
  if (!NETNS_NAME.test(name)) throw new Error(`invalid network namespace name ${JSON.stringify(name)}`);
  await ipOrThrow(['netns', 'add', name]);
  const ns = netnsHandle(name);
  try {
    await ipOrThrow(['-n', name, 'link', 'set', 'lo', 'up']);
  } catch (err) {
    await ns.delete();
    throw err;
  }
  return ns;
}

/** Names of the namespaces under /var/run/netns that start with `prefix`. */
export function listNetnsWithPrefix(prefix: string): string[] {
  if (!fs.existsSync(NETNS_DIR)) return [];
  return fs.readdirSync(NETNS_DIR).filter((n) => n.startsWith(prefix));
}

/** Deletes leftovers of earlier (crashed) runs; returns what it deleted. */
export async function cleanupNetnsWithPrefix(prefix: string): Promise<string[]> {
  if (prefix.length < MIN_PREFIX_LENGTH || !NETNS_NAME.test(prefix)) {
    throw new Error(`refusing to delete namespaces by the prefix ${JSON.stringify(prefix)}: use at least ${MIN_PREFIX_LENGTH} plain characters`);
  }
  const names = listNetnsWithPrefix(prefix);
  for (const name of names) await netnsHandle(name).delete();
  return names;
}
