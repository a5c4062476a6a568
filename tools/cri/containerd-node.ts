import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { runCommand } from '../netns/netns';
import { canConnect } from '../src/processes';
import { containerdPaths, renderContainerdConfig, type ContainerdPaths } from './containerd-config';
import { connectCri, type CriClient } from './cri-client';
import {
  cgroupChildren,
  cniResultFiles,
  isProcessAlive,
  PLAIN_CGROUP,
  processCommandLine,
  processesInCgroup,
  processesMentioningPath,
  removeCgroupTree,
  shimSocketPath,
  terminateProcess,
  unmountUnder,
} from './host-state';
import { importImage, SANDBOX_IMAGE_NAME, writeSandboxImageTar } from './sandbox-image';

// One Kubernetes "node" as far as the CNI plugin can tell: a private containerd with its
// CRI plugin, started inside a network namespace, so the CNI plugins it runs create their
// devices in that namespace and never on the machine.

export const CRI_NAMESPACE = 'k8s.io';
/** Where Debian's containernetworking-plugins live. */
export const SYSTEM_CNI_DIR = '/usr/lib/cni';
/** The directories of a usual root PATH; containerd gets them minus any Node.js binary. */
const STANDARD_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
const NODE_BINARIES = new Set(['node', 'nodejs']);

export interface ContainerdNodeOptions {
  /** Node name: part of the node's directory and cgroup parent. */
  readonly name: string;
  /** The node's network namespace (a bind mount, e.g. /var/run/netns/<name>). */
  readonly netnsPath: string;
  /** The node's files go to `<workDir>/<name>`, which must not exist yet. */
  readonly workDir: string;
  /** containerd 1.6 reads plugins from exactly one directory: see fillCniBinDir. */
  readonly cniBinDir: string;
  readonly cniConfDir: string;
  /**
   * PATH for containerd and so for the CNI plugins; must not contain a `node` binary.
   * Default: a private bin dir, then the usual root PATH with every directory that holds
   * Node.js replaced by a mirror of it without Node.js (see nodeFreePath).
   */
  readonly pathEnv?: string;
  /** One plain segment; default `/<basename of workDir>-<name>` (sweepable when workDir came from createRunWorkDir). */
  readonly cgroupParent?: string;
  readonly sandboxImage?: string;
  /** Wait until the CRI plugin reports NetworkReady (a CNI config is loaded). Default: when cniConfDir holds a config. */
  readonly waitForNetwork?: boolean;
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error';
  readonly startTimeoutMs?: number;
}

export interface NodeStopReport {
  /** Sandbox ids this node had (from the CRI and from its state on disk). */
  readonly sandboxIds: readonly string[];
  /** What could not be done cleanly (a failed StopPodSandbox, a busy mount, …); empty when clean. */
  readonly problems: readonly string[];
}

export interface ContainerdNode {
  readonly name: string;
  readonly socket: string;
  /** A CRI client whose runPodSandbox fills in this node's cgroup parent and log directory. */
  readonly cri: CriClient;
  readonly netnsPath: string;
  readonly cgroupParent: string;
  readonly pid: number;
  readonly dir: string;
  readonly paths: ContainerdPaths;
  /** containerd's log so far. */
  logs(): string;
  /**
   * Stops and removes every sandbox, stops containerd (SIGTERM, then SIGKILL), kills what
   * it left running (runc containers in its runc root, its shims), unmounts its pod network
   * namespaces and rootfs, removes its cgroups, its shim sockets, libcni's cache entries of
   * its sandboxes and its directory. Never throws; calling it again returns the same report.
   */
  stop(): Promise<NodeStopReport>;
}

/** What a sweep after a crash needs to undo a node without its process (written to node.json). */
export interface NodeRecord {
  readonly ownerPid: number;
  readonly name: string;
  readonly dir: string;
  readonly cgroupParent: string;
  containerdPid: number;
}

/** Resolves `name` on this process's PATH. */
function resolveExecutable(name: string): string {
  for (const dir of (process.env['PATH'] ?? '').split(':')) {
    const candidate = path.join(dir || '.', name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      /* next */
    }
  }
  throw new Error(`${name} not found on PATH: install containerd and runc (tools/install-system-deps.sh)`);
}

