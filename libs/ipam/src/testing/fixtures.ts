import { IPPoolSpec, resourceKey } from '@atoll/model';
import { Datastore, MemoryDatastore } from '@atoll/store';
import { makeEtcdTestStore } from '@atoll/store/testing';
import { IpamEngine, IpamEngineOptions } from '../engine';

// Test set-up shared by the engine's scenario tests: every scenario runs against the
// in-memory store and against the real etcd the test run started.

export interface StoreUnderTest {
  readonly store: Datastore;
  cleanup(): Promise<void>;
}

export const STORE_KINDS: readonly [string, () => Promise<StoreUnderTest>][] = [
  ['memory', async () => ({ store: new MemoryDatastore(), cleanup: async () => undefined })],
  ['etcd', async () => makeEtcdTestStore()],
];

async function put(ds: Datastore, key: string, value: unknown): Promise<void> {
  await ds.commit({ preconditions: [], mutations: [{ op: 'put', key, value: JSON.stringify(value) }] });
}

export async function putPool(ds: Datastore, name: string, spec: Partial<IPPoolSpec> & { cidr: string }): Promise<void> {
  await put(ds, resourceKey('ippools', name), {
    apiVersion: 'projectcalico.org/v3',
    kind: 'IPPool',
    metadata: { name },
    spec,
  });
}

export async function deletePool(ds: Datastore, name: string): Promise<void> {
  await ds.commit({ preconditions: [], mutations: [{ op: 'delete', key: resourceKey('ippools', name) }] });
}

export async function putNode(ds: Datastore, name: string, labels: Record<string, string> = {}): Promise<void> {
  await put(ds, resourceKey('nodes', name), { apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name, labels }, spec: {} });
}

export async function putReservation(ds: Datastore, name: string, reservedCIDRs: string[]): Promise<void> {
  await put(ds, resourceKey('ipreservations', name), {
    apiVersion: 'projectcalico.org/v3',
    kind: 'IPReservation',
    metadata: { name },
    spec: { reservedCIDRs },
  });
}

export interface EngineEnv {
  readonly ds: Datastore;
  readonly engine: IpamEngine;
  /** Another engine on the same datastore, as a second allocator replica would be. */
  newEngine(opts?: Partial<IpamEngineOptions>): IpamEngine;
}

/**
 * `describe`s the body once per store kind, with a fresh store and engine for every test.
 */
export function describeWithStores(title: string, body: (env: () => EngineEnv) => void): void {
  describe.each(STORE_KINDS)(`${title} (%s store)`, (_kind, make) => {
    let current: { env: EngineEnv; cleanup: () => Promise<void> } | undefined;
    beforeEach(async () => {
      const { store, cleanup } = await make();
      const newEngine = (opts: Partial<IpamEngineOptions> = {}) => new IpamEngine({ datastore: store, ...opts });
      current = { env: { ds: store, engine: newEngine(), newEngine }, cleanup };
    });
    afterEach(async () => {
      await current?.cleanup();
      current = undefined;
    });
    body(() => {
      if (!current) throw new Error('engine environment used outside a test');
      return current.env;
    });
  });
}

export const WORKLOAD = { intendedUse: 'Workload' as const, attributes: {} };
