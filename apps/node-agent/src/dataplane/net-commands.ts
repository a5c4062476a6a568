import { execFile } from 'node:child_process';
import fs from 'node:fs';

// The only code in the agent that changes the node's or a pod's network: iproute2 in batch
// mode (one process for many changes) and sysctl files. iproute2 is the dependency because
// Node has no netlink; the agent's image ships it, so the host needs nothing.

export class NetCommandError extends Error {
  constructor(
    readonly command: string,
    readonly stderr: string,
  ) {
    super(`${command}: ${stderr.trim() || 'failed'}`);
    this.name = 'NetCommandError';
  }

  /** iproute2's answer when the device a command names does not exist. */
  get noSuchDevice(): boolean {
    return /Cannot find device|No such device/.test(this.stderr);
  }

  get alreadyExists(): boolean {
    return /File exists/.test(this.stderr);
  }
}

/** Where commands run: the agent's own network namespace (the node's), or a pod's. */
export interface NetCommands {
  /** Runs `ip -batch -` with these lines; stops at the first failing line. */
  ipBatch(lines: readonly string[], netnsPath?: string): Promise<void>;
  /** `ip -json …` read-only queries; resolves the parsed answer. */
  ipJson(args: readonly string[], netnsPath?: string): Promise<unknown>;
  /** Writes a file under /proc/sys/net in the node's namespace. */
  writeSysctl(path: string, value: string): Promise<void>;
}

function run(file: string, args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, [...args], { encoding: 'utf8', timeout: 10_000, maxBuffer: 8 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new NetCommandError(`${file} ${args.join(' ')}`, stderr || err.message));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

/**
 * Commands as the agent runs them on a node. `hostNetnsPath` puts the "node" side in
 * another namespace (tests run the agent's dataplane against a namespace they created);
 * a pod's side always runs through `nsenter --net=<path>` (iproute2's own -n only takes
 * names under /var/run/netns, and containerd may keep namespaces elsewhere).
 */
export function systemNetCommands(opts: { ip?: string; nsenter?: string; hostNetnsPath?: string } = {}): NetCommands {
  const ip = opts.ip ?? 'ip';
  const nsenter = opts.nsenter ?? 'nsenter';
  const inNetns = (netnsPath: string | undefined, args: readonly string[]): [string, string[]] => {
    const where = netnsPath ?? opts.hostNetnsPath;
    return where ? [nsenter, [`--net=${where}`, ip, ...args]] : [ip, [...args]];
  };
  return {
    async ipBatch(lines, netnsPath) {
      const [file, args] = inNetns(netnsPath, ['-batch', '-']);
      await run(file, args, `${lines.join('\n')}\n`);
    },
    async ipJson(args, netnsPath) {
      const [file, argv] = inNetns(netnsPath, ['-json', ...args]);
      const out = await run(file, argv);
      return out.trim() === '' ? [] : (JSON.parse(out) as unknown);
    },
    async writeSysctl(path, value) {
      if (!opts.hostNetnsPath) {
        await fs.promises.writeFile(path, value);
        return;
      }
      // /proc/sys/net shows the namespace of the process that opens it.
      await run(nsenter, [`--net=${opts.hostNetnsPath}`, 'sh', '-c', 'printf %s "$2" > "$1"', 'sysctl', path, value]);
    },
  };
}
