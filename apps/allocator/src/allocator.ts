import { Server } from '@grpc/grpc-js';
import { ExplainService, HealthService, HealthServiceDefinition, HistoryService, MigrationService, ResourcesService, startProbeServer, StaticIpsService, type IpamServer } from '@atoll/api';
import { HistoryLog, IpamEngine, pruneHistory, ResourceRepository, WatchedResourceView } from '@atoll/ipam';
import { EtcdDatastore } from '@atoll/store';
import type { Logger } from 'pino';
import { authorizeService, engineOwners } from './authz';
import { createHandOffMetrics, staticIpsHandlers } from './static-ips-service';
import { type AllocatorConfig, hostPort } from './config';
import { startLeakCollection } from './gc/gc-runner';
import { explainHandlers } from './explain-service';
import { bindGrpc } from './grpc-listen';
import { historyHandlers } from './history/history-service';
import { AbandonedAssignments } from './abandoned-assignments';
import { ipamHandlers } from './ipam-service';
import { computeIpamMetrics, IpamMetrics } from './ipam-metrics';
import { createMetrics } from './metrics';
import { migrationHandlers } from './migration/migration-service';
import { resourcesHandlers } from './resources-service';
import { createRouteMetrics, ipamServiceWithEncodedRoutes, RouteView, watchRoutesService } from './routes';
import { loadAllocatorSecurity } from './security';

export interface RunningAllocator {
  /** The TCP port gRPC is served on (0 on a unix socket). */
  readonly grpcPort: number;
  readonly metricsPort: number;
  /** Stops accepting calls, lets in-flight ones finish (up to `graceMs`), closes etcd. */
  stop(graceMs?: number): Promise<void>;
}

/** Wires the allocator: etcd store, watch-fed resource cache, engine, gRPC and probe servers. */
export async function startAllocator(config: AllocatorConfig, log: Logger): Promise<RunningAllocator> {
  const security = loadAllocatorSecurity(config, log);
  const datastore = new EtcdDatastore({ endpoints: [...config.etcdEndpoints], ...(config.etcdNamespace && { namespace: config.etcdNamespace }), ...(security.etcdTls && { tls: security.etcdTls }) });
  // Start even while etcd is unreachable: serve `unavailable` and report not-ready until the
  // resource cache has loaded, rather than exit and crash-loop.
  const view = WatchedResourceView.startInBackground(datastore, (err, delayMs) =>
    log.warn({ reason: (err as Error).message, retryInMs: delayMs }, 'cannot read pools from etcd yet'),
  );
  // Allocation history: every allocating transaction also records its events (etcd expires them).
  const history = config.history.retentionSeconds > 0 ? new HistoryLog({ leases: datastore, retentionSeconds: config.history.retentionSeconds }) : undefined;
  const engine = new IpamEngine({ datastore, resources: view, ...(history && { history }) });
  // A resource write returns once this replica's cache shows it, so the client's next
  // request here sees it: the wait is for the watch event of that very write, not a re-read.
  const repo = new ResourceRepository({ datastore, engine, whenWritten: (key, revision) => view.waitForWrite(key, revision) });
  const metrics = createMetrics();
  const health = new HealthService();

  // Channelz (grpc-js's live call statistics, on by default) costs CPU on every call and nothing reads it.
  // Keepalive pings find agents that went away without closing their WatchRoutes stream.
  const server = new Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024, 'grpc.enable_channelz': 0, 'grpc.keepalive_time_ms': 60_000, 'grpc.keepalive_timeout_ms': 20_000 });
  // Authorization wraps both handler tables (authz/policy.ts has the table).
  const authz = { mtls: security.mtls, owners: engineOwners(engine), log, onRefused: (method: string, code: string) => metrics.rpcErrors.inc({ method, code }) };
  // Routes for host-gw: one watch-fed view (read from etcd once the first agent subscribes) for every stream.
  const routeView = new RouteView(datastore, { log: log.child({ component: 'routes' }) });
  const routes = watchRoutesService(routeView, log.child({ component: 'routes' }), createRouteMetrics(metrics.registry));
  const ipamService = ipamServiceWithEncodedRoutes();
  const abandoned = new AbandonedAssignments(engine, log.child({ component: 'abandoned-assignments' }));
  const ipam: IpamServer = { ...ipamHandlers(engine, log, metrics, abandoned), watchRoutes: routes.handler };
  server.addService(ipamService, authorizeService('Ipam', ipamService, ipam, authz));
  server.addService(ResourcesService, authorizeService('Resources', ResourcesService, resourcesHandlers(repo), authz));
  const staticIps = staticIpsHandlers(engine, log, metrics, createHandOffMetrics(metrics));
  server.addService(StaticIpsService, authorizeService('StaticIps', StaticIpsService, staticIps, authz));
  server.addService(HistoryService, authorizeService('History', HistoryService, historyHandlers({ datastore, retentionSeconds: config.history.retentionSeconds }), authz));
  server.addService(ExplainService, authorizeService('Explain', ExplainService, explainHandlers({ datastore, resources: view }), authz));
  // Raw records for `atollctl migrate`: admin only (no node rule names the service).
  server.addService(MigrationService, authorizeService('Migration', MigrationService, migrationHandlers(datastore), authz));
  server.addService(HealthServiceDefinition, health.implementation);
  const listener = await bindGrpc(server, config.listen, security.serverCredentials);
  const grpcPort = listener.port;

  const ready = async () => {
    if (!view.isLoaded) return false;
    try {
      await datastore.get('/calico/ipam/v2/config');
      return true;
    } catch {
      return false;
    }
  };
  const probe = hostPort('metrics-listen', config.metricsListen);
  const probes = await startProbeServer({ host: probe.host, port: probe.port, registry: metrics.registry, ready });
  // Calico's ipam_* gauges, recomputed from the datastore every 30 s.
  const ipamMetrics = new IpamMetrics(metrics.registry);
  const refreshIpamMetrics = async () => {
    try {
      const [util, allocations] = await Promise.all([engine.getUtilization(), engine.listAllocations()]);
      ipamMetrics.update(computeIpamMetrics(util, allocations));
    } catch (err) {
      log.warn({ reason: (err as Error).message }, 'could not refresh IPAM metrics');
    }
  };
  void view.whenLoaded().then(refreshIpamMetrics);
  const metricsTimer = setInterval(() => void refreshIpamMetrics(), 30_000);
  metricsTimer.unref();
  // The leak collector: runs on the one replica that holds its etcd lease (gc/gc-runner.ts).
  const gc = await startLeakCollection({ config: config.gc, datastore, engine, pools: async () => (await view.context()).pools, registry: metrics.registry, log: log.child({ component: 'gc' }), ...(history && { pruneHistory: () => pruneHistory(datastore, config.history.maxRecords) }) });
  health.set('', true);
  health.set('atoll.ipam.v1.Ipam', true);
  log.info({ grpc: listener.shown, mtls: security.mtls, metrics: `${probe.host}:${probes.port}`, etcd: config.etcdEndpoints }, 'allocator serving');

  return {
    grpcPort,
    metricsPort: probes.port,
    async stop(graceMs = 10_000) {
      health.set('', false);
      clearInterval(metricsTimer);
      // Open streams would hold the shutdown for the whole grace period: end them now (clients subscribe again elsewhere).
      routes.endAll();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      listener.cleanup();
      abandoned.stop();
      await routeView.close();
      await gc.stop();
      await probes.close();
      await view.close();
      await datastore.close();
      log.info('allocator stopped');
    },
  };
}
