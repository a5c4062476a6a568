import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRunPrefix } from './run-scope';
import { terminateProcess } from './host-state';

// Makes a root-namespace loopback service (etcd, the allocator, the Kubernetes API
// stand-in) reachable as 127.0.0.1:<port> inside a network namespace, for a node agent
// running there: a unix-socket server in this process dials the service; a forwarder
// process inside the namespace listens on loopback and dials that unix socket.

export interface ExposedPort {
  /** `127.0.0.1:<port>`, valid inside the namespace. */
  readonly address: string;
  readonly port: number;
  /** PID of the forwarder inside the namespace. */
  readonly pid: number;
  /** Stops the forwarder (by PID), closes the socket server and its connections, removes its directory. */
  stop(): Promise<void>;
}

const FORWARDER = 'netns-forwarder.js';

/** The forwarder beside this file, or in the repository when this code runs bundled elsewhere. */
function forwarderScript(): string {
  const candidates = [path.join(__dirname, FORWARDER), ...(process.env['ATOLL_REPO_ROOT'] ? [path.join(process.env['ATOLL_REPO_ROOT'], 'tools/cri', FORWARDER)] : [])];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`${FORWARDER} not found (looked in ${candidates.join(', ')})`);
  return found;
}

export async function exposeInNetns(opts: {
  netnsPath: string;
  targetPort: number;
  /** Default 127.0.0.1. */
  targetHost?: string;
  /** Port inside the namespace; default: any free one. */
  listenPort?: number;
  /** Parent of the socket's directory; default the system temp dir. */
  tmpRoot?: string;
  startTimeoutMs?: number;
}): Promise<ExposedPort> {
  if (!fs.existsSync(opts.netnsPath)) throw new Error(`network namespace ${opts.netnsPath} does not exist`);
  const dir = fs.mkdtempSync(path.join(opts.tmpRoot ?? os.tmpdir(), `${createRunPrefix()}expose-`));
  const socketPath = path.join(dir, 'forward.sock');
  const connections = new Set<net.Socket>();
  const server = net.createServer((inbound) => {
    const outbound = net.connect(opts.targetPort, opts.targetHost ?? '127.0.0.1');
    connections.add(inbound).add(outbound);
    const close = () => {
      inbound.destroy();
      outbound.destroy();
      connections.delete(inbound);
      connections.delete(outbound);
    };
    inbound.on('error', close).on('close', close);
    outbound.on('error', close).on('close', close);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(socketPath, resolve));

  const env = { ...process.env };
  delete env['NODE_EXTRA_CA_CERTS']; // adds ~70 ms to every Node start and is not needed here
  delete env['NODE_OPTIONS'];
  const child = spawn('nsenter', [`--net=${opts.netnsPath}`, process.execPath, forwarderScript(), String(opts.listenPort ?? 0), socketPath], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const closeServer = async () => {
    for (const c of connections) c.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const stop = async () => {
    child.stdin!.destroy();
    const running = () => child.exitCode === null && child.signalCode === null;
    if (child.pid && running()) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await terminateProcess(child.pid, 2000);
      // terminateProcess returns once the forwarder is dead, possibly still a zombie: its
      // PID is only gone once Node has reaped it, which 'exit' reports.
      if (running()) await exited;
    }
    await closeServer();
  };

  try {
    const port = await new Promise<number>((resolve, reject) => {
      let stdout = '';
      const timer = setTimeout(() => reject(new Error(`forwarder did not start within ${opts.startTimeoutMs ?? 10_000} ms: ${output}`)), opts.startTimeoutMs ?? 10_000);
      child.stdout!.on('data', (d: Buffer) => {
        stdout += d.toString();
        const m = /LISTENING (\d+)/.exec(stdout);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`forwarder exited (${code}): ${output.trim()}`));
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    let stopping: Promise<void> | undefined;
    return { address: `127.0.0.1:${port}`, port, pid: child.pid!, stop: () => (stopping ??= stop()) };
  } catch (err) {
    await stop();
    throw err;
  }
}