/** Throws when any PATH directory holds a Node.js binary (a node's plugins must not need one). */
export function assertNoNodeOnPath(pathEnv: string): void {
  for (const dir of pathEnv.split(':').filter(Boolean)) {
    for (const bin of ['node', 'nodejs']) {
      if (fs.existsSync(path.join(dir, bin))) throw new Error(`containerd PATH ${pathEnv} holds ${path.join(dir, bin)}: a node's CNI plugins must run without Node.js`);
    }
  }
}

/**
 * The usual root PATH as a node without Node.js would have it: each standard directory that
 * holds a `node`/`nodejs` binary is replaced by `<mirrorRoot>/<n>`, a directory of symlinks
 * to everything else in it (so `env`, `ip`, `iptables` … stay reachable).
 */
export function nodeFreePath(mirrorRoot: string): string[] {
  const seen = new Set<string>();
  const dirs: string[] = [];
  for (const dir of STANDARD_PATH) {
    if (!fs.existsSync(dir)) continue;
    const real = fs.realpathSync(dir);
    if (seen.has(real)) continue;
    seen.add(real);
    const entries = fs.readdirSync(dir);
    if (!entries.some((e) => NODE_BINARIES.has(e))) {
      dirs.push(dir);
      continue;
    }
    const mirror = path.join(mirrorRoot, String(dirs.length));
    fs.mkdirSync(mirror, { recursive: true });
    for (const e of entries) if (!NODE_BINARIES.has(e)) fs.symlinkSync(path.join(dir, e), path.join(mirror, e));
    dirs.push(mirror);
  }
  return dirs;
}

/**
 * Fills `dir` with symlinks to every plugin in /usr/lib/cni plus `extra` (name → binary, or
 * binary paths linked under their own names). containerd 1.6 takes one bin_dir.
 */
export function fillCniBinDir(dir: string, extra: Readonly<Record<string, string>> | readonly string[] = []): void {
  fs.mkdirSync(dir, { recursive: true });
  const links: [string, string][] = fs.readdirSync(SYSTEM_CNI_DIR).map((f) => [f, path.join(SYSTEM_CNI_DIR, f)]);
  const extras = Array.isArray(extra) ? (extra as readonly string[]).map((p): [string, string] => [path.basename(p), p]) : Object.entries(extra);
  for (const [name, target] of [...links, ...extras]) {
    const link = path.join(dir, name);
    fs.rmSync(link, { force: true });
    fs.symlinkSync(path.resolve(target), link);
  }
}

