import fs from 'node:fs';
import path from 'node:path';
import { exposeInNetns, fillCniBinDir, startContainerdNode, type ContainerdNode, type ExposedPort, type LanHost } from '../cri';
import { binPath, canConnect, collectOutput, startProcess, type ManagedProcess } from '../src/processes';

// One Kubernetes node of a RuntimeCluster, set up the way deploy/ sets up a real one: its
// CNI directories filled by `atoll-node-agent --install-cni` with the single-executable
// plugin, the node agent running in the node's network namespace (host network), and a
// containerd whose CRI plugin runs the CNI plugins with no Node.js on its PATH.

export interface RuntimeNodeOptions {
  readonly host: LanHost;
  /** The node's files go to `<workDir>/<name>`. */
  readonly workDir: string;
  /** The allocator the agent dials: a unix socket (reachable from any namespace). */
  readonly allocatorAddress: string;
  /** Loopback port, in the root namespace, of the Kubernetes API stand-in. */
  readonly kubeApiPort: number;
  /** The stand-in's kubeconfig; copied with the server moved to the node's forwarded port. */
  readonly kubeconfigPath: string;
  /** host-gw routing on (default) or off. */
  readonly routing?: 'host-gw' | 'none';
  /** Pods get an IPv6 address too (`--cni-assign-ipv6 true` at install). */
  readonly dualStack?: boolean;
  readonly agentArgs?: readonly string[];
}

export interface RuntimeNode {
  readonly name: string;
  readonly host: LanHost;
  readonly containerd: ContainerdNode;
  /** The node agent now running (a new process after restartAgent). */
  readonly agent: ManagedProcess;
  readonly socket: string;
  readonly cniBinDir: string;
  readonly cniConfDir: string;
  /** Stops the node agent with `signal` (SIGKILL: as a crash) and waits for it to exit. */
  stopAgent(signal: NodeJS.Signals): Promise<void>;
  /** Starts the node agent again, with the same flags, and waits for its socket. */
  startAgent(): Promise<void>;
  stop(): Promise<void>;
}

/** What deploy/base/node-agent.yaml's init container does, with this node's directories. */
async function installCni(binDir: string, confDir: string, socket: string, dualStack: boolean): Promise<void> {
  const p = startProcess(binPath('atoll-node-agent'), ['--install-cni', '--node-name', 'install', '--cni-plugin-path', binPath('atoll-ipam-sea'), '--cni-bin-dir', binDir, '--cni-conf-dir', confDir, '--cni-conf-name', '10-atoll.conflist', '--cni-network-name', 'k8s-pod-network', '--cni-mtu', '1500', '--cni-assign-ipv6', String(dualStack), '--socket', socket, '--log-level', 'warn']);
  const out = await collectOutput(p);
  if (out.code !== 0) throw new Error(`atoll-node-agent --install-cni failed (${out.code}): ${out.stderr}`);
}

async function waitForSocket(agent: ManagedProcess, socket: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (agent.child.exitCode !== null) throw new Error(`atoll-node-agent exited with ${agent.child.exitCode}: ${agent.output()}`);
    if (await canConnect(socket)) return;
    if (Date.now() > deadline) throw new Error(`atoll-node-agent did not open ${socket}: ${agent.output()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function startRuntimeNode(opts: RuntimeNodeOptions): Promise<RuntimeNode> {
  const name = opts.host.name;
  const dir = path.join(opts.workDir, `${name}-files`);
  const cniBinDir = path.join(dir, 'cni/bin');
  const cniConfDir = path.join(dir, 'cni/net.d');
  const socket = path.join(dir, 'run/atoll/agent.sock');
  const exposed: ExposedPort[] = [];
  let agent: ManagedProcess | undefined;
  let containerd: ContainerdNode | undefined;
  // containerd first (stopping its sandboxes runs DELs, which need the agent), then the agent.
  const stop = async () => {
    await containerd?.stop().catch(() => undefined);
    await agent?.stop('SIGTERM').catch(() => undefined);
    await Promise.all(exposed.splice(0).map((e) => e.stop().catch(() => undefined)));
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    // containerd 1.6 takes one bin dir: the system plugins (it always runs loopback), then
    // Atoll's, installed over them exactly as the DaemonSet's init container installs them.
    fillCniBinDir(cniBinDir);
    await installCni(cniBinDir, cniConfDir, socket, opts.dualStack ?? false);

    const kubeApi = await exposeInNetns({ netnsPath: opts.host.netns.path, targetPort: opts.kubeApiPort });
    exposed.push(kubeApi);
    const kubeconfig = path.join(dir, 'kubeconfig');
    fs.writeFileSync(kubeconfig, fs.readFileSync(opts.kubeconfigPath, 'utf8').replace(/http:\/\/127\.0\.0\.1:\d+/g, `http://${kubeApi.address}`));

    const routing = opts.routing ?? 'host-gw';
    const agentArgv = [
      `--net=${opts.host.netns.path}`,
      binPath('atoll-node-agent'),
      '--node-name', name,
      '--allocator', opts.allocatorAddress,
      '--kubeconfig', kubeconfig,
      '--socket', socket,
      '--metrics-listen', '127.0.0.1:9444',
      '--log-level', 'info',
      ...(routing === 'host-gw' ? ['--routing', 'host-gw', '--node-ip', `${opts.host.ipv4}/24,${opts.host.ipv6}/64`] : []),
      ...(opts.agentArgs ?? []),
    ];
    const startAgent = async () => {
      agent = startProcess('nsenter', agentArgv);
      await waitForSocket(agent, socket, 15_000);
    };
    const stopAgent = async (signal: NodeJS.Signals) => {
      await agent?.stop(signal);
    };
    await startAgent();
    containerd = await startContainerdNode({ name, netnsPath: opts.host.netns.path, workDir: opts.workDir, cniBinDir, cniConfDir });
    return {
      name,
      host: opts.host,
      containerd,
      get agent() {
        return agent!;
      },
      socket,
      cniBinDir,
      cniConfDir,
      stopAgent,
      startAgent,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
