import { randomUUID } from 'node:crypto';
import {
  applyDefaults,
  ipamConfigKey,
  IPPool,
  IPAM_CONFIGURATION_NAME,
  isResourceKind,
  Resource,
  ResourceKind,
  validateResource,
  ValidationError,
} from '@atoll/model';
import { Datastore, StoreConflictError } from '@atoll/store';
import { commitChanges, io } from '../io';
import type { Ipam } from '../ipam';
import { DEFAULT_RETRY_POLICY, retryOnConflict, RetryPolicy } from '../retry';
import { IpamConfigurationResources } from './ipam-configuration';
import { checkPoolCreate, checkPoolUpdate } from './ippool-rules';
import { alreadyExists, invalidResource, notFound, unknownKind, updateConflict } from './resource-errors';
import {
  checkResourceName,
  listStoredResources,
  readStoredResource,
  requestedRevision,
  ResourceIdentity,
  rfc3339Seconds,
  storedForm,
  StoredResource,
  storedResourceKey,
  withoutNulls,
  withResourceVersion,
} from './resource-records';

export interface ResourceRepositoryOptions {
  readonly datastore: Datastore;
  /** The IPAM engine (an IpamEngine): releases a deleted pool's affinities, writes the IPAM config. */
  readonly engine: Pick<Ipam, 'releasePoolAffinities' | 'setIPAMConfig'>;
  /** Clock for creationTimestamp. */
  readonly now?: () => Date;
  /** Pause between disabling a pool and releasing its affinities, for in-flight allocations (Calico: 500 ms). */
  readonly poolDeleteGraceMs?: number;
  /**
   * Awaited after every write, before the call returns, with the key written and the
   * revision that holds the write (for a delete: the delete's; undefined when a delete was
   * recognised as applied after its answer was lost, which leaves its revision unknown).
   * The allocator waits here until its watch-fed resource view shows the write, so that
   * the client's next request to the same replica sees it (read-your-writes). Default:
   * nothing to wait for.
   */
  readonly whenWritten?: WhenWritten;
}

export type WhenWritten = (key: string, revision: bigint | undefined) => Promise<void>;

const DEFAULT_POOL_DELETE_GRACE_MS = 500;

type StoredKindResource = Exclude<Resource, { kind: 'IPAMConfiguration' }>;

/** How a write treats what is stored: create (must be absent), update (must be at a revision), apply (either). */
type WriteMode = { mode: 'create' } | { mode: 'apply' } | { mode: 'update'; revision: bigint };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Calico's projectcalico.org/v3 resources in the datastore: IPPool, IPReservation and Node
 * whole under their v3 keys, IPAMConfiguration as the IPAM library's config record. Every
 * write is one compare-and-swap transaction on the revision read (a create: on absence),
 * retried on conflict unless the caller named a resourceVersion, which then must still be
 * current ('conflict'). Errors are IpamErrors: 'invalid-argument' (with every validation
 * problem, each naming its field), 'not-found', 'already-exists', 'conflict'.
 */
export class ResourceRepository {
  private readonly ds: Datastore;
  private readonly engine: ResourceRepositoryOptions['engine'];
  private readonly now: () => Date;
  private readonly poolDeleteGraceMs: number;
  private readonly retry: RetryPolicy = DEFAULT_RETRY_POLICY;
  private readonly ipamConfiguration: IpamConfigurationResources;
  private readonly whenWritten: WhenWritten;

  constructor(opts: ResourceRepositoryOptions) {
    const grace = opts.poolDeleteGraceMs ?? DEFAULT_POOL_DELETE_GRACE_MS;
    if (!Number.isFinite(grace) || grace < 0) {
      throw new RangeError(`poolDeleteGraceMs must be a non-negative number of milliseconds, got ${grace}`);
    }
    this.ds = opts.datastore;
    this.engine = opts.engine;
    this.now = opts.now ?? (() => new Date());
    this.poolDeleteGraceMs = grace;
    this.whenWritten = opts.whenWritten ?? (async () => undefined);
    this.ipamConfiguration = new IpamConfigurationResources(opts.datastore, opts.engine);
  }

