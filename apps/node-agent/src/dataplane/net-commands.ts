import fs from 'node:fs';
import { execFileRunner } from '../command-runner';
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

/** Runs `file` (in `netnsPath` through nsenter, if given) and resolves its stdout; a failure is a NetCommandError. */
async function run(file: string, args: readonly string[], opts: { netnsPath?: string; input?: string } = {}): Promise<string> {
  const r = await execFileRunner(opts.netnsPath === undefined ? {} : { netnsPath: opts.netnsPath })(file, args, opts.input);
  if (r.code !== 0) throw new NetCommandError(`${file} ${args.join(' ')}`, r.stderr || `exit status ${r.code}`);
  return r.stdout;
}

/**
 * Commands as the agent runs them on a node. `hostNetnsPath` puts the "node" side in
 * another namespace (tests run the agent's dataplane against a namespace they created);
 * a pod's side always runs through `nsenter --net=<path>` (iproute2's own -n only takes
 * names under /var/run/netns, and containerd may keep namespaces elsewhere).
 */
export function systemNetCommands(opts: { hostNetnsPath?: string } = {}): NetCommands {
  const hostNetns = opts.hostNetnsPath;
  const node = new IpBatchSession(hostNetns ? ['nsenter', `--net=${hostNetns}`, 'ip'] : ['ip']);
  const where = (netnsPath: string | undefined) => {
    const path = netnsPath ?? hostNetns;
    return path === undefined ? {} : { netnsPath: path };
  };
  return {
    async ipBatch(lines, netnsPath) {
      if (netnsPath === undefined) return node.run(lines);
      await run('ip', ['-batch', '-'], { ...where(netnsPath), input: `${lines.join('\n')}\n` });
    },
    async ipJson(args, netnsPath) {
      const out = await run('ip', ['-json', ...args], where(netnsPath));
      return out.trim() === '' ? [] : (JSON.parse(out) as unknown);
    },
    async writeSysctl(path, value) {
      if (hostNetns === undefined) {
        await fs.promises.writeFile(path, value);
        return;
      }
      // /proc/sys/net shows the namespace of the process that opens it.
      await run('sh', ['-c', 'printf %s "$2" > "$1"', 'sysctl', path, value], { netnsPath: hostNetns });
    },
    close: () => node.close(),
  };
}
