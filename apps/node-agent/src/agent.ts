import { channelCredentialsFromFiles, coalesceIpamCalls, connectAllocator, startProbeServer } from '@atoll/api';
import type { Logger } from 'pino';
import { CniCode, CniFailure } from './cni/errors';
import { CniHandler } from './cni/handler';
import { readWorkloadPools } from './cni/workload-pools';
import { PodNetwork, systemNetCommands } from './dataplane';
import { NO_KUBERNETES, type PodSource } from './cni/ports';
import type { AgentConfig } from './config';
import { startKubeView, type KubeView } from './kube/kube-client';
import { createAgentMetrics } from './metrics';
import { NodeRecord } from './node-registration';
import { RequestQueue } from './request-queue';
import { startHostGwRouting } from './routing/host-gw-routing';
import { NodeAddressSource } from './routing/node-addresses';
import { startSocketServer } from './socket-server';
import { TunnelAddresses } from './tunnels';

export interface RunningAgent {
  stop(): Promise<void>;
}

/** Retries `fn` with backoff until it succeeds or the agent stops (start-up ordering is not guaranteed). */
async function untilDone(what: string, log: Logger, stopped: () => boolean, fn: () => Promise<void>): Promise<void> {
  for (let delay = 200; !stopped(); delay = Math.min(delay * 2, 10_000)) {
    try {
      await fn();
      return;
    } catch (err) {
      log.warn({ reason: (err as Error).message }, `${what} failed; retrying in ${delay} ms`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

export async function startAgent(config: AgentConfig, log: Logger): Promise<RunningAgent> {
  let stopped = false;
  const tls = config.allocatorTls;
  const credentials = tls
    ? channelCredentialsFromFiles({
        ...(tls.caFile && { ca: { flag: '--allocator-ca-file', path: tls.caFile } }),
        ...(tls.certFile && { cert: { flag: '--tls-cert-file', path: tls.certFile } }),
        ...(tls.keyFile && { key: { flag: '--tls-key-file', path: tls.keyFile } }),
      })
    : undefined;
  const clients = connectAllocator(config.allocator, { ...(credentials && { credentials }) });
  const metrics = createAgentMetrics();
  const kube: KubeView | undefined = config.kubernetes ? await startKubeView({ ...config.kubernetes, nodeName: config.nodeName, log }) : undefined;
  const pods: PodSource = kube?.pods ?? NO_KUBERNETES;
  const nodeRecord = new NodeRecord(clients.resources, config.nodeName);
  const tunnels = new TunnelAddresses(clients, nodeRecord, log);
  // The address other nodes route this node's blocks through, recorded on its Node.
  const nodeAddresses = new NodeAddressSource({ ...(config.nodeIp && { flag: config.nodeIp }), ...(kube && { internalIPs: () => kube.nodeInternalIPs() }), routing: config.routing.mode === 'host-gw', log });

  // Registration and tunnels run in the background: CNI requests are served from the start
  // (an ADD before registration fails with a clear "node not registered" error).
  let syncing: Promise<void> = Promise.resolve();
  const sync = () => {
    syncing = syncing.then(() =>
      untilDone('node registration', log, () => stopped, async () => {
        const labels = kube ? await kube.nodeLabels() : config.labels;
        await nodeRecord.register(labels ?? {}, kube ? 'k8s' : undefined, await nodeAddresses.resolve());
        await tunnels.reconcile();
      }),
    );
    return syncing;
  };
  void sync();
  kube?.onNodeChange(() => void sync());
  const resync = setInterval(() => void sync(), config.tunnelResyncMs);
  // --routing=host-gw: kernel routes to the other nodes' blocks, NAT for natOutgoing pools (routing/).
  const r = config.routing;
  const routing =
    r.mode === 'host-gw'
      ? startHostGwRouting({ nodeName: config.nodeName, protocol: r.protocol, resyncMs: r.resyncMs, openStream: () => clients.watchRoutes(), log: log.child({ component: 'routing' }), registry: metrics.registry })
      : undefined;

  // Pods starting (or stopping) together share round trips to the allocator.
  const allocator = { ...clients.ipam, ...coalesceIpamCalls(clients.ipam) };
  // Pods of the main plugin ("type": "atoll") are wired in this process's network namespace: the node's.
  const netCommands = systemNetCommands();
  const handler = new CniHandler({
    nodeName: config.nodeName,
    allocator,
    pods,
    log,
    podNetwork: new PodNetwork(netCommands),
    staticIps: clients.staticIps,
    staticHandOffGraceMs: config.staticHandOffGraceMs,
    workloadPools: () => readWorkloadPools(clients.resources),
  });
  const queue = new RequestQueue(config.concurrency);
  const socket = await startSocketServer({
    path: config.socket,
    log,
    handle: async (req) => {
      log.debug({ command: req.command, containerId: req.containerId }, 'CNI request received');
      const end = metrics.cniDuration.startTimer({ command: req.command });
      metrics.queueDepth.set(queue.depth);
      try {
        const out = await queue.run(
          config.requestTimeoutMs,
          () => new CniFailure(CniCode.tryAgainLater, `${req.command} did not finish within ${config.requestTimeoutMs / 1000} s`),
          () => handler.handle(req),
        );
        end({ result: 'ok' });
        return out;
      } catch (err) {
        end({ result: String(err instanceof CniFailure ? err.code : CniCode.internal) });
        throw err;
      }
    },
  });

  const [mhost, mport] = [config.metricsListen.slice(0, config.metricsListen.lastIndexOf(':')).replace(/^\[|\]$/g, ''), Number(config.metricsListen.slice(config.metricsListen.lastIndexOf(':') + 1))];
  const probes = await startProbeServer({
    host: mhost,
    port: mport,
    registry: metrics.registry,
    ready: () => clients.ipam.getIpamConfig({}, { timeoutMs: 2000 }).then(() => true, () => false),
  });
  log.info({ node: config.nodeName, socket: config.socket, allocator: config.allocator, allocatorTls: Boolean(tls), kubernetes: Boolean(kube), metrics: `${mhost}:${probes.port}` }, 'node agent serving');

  return {
    async stop() {
      stopped = true;
      clearInterval(resync);
      await routing?.stop();
      await socket.close();
      netCommands.close();
      await probes.close();
      await kube?.stop();
      clients.close();
      log.info('node agent stopped');
    },
  };
}
