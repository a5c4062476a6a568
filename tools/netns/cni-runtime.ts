import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

// A tiny CNI runtime, like libcni's exec path: find the plugin in CNI_PATH, build its
// environment, re-serialise the configuration the way libcni does (injected name,
// cniVersion, prevResult and GC attachments; keys sorted, as Go's map encoding does) and
// run it, optionally inside a "host" namespace so that bridges and veths the plugin
// creates stay out of the machine's own network.

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'GC' | 'STATUS' | 'VERSION';

export interface CniAttachment {
  readonly containerID: string;
  readonly ifname: string;
}

export interface RunCniPluginOptions {
  /** CNI_PATH: directories separated by ':', searched in order (e.g. '/usr/lib/cni:/work/main/dist/bin'). */
  readonly pluginDir: string;
  /** The main plugin, e.g. 'bridge'; it finds the IPAM plugin in the same CNI_PATH. */
  readonly plugin: string;
  readonly command: CniCommand;
  /** CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME: set when given (GC, STATUS, VERSION need none). */
  readonly containerId?: string;
  readonly netnsPath?: string;
  readonly ifname?: string;
  /** CNI_ARGS, e.g. 'K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0'. */
  readonly args?: string;
  /** The plugin's configuration object (what a conflist's `plugins[i]` holds). */
  readonly config: Readonly<Record<string, unknown>>;
  /** Injected like libcni does for a conflist entry; default: whatever `config` says. */
  readonly name?: string;
  readonly cniVersion?: string;
  /** The result of the preceding ADD: libcni passes it on CHECK and DEL. */
  readonly prevResult?: unknown;
  /** GC: the attachments to keep (injected as cni.dev/valid-attachments, and the old name). */
  readonly validAttachments?: readonly CniAttachment[];
  /** Run the plugin inside this namespace (`ip netns exec`), not in the test's own. */
  readonly hostNetns?: string;
  /** Extra environment on top of this process's. */
  readonly env?: Readonly<Record<string, string>>;
  /** Kill the plugin after this long (default 60 s). */
  readonly timeoutMs?: number;
}

export interface CniRunResult {
  /** Exit status (CNI: 0 success, 1 error). */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed, when it is JSON. */
  readonly json?: unknown;
}

/** Go's encoding/json writes map keys sorted; libcni's injected config is such a map. */
export function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (value === null || typeof value !== 'object') return value;
  const o = value as Record<string, unknown>;
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, sortKeysDeep(o[k])]));
}

/** The stdin libcni would give the plugin for `opts`. */
export function buildPluginConfig(opts: RunCniPluginOptions): string {
  const conf: Record<string, unknown> = { ...opts.config };
  if (opts.name !== undefined) conf['name'] = opts.name;
  if (opts.cniVersion !== undefined) conf['cniVersion'] = opts.cniVersion;
  if (opts.prevResult !== undefined) conf['prevResult'] = opts.prevResult;
  if (opts.validAttachments !== undefined) {
    // libcni sends both names: an earlier spec text used "cni.dev/attachments" (cni#1101).
    conf['cni.dev/valid-attachments'] = opts.validAttachments;
    conf['cni.dev/attachments'] = opts.validAttachments;
  }
  return JSON.stringify(sortKeysDeep(conf));
}

/** The first executable `name` in a CNI_PATH, as libcni's FindInPath does. */
export function findPlugin(name: string, cniPath: string): string {
  if (name.includes('/')) throw new Error(`plugin type must be a file name, got ${JSON.stringify(name)}`);
  const dirs = cniPath.split(':').filter(Boolean);
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here; keep looking
    }
  }
  throw new Error(`failed to find plugin "${name}" in path [${dirs.join(' ')}]`);
}

function cniEnvironment(opts: RunCniPluginOptions): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('CNI_')) env[k] = v;
  env['CNI_COMMAND'] = opts.command;
  env['CNI_PATH'] = opts.pluginDir;
  if (opts.containerId !== undefined) env['CNI_CONTAINERID'] = opts.containerId;
  if (opts.netnsPath !== undefined) env['CNI_NETNS'] = opts.netnsPath;
  if (opts.ifname !== undefined) env['CNI_IFNAME'] = opts.ifname;
  env['CNI_ARGS'] = opts.args ?? '';
  return { ...env, ...opts.env };
}

/** Executes one CNI command the way a runtime does; resolves whatever the plugin said. */
export function runCniPlugin(opts: RunCniPluginOptions): Promise<CniRunResult> {
  const pluginPath = findPlugin(opts.plugin, opts.pluginDir);
  const [cmd, args] = opts.hostNetns ? ['ip', ['netns', 'exec', opts.hostNetns, pluginPath]] : [pluginPath, []];
  const stdin = buildPluginConfig(opts);
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: cniEnvironment(opts), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.stdin.on('error', () => undefined); // a plugin may exit without reading stdin
    child.stdin.end(stdin);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${opts.plugin} ${opts.command} did not finish within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      let json: unknown;
      try {
        json = stdout.trim() === '' ? undefined : JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr, ...(json !== undefined && { json }) });
    });
  });
}