  /**
   * Creates or replaces. With `metadata.resourceVersion` it replaces only that version
   * ('conflict' when the stored one differs, 'not-found' when there is none), as
   * `calicoctl apply`/`kubectl apply` do. Returns the stored resource: defaults applied,
   * uid and creationTimestamp filled (kept from the stored version on replace),
   * resourceVersion set.
   */
  async apply(resource: unknown): Promise<Resource> {
    const valid = validated(resource);
    const expected = requestedRevision(valid);
    if (valid.kind === 'IPAMConfiguration') return this.visible(ipamConfigKey(), await this.ipamConfiguration.apply(valid, expected));
    const how: WriteMode = expected === undefined ? { mode: 'apply' } : { mode: 'update', revision: expected };
    return this.visible(storedResourceKey(valid.kind, valid.metadata.name), await this.write(valid, how));
  }

  /** Creates; 'already-exists' when the kind and name exist. A resourceVersion is refused, as in Calico. */
  async create(resource: unknown): Promise<Resource> {
    const valid = validated(resource);
    const version = valid.metadata.resourceVersion;
    if (version !== undefined && version !== '') {
      throw invalidResource([
        new ValidationError(
          valid.kind,
          valid.metadata.name,
          'metadata.resourceVersion',
          'field must not be set for a Create request',
          version,
        ),
      ]);
    }
    if (valid.kind === 'IPAMConfiguration') return this.visible(ipamConfigKey(), await this.ipamConfiguration.create(valid));
    return this.visible(storedResourceKey(valid.kind, valid.metadata.name), await this.write(valid, { mode: 'create' }));
  }

  async get(kind: string, name: string): Promise<Resource> {
    const k = knownKind(kind);
    if (k === 'IPAMConfiguration') {
      if (name !== IPAM_CONFIGURATION_NAME) throw notFound(k, name);
      return this.ipamConfiguration.get();
    }
    checkResourceName(k, name);
    const stored = await readStoredResource(this.ds, k, name);
    if (!stored) throw notFound(k, name);
    return withResourceVersion(stored.resource, stored.revision);
  }

  /** Every resource of a kind, in name order. */
  async list(kind: string): Promise<Resource[]> {
    const k = knownKind(kind);
    if (k === 'IPAMConfiguration') return [await this.ipamConfiguration.get()];
    const stored = await listStoredResources(this.ds, k);
    return stored.map((s) => withResourceVersion(s.resource, s.revision));
  }

  /**
   * Deletes and returns what was deleted. An IPPool is first disabled, then its affinities
   * are released, then it is deleted (Calico's order); IPAMConfiguration is reset to the
   * defaults.
   */
  async delete(kind: string, name: string): Promise<Resource> {
    const k = knownKind(kind);
    if (k === 'IPAMConfiguration') {
      if (name !== IPAM_CONFIGURATION_NAME) throw notFound(k, name);
      const before = await this.ipamConfiguration.reset();
      // The reset returns what was in effect before, not the revision it wrote; the record
      // (written, or already default) is what the view must show now.
      const now = await io(() => this.ds.get(ipamConfigKey()));
      if (now) await this.whenWritten(now.key, now.revision);
      return before;
    }
    checkResourceName(k, name);
    if (k === 'IPPool') return this.deletePool(name);
    const { deleted, key, revision } = await retryOnConflict(async () => {
      const stored = await readStoredResource(this.ds, k, name);
      if (!stored) throw notFound(k, name);
      const revision = await deleteStored(this.ds, stored);
      return { deleted: withResourceVersion(stored.resource, stored.revision), key: stored.key, revision };
    }, this.retry);
    await this.whenWritten(key, revision);
    return deleted;
  }

  /**
   * Waits until what a write returned is visible: its resourceVersion is the revision of
   * the write (or, for an apply that changed nothing, of the stored version). Without one
   * nothing is stored (the IPAM config at its defaults), so there is nothing to wait for.
   */
  private async visible<R extends Resource>(key: string, stored: R): Promise<R> {
    const version = stored.metadata.resourceVersion;
    if (version !== undefined && version !== '') await this.whenWritten(key, BigInt(version));
    return stored;
  }

