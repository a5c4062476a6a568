import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { IpamGcOperations, type IpamEngine, type PoolView } from '@atoll/ipam';
import { campaign, type LeasingDatastore, type Leadership } from '@atoll/store';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { LeakCollector } from './collector';
import { formatDuration } from '@atoll/model';
import type { LeakCollectorConfig } from './gc-config';
import { createGcMetrics } from './gc-metrics';
import type { KubeView } from './kube-view';

/** The election key (under the allocator's etcd namespace): whoever holds it runs the collector. */
export const GC_LEADER_KEY = '/calico/atoll/gc-leader';

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export interface LeakCollectionOptions {
  readonly config: LeakCollectorConfig;
  readonly datastore: LeasingDatastore;
  readonly engine: IpamEngine;
  readonly pools: () => Promise<readonly PoolView[]>;
  readonly registry: Registry;
  readonly log: Logger;
  readonly env?: NodeJS.ProcessEnv;
  /** See LeakCollectorDeps.pruneHistory. */
  readonly pruneHistory?: () => Promise<number>;
}

export interface RunningLeakCollection {
  /** Why the collector is off, or undefined when this replica campaigns to run it. */
  readonly disabled?: string;
  /** Stops collecting and resigns, so another replica takes over at once. */
  stop(): Promise<void>;
}

/** Why there is no collector, or undefined when it can run. */
function disabledReason(config: LeakCollectorConfig, env: NodeJS.ProcessEnv): string | undefined {
  if (config.leakGracePeriodMs === 0) return '--leak-grace-period is 0';
  if (config.kubeconfig) return undefined;
  const inCluster = !!env['KUBERNETES_SERVICE_HOST'] && !!env['KUBERNETES_SERVICE_PORT'] && existsSync(SERVICE_ACCOUNT_TOKEN);
  return inCluster ? undefined : 'no Kubernetes configuration (no --kubeconfig and not running in a cluster)';
}

/**
 * Runs the leak collector on exactly one replica: every replica campaigns for an etcd
 * lease on GC_LEADER_KEY; the winner starts the Kubernetes informers and the collector;
 * a replica that loses the lease stops at once (the collector checks before every
 * release) and campaigns again. `atoll_gc_leader` says which replica collects.
 */
export async function startLeakCollection(opts: LeakCollectionOptions): Promise<RunningLeakCollection> {
  const { config, log } = opts;
  const metrics = createGcMetrics(opts.registry);
  metrics.leader.set(0);
  const disabled = disabledReason(config, opts.env ?? process.env);
  if (disabled) {
    log.info({ reason: disabled }, 'leak collector off');
    return { disabled, stop: async () => undefined };
  }
  // Loaded here, not imported above: the Kubernetes client is an ES module that jest
  // cannot load, and only a collecting allocator needs it. A bad kubeconfig stops start-up.
  const { loadKubeConfig, startKubeInformers } = await import('./kube-informers');
  const kc = loadKubeConfig(config.kubeconfig);
  const operations = new IpamGcOperations({ datastore: opts.datastore });
  const candidateId = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
  const stopping = new AbortController();
  const stopped = new Promise<void>((resolve) => stopping.signal.addEventListener('abort', () => resolve(), { once: true }));
  log.info(
    { candidate: candidateId, gracePeriod: formatDuration(config.leakGracePeriodMs), interval: formatDuration(config.intervalMs), leaseSeconds: config.leaderLeaseSeconds },
    'campaigning to run the leak collector',
  );

  const lead = async (leadership: Leadership): Promise<void> => {
    metrics.leader.set(1);
    log.info({ candidate: candidateId, revision: leadership.revision.toString() }, 'elected: running the leak collector');
    const lost = new Promise<string>((resolve) => leadership.onLost(resolve));
    let kube: KubeView | undefined;
    let collector: LeakCollector | undefined;
    try {
      kube = startKubeInformers(kc, log);
      collector = new LeakCollector(
        { engine: opts.engine, operations, kube, pools: opts.pools, metrics, log, isLeader: () => leadership.isLeader && !stopping.signal.aborted, ...(opts.pruneHistory && { pruneHistory: opts.pruneHistory }) },
        { gracePeriodMs: config.leakGracePeriodMs, intervalMs: config.intervalMs },
      );
      collector.start();
      const reason = await Promise.race([lost, stopped.then(() => undefined)]);
      if (reason !== undefined) log.warn({ reason }, 'lost the leak collector lease; stopped collecting');
    } finally {
      await collector?.stop();
      await kube?.stop();
      metrics.leader.set(0);
      metrics.candidates.reset();
      if (stopping.signal.aborted) await leadership.resign().catch((err: unknown) => log.warn({ err }, 'could not resign the leak collector lease'));
    }
  };

  const loop = (async () => {
    while (!stopping.signal.aborted) {
      let leadership: Leadership;
      try {
        leadership = await campaign(opts.datastore, {
          key: GC_LEADER_KEY,
          candidateId,
          ttlSeconds: config.leaderLeaseSeconds,
          signal: stopping.signal,
          onError: (err) => log.debug({ err }, 'leak collector election: transient failure'),
        });
      } catch (err) {
        if (stopping.signal.aborted) break;
        log.warn({ err }, 'leak collector election failed; retrying');
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      await lead(leadership).catch((err: unknown) => log.error({ err }, 'leak collector stopped on an error'));
    }
  })();

  return {
    async stop() {
      stopping.abort(new Error('the allocator is stopping'));
      await loop;
    },
  };
}