function hasCniConfig(dir: string): boolean {
  return fs.existsSync(dir) && fs.readdirSync(dir).some((f) => /\.(conflist|conf|json)$/.test(f));
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, failFast: () => string | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  for (;;) {
    const failure = failFast();
    if (failure) throw new Error(`${what}: ${failure}`);
    const value = await probe().catch((err: Error) => {
      lastError = err.message;
      return undefined;
    });
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: no answer within ${timeoutMs} ms${lastError ? ` (last error: ${lastError})` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function startContainerdNode(opts: ContainerdNodeOptions): Promise<ContainerdNode> {
  const containerd = resolveExecutable('containerd');
  const nsenter = resolveExecutable('nsenter');
  const shim = resolveExecutable('containerd-shim-runc-v2');
  const runc = resolveExecutable('runc');
  if (!fs.existsSync(opts.netnsPath)) throw new Error(`network namespace ${opts.netnsPath} does not exist`);
  if (opts.pathEnv) assertNoNodeOnPath(opts.pathEnv);

  const paths = containerdPaths(path.join(opts.workDir, opts.name));
  const cgroupParent = opts.cgroupParent ?? `/${`${path.basename(opts.workDir)}-${opts.name}`.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
  if (!PLAIN_CGROUP.test(cgroupParent)) throw new Error(`cgroupParent ${JSON.stringify(cgroupParent)} must be one plain path segment, like /atoll-node-1`);
  const sandboxImage = opts.sandboxImage ?? SANDBOX_IMAGE_NAME;
  const record: NodeRecord = { ownerPid: process.pid, name: opts.name, dir: paths.dir, cgroupParent, containerdPid: 0 };

  fs.mkdirSync(opts.workDir, { recursive: true });
  fs.mkdirSync(paths.dir); // fails if it exists: a node never reuses another's state
  let pathEnv: string;
  try {
    fs.writeFileSync(paths.record, JSON.stringify(record));
    for (const d of [paths.root, paths.state, paths.temp, paths.opt, paths.runcRoot, paths.logRoot, paths.bin]) fs.mkdirSync(d, { recursive: true });
    fs.symlinkSync(shim, path.join(paths.bin, 'containerd-shim-runc-v2'));
    fs.symlinkSync(runc, path.join(paths.bin, 'runc'));
    pathEnv = opts.pathEnv ?? [paths.bin, ...nodeFreePath(path.join(paths.dir, 'path'))].join(':');
    assertNoNodeOnPath(pathEnv);
    fs.writeFileSync(paths.config, renderContainerdConfig({ paths, sandboxImage, cniBinDir: opts.cniBinDir, cniConfDir: opts.cniConfDir, logLevel: opts.logLevel }));
    writeSandboxImageTar(paths.sandboxImageTar, { name: sandboxImage });
    const lo = await runCommand(nsenter, [`--net=${opts.netnsPath}`, 'ip', 'link', 'set', 'lo', 'up']);
    if (lo.code !== 0) throw new Error(`lo up in ${opts.netnsPath} failed: ${lo.stderr.trim()}`);
  } catch (err) {
    fs.rmSync(paths.dir, { recursive: true, force: true });
    throw err;
  }

  // nsenter --net only (not `ip netns exec`, which remounts /sys privately: runc then finds
  // no cgroup mount). nsenter execs containerd, so the child's PID is containerd's.
  const logFd = fs.openSync(paths.log, 'a');
  const child = spawn(nsenter, [`--net=${opts.netnsPath}`, containerd, '--config', paths.config], { env: { PATH: pathEnv }, stdio: ['ignore', logFd, logFd] });
  fs.closeSync(logFd);
  let exitStatus: string | undefined;
  child.once('exit', (code, signal) => (exitStatus = `containerd exited (${signal ?? code})`));
  child.once('error', (err) => (exitStatus = `containerd did not start: ${err.message}`));
  record.containerdPid = child.pid ?? 0;
  fs.writeFileSync(paths.record, JSON.stringify(record));

  const cri = connectCri(paths.socket, { cgroupParent, logRoot: paths.logRoot });
  const logs = () => (fs.existsSync(paths.log) ? fs.readFileSync(paths.log, 'utf8') : '');
  let stopping: Promise<NodeStopReport> | undefined;
  const node: ContainerdNode = {
    name: opts.name,
    socket: paths.socket,
    cri,
    netnsPath: opts.netnsPath,
    cgroupParent,
    pid: record.containerdPid,
    dir: paths.dir,
    paths,
    logs,
    stop: () => (stopping ??= stopNode(record, cri)),
  };

  try {
    const timeoutMs = opts.startTimeoutMs ?? 30_000;
    const failFast = () => exitStatus;
    // grpc-js backs off for a second after a refused connection: dial only once the socket listens.
    await waitFor('containerd socket', timeoutMs, async () => ((await canConnect(paths.socket)) ? true : undefined), failFast);
    await waitFor('containerd CRI Version', timeoutMs, () => cri.version(), failFast);
    await importImage({ socket: paths.socket, tarPath: paths.sandboxImageTar, namespace: CRI_NAMESPACE });
    await waitFor(`CRI image ${sandboxImage}`, timeoutMs, async () => (await cri.imageId(sandboxImage)) ?? undefined, failFast);
    if (opts.waitForNetwork ?? hasCniConfig(opts.cniConfDir)) {
      await waitFor('CRI NetworkReady', timeoutMs, async () => ((await cri.status()).conditions.some((c) => c.type === 'NetworkReady' && c.status) ? true : undefined), failFast);
    }
  } catch (err) {
    const tail = logs().split('\n').slice(-20).join('\n');
    await node.stop();
    throw new Error(`starting containerd node ${opts.name} failed: ${(err as Error).message}\n--- containerd log (tail) ---\n${tail}`);
  }
  return node;
}

async function stopNode(record: NodeRecord, cri: CriClient): Promise<NodeStopReport> {
  const problems: string[] = [];
  const ids = new Set<string>();
  if (record.containerdPid && isProcessAlive(record.containerdPid)) {
    try {
      for (const sandbox of await cri.listPodSandbox()) {
        ids.add(sandbox.id);
        try {
          await cri.stopPodSandbox(sandbox.id);
          await cri.removePodSandbox(sandbox.id);
        } catch (err) {
          problems.push(`sandbox ${sandbox.id} (${sandbox.namespace}/${sandbox.name}): ${(err as Error).message}`);
        }
      }
    } catch (err) {
      problems.push(`ListPodSandbox: ${(err as Error).message}`);
    }
  }
  cri.close();
  const cleaned = await cleanupNodeState(record, [...ids]);
  return { sandboxIds: cleaned.sandboxIds, problems: [...problems, ...cleaned.problems] };
}

/** Sandbox ids a node's containerd has state for (CRI metadata and v2 task bundles). */
function sandboxIdsOnDisk(paths: ContainerdPaths): string[] {
  const dirs = [
    path.join(paths.root, 'io.containerd.grpc.v1.cri', 'sandboxes'),
    path.join(paths.state, 'io.containerd.grpc.v1.cri', 'sandboxes'),
    path.join(paths.state, 'io.containerd.runtime.v2.task', CRI_NAMESPACE),
  ];
  return dirs.flatMap((d) => (fs.existsSync(d) ? fs.readdirSync(d) : [])).filter(isSandboxId);
}

const isSandboxId = (name: string) => /^[0-9a-f]{64}$/.test(name);

/**
 * Undoes everything a node did, from its record alone (also after its owner crashed, and
 * with its directory half gone): its containerd (only if that PID still runs this node's
 * config), every process still running from its directory (shims), the containers in its
 * runc root, any process left in its cgroups, its mounts, its cgroups, the shim sockets and
 * libcni cache entries of its sandboxes (ids from the CRI, its state and its cgroups), and
 * its directory.
 */
export async function cleanupNodeState(record: NodeRecord, knownIds: readonly string[] = []): Promise<NodeStopReport> {
  const paths = containerdPaths(record.dir);
  const problems: string[] = [];
  const ids = [...new Set([...knownIds, ...sandboxIdsOnDisk(paths)])];

  if (record.containerdPid && processCommandLine(record.containerdPid).includes(paths.config)) await terminateProcess(record.containerdPid);
  // The shim v2 runs runc with --root <Root>/<containerd namespace>.
  for (const ns of fs.existsSync(paths.runcRoot) ? fs.readdirSync(paths.runcRoot) : []) {
    const root = path.join(paths.runcRoot, ns);
    const list = await runCommand('runc', ['--root', root, 'list', '-q']);
    for (const id of list.stdout.split('\n').filter(Boolean)) {
      const del = await runCommand('runc', ['--root', root, 'delete', '--force', id]);
      if (del.code !== 0) problems.push(`runc delete ${id}: ${del.stderr.trim()}`);
    }
  }
  for (const pid of processesMentioningPath(paths.dir)) await terminateProcess(pid, 1000);

  const busy = await unmountUnder(paths.dir);
  problems.push(...busy.map((m) => `still mounted: ${m}`));
  const cgroups = await cleanupCgroupParent(record.cgroupParent);
  problems.push(...cgroups.problems);
  const allIds = [...new Set([...ids, ...cgroups.sandboxIds])];
  for (const file of [...cniResultFiles(allIds), ...allIds.map((id) => shimSocketPath(paths.socket, CRI_NAMESPACE, id))]) fs.rmSync(file, { force: true });
  if (!busy.length) fs.rmSync(paths.dir, { recursive: true, force: true });
  return { sandboxIds: allIds, problems };
}

/**
 * For a node's cgroup parent: kills what still runs in it (SIGTERM, then SIGKILL), removes
 * the cgroups, and removes libcni's cache entries of the sandboxes named by its child cgroups.
 */
export async function cleanupCgroupParent(cgroupParent: string): Promise<NodeStopReport> {
  try {
    const ids = cgroupChildren(cgroupParent).filter(isSandboxId);
    for (const pid of processesInCgroup(cgroupParent)) await terminateProcess(pid, 1000);
    const problems = removeCgroupTree(cgroupParent).map((c) => `cgroup not removed: ${c}`);
    for (const file of cniResultFiles(ids)) fs.rmSync(file, { force: true });
    return { sandboxIds: ids, problems };
  } catch (err) {
    return { sandboxIds: [], problems: [(err as Error).message] };
  }
}