  private async write(resource: StoredKindResource, how: WriteMode): Promise<Resource> {
    const { kind } = resource;
    const { name } = resource.metadata;
    const next = applyDefaults(resource);
    return retryOnConflict(async () => {
      const stored = await readStoredResource<StoredKindResource>(this.ds, kind, name);
      if (!stored) {
        if (how.mode === 'update') throw notFound(kind, name);
        if (next.kind === 'IPPool') await checkPoolCreate(this.ds, next);
        return this.put(storedResourceKey(kind, name), 'absent', storedForm(next, this.newIdentity()));
      }
      if (how.mode === 'create') throw alreadyExists(kind, name);
      if (how.mode === 'update' && stored.revision !== how.revision) throw updateConflict(kind, name);
      if (next.kind === 'IPPool') checkPoolUpdate(stored.resource as IPPool, next);
      const value = storedForm(next, this.identityOf(stored));
      if (JSON.stringify(value) === stored.value) return withResourceVersion(stored.resource, stored.revision);
      try {
        return await this.put(stored.key, stored.revision, value);
      } catch (err) {
        // The caller's version was current when read but not when written: theirs to resolve.
        if (how.mode === 'update' && err instanceof StoreConflictError) throw updateConflict(kind, name, err);
        throw err;
      }
    }, this.retry);
  }

  /** One compare-and-swap put; a StoreConflictError leaves the decision to the caller. */
  private async put<R extends Resource>(key: string, expect: bigint | 'absent', value: R): Promise<R> {
    const revision = await commitChanges(this.ds, [{ key, expect, next: JSON.stringify(value) }]);
    return withResourceVersion(value, revision);
  }

  private newIdentity(): ResourceIdentity {
    return { uid: randomUUID(), creationTimestamp: rfc3339Seconds(this.now()) };
  }

  /** The stored identity; a value written without one (not by us) gets one now. */
  private identityOf(stored: StoredResource): ResourceIdentity {
    const fresh = this.newIdentity();
    return {
      uid: stored.resource.metadata.uid || fresh.uid,
      creationTimestamp: stored.resource.metadata.creationTimestamp || fresh.creationTimestamp,
    };
  }

  /**
   * Calico's pool deletion: (1) disable it with a compare-and-swap write, so no new
   * address or block comes from it; (2) wait for allocations already under way; (3)
   * release every affinity in its CIDR (empty blocks go, blocks still holding addresses
   * stay, unaffine, until those are released); (4) delete it, comparing the revision read.
   * A pool enabled again meanwhile is not deleted ('conflict'). Calico's final delete does
   * not compare; deleting a pool someone just re-enabled would throw their change away.
   */
  private async deletePool(name: string): Promise<Resource> {
    const disabled = await retryOnConflict(async () => {
      const stored = await readStoredResource<IPPool>(this.ds, 'IPPool', name);
      if (!stored) throw notFound('IPPool', name);
      if (stored.resource.spec?.disabled === true) return withResourceVersion(stored.resource, stored.revision);
      const value: IPPool = { ...stored.resource, spec: { ...stored.resource.spec, disabled: true } };
      return this.put(stored.key, stored.revision, value);
    }, this.retry);
    // Seen disabled before the grace period starts, so that no allocation through this
    // replica picks the pool after it.
    await this.visible(storedResourceKey('IPPool', name), disabled);

    if (this.poolDeleteGraceMs > 0) await sleep(this.poolDeleteGraceMs);
    await this.engine.releasePoolAffinities(disabled.spec.cidr);

    const { deleted, key, revision } = await retryOnConflict(async () => {
      const stored = await readStoredResource<IPPool>(this.ds, 'IPPool', name);
      if (!stored) throw notFound('IPPool', name);
      if (stored.resource.spec?.disabled !== true) throw updateConflict('IPPool', name);
      const revision = await deleteStored(this.ds, stored);
      return { deleted: withResourceVersion(stored.resource, stored.revision), key: stored.key, revision };
    }, this.retry);
    await this.whenWritten(key, revision);
    return deleted;
  }
}

/**
 * Deletes comparing the revision read. Resolves to the delete's revision, or undefined when
 * the delete was recognised as ours after a lost answer: the key is gone then, and a gone
 * key has no revision to tell it by.
 */
async function deleteStored(ds: Datastore, stored: StoredResource): Promise<bigint | undefined> {
  const revision = await commitChanges(ds, [{ key: stored.key, expect: stored.revision, next: null }]);
  return revision > 0n ? revision : undefined;
}

/** The input checked as a whole (every problem reported), null fields dropped. */
function validated(input: unknown): Resource {
  const resource = withoutNulls(input);
  const problems = validateResource(resource);
  if (problems.length > 0) throw invalidResource(problems);
  return resource as Resource;
}

function knownKind(kind: string): ResourceKind {
  if (!isResourceKind(kind)) throw unknownKind(String(kind));
  return kind;
}

