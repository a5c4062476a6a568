import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { IpBatchSession } from './ip-batch-session';
import { NetCommandError } from './net-commands-error';

export { NetCommandError };

// The only code in the agent that changes the node's or a pod's network: iproute2 in batch
// mode and sysctl files. iproute2 is the dependency because Node has no netlink; the agent's
// image ships it, so the host needs nothing. The node side goes through one long-lived
// iproute2 process; a pod's side needs one short-lived process per batch (nsenter).

/** Where commands run: the agent's own network namespace (the node's), or a pod's. */
export interface NetCommands {
  /**
   * Runs iproute2 batch lines, in the node's namespace or in `netnsPath`; rejects when any
   * line fails (in a pod's namespace the lines after a failing one do not run; in the
   * node's they still do).
   */
  ipBatch(lines: readonly string[], netnsPath?: string): Promise<void>;
  /** `ip -json …` read-only queries; resolves the parsed answer. */
  ipJson(args: readonly string[], netnsPath?: string): Promise<unknown>;
  /** Writes a file under /proc/sys/net in the node's namespace. */
  writeSysctl(path: string, value: string): Promise<void>;
  /** Stops the long-lived process. */
  close(): void;
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
  const node = new IpBatchSession(opts.hostNetnsPath ? [nsenter, `--net=${opts.hostNetnsPath}`, ip] : [ip]);
  return {
    async ipBatch(lines, netnsPath) {
      if (netnsPath === undefined) return node.run(lines);
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
    close: () => node.close(),
  };
}
