import type { ResourceName } from './resources';
import { alreadyExists, conflict, expired, notFound, OBJECT_MODIFIED, type Status } from './status';
import type { KubeObject } from './types';

// The stand-in's etcd: every object of every kind under one revision counter, a bounded
// history of changes that watches replay from, and synchronous fan-out of each change.
// `commit` is the only code that assigns a resourceVersion and the only place that checks
// one (compare-and-swap in one place). Values go in and come out as deep copies, so no
// caller can change a stored object except through `commit`.

export interface ObjectRef {
  readonly resource: ResourceName;
  /** '' for cluster-scoped kinds. */
  readonly namespace: string;
  readonly name: string;
}

/** What must hold for a commit to apply (checked against the stored object). */
export type Expectation =
  | { readonly kind: 'absent' }
  | { readonly kind: 'present'; readonly resourceVersion?: string; readonly uid?: string };

export interface StoreEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly resource: ResourceName;
  /** The new state; for DELETED the last state, stamped with the deletion's revision. */
  readonly object: KubeObject;
  /** The state before this change (MODIFIED and DELETED). */
  readonly previous?: KubeObject;
  readonly resourceVersion: number;
}

export type StoreListener = (event: StoreEvent) => void;

export class HistoryExpiredError extends Error {
  constructor(readonly status: Status) {
    super(status.message);
    this.name = 'HistoryExpiredError';
  }
}

const keyOf = (ref: ObjectRef) => `${ref.resource}\u0000${ref.namespace}\u0000${ref.name}`;

export class ObjectStore {
  private revision = 0;
  /** Revision of the newest event dropped from history; watches must start at or after it. */
  private compactedRevision = 0;
  private readonly objects = new Map<string, { ref: ObjectRef; object: KubeObject }>();
  private readonly history: StoreEvent[] = [];
  private readonly listeners = new Set<StoreListener>();

  constructor(private readonly historyLimit: number) {}

  /** The revision of the last write, as a list's `metadata.resourceVersion` reports it. */
  currentRevision(): number {
    return this.revision;
  }

  get(ref: ObjectRef): KubeObject | undefined {
    const entry = this.objects.get(keyOf(ref));
    return entry ? structuredClone(entry.object) : undefined;
  }

  /** Objects of one kind (optionally one namespace) in key order, as etcd lists them. */
  list(resource: ResourceName, namespace?: string): { items: KubeObject[]; resourceVersion: number } {
    const matching = [...this.objects.values()].filter(
      (e) => e.ref.resource === resource && (namespace === undefined || e.ref.namespace === namespace),
    );
    matching.sort((a, b) =>
      a.ref.namespace === b.ref.namespace
        ? compareStrings(a.ref.name, b.ref.name)
        : compareStrings(a.ref.namespace, b.ref.namespace),
    );
    return { items: matching.map((e) => structuredClone(e.object)), resourceVersion: this.revision };
  }

  /**
   * Throws the 404/409 `ApiError` that `commit` would for `expect`, without writing: a
   * no-op update and a delete's preconditions are checked with exactly the same rules.
   */
  verify(ref: ObjectRef, expect: Expectation): void {
    const current = this.objects.get(keyOf(ref))?.object;
    if (expect.kind === 'absent') {
      if (current) throw alreadyExists(ref.resource, ref.name);
      return;
    }
    if (!current) throw notFound(ref.resource, ref.name);
    if (expect.uid !== undefined && expect.uid !== current.metadata.uid) {
      throw conflict(
        ref.resource,
        ref.name,
        `Precondition failed: UID in precondition: ${expect.uid}, UID in object meta: ${current.metadata.uid}`,
      );
    }
    if (expect.resourceVersion !== undefined && expect.resourceVersion !== current.metadata.resourceVersion) {
      throw conflict(ref.resource, ref.name, OBJECT_MODIFIED);
    }
  }

  /**
   * Creates or replaces (`next` an object) or deletes (`next` null) the object at `ref`
   * if `expect` holds, assigning the next revision. Throws 404/409 `ApiError`s otherwise.
   */
  commit(ref: ObjectRef, next: KubeObject | null, expect: Expectation): StoreEvent {
    this.verify(ref, expect);
    const key = keyOf(ref);
    const current = this.objects.get(key)?.object;
    if (next === null && !current) throw notFound(ref.resource, ref.name);

    const resourceVersion = ++this.revision;
    const stamp = (obj: KubeObject): KubeObject => {
      const copy = structuredClone(obj);
      copy.metadata.resourceVersion = String(resourceVersion);
      return copy;
    };
    let event: StoreEvent;
    if (next === null) {
      this.objects.delete(key);
      event = { type: 'DELETED', resource: ref.resource, object: stamp(current!), previous: current, resourceVersion };
    } else {
      const stored = stamp(next);
      this.objects.set(key, { ref, object: stored });
      event = current
        ? { type: 'MODIFIED', resource: ref.resource, object: structuredClone(stored), previous: current, resourceVersion }
        : { type: 'ADDED', resource: ref.resource, object: structuredClone(stored), resourceVersion };
    }
    this.record(event);
    return event;
  }

  /**
   * The changes after `resourceVersion`, oldest first. Throws `HistoryExpiredError` (a 410
   * `Expired` Status) when some of them were already dropped, so the caller must re-list.
   */
  eventsAfter(resourceVersion: number): StoreEvent[] {
    if (resourceVersion < this.compactedRevision) {
      throw new HistoryExpiredError(expired(resourceVersion, this.compactedRevision + 1));
    }
    return this.history.filter((e) => e.resourceVersion > resourceVersion);
  }

  /** Drops all history (what etcd compaction does): every older watch start gets a 410. */
  compact(): void {
    this.history.length = 0;
    this.compactedRevision = this.revision;
  }

  /** `listener` sees every later change, synchronously, in revision order. */
  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private record(event: StoreEvent): void {
    this.history.push(event);
    while (this.history.length > this.historyLimit) {
      this.compactedRevision = this.history.shift()!.resourceVersion;
    }
    for (const listener of [...this.listeners]) listener(event);
  }
}

/** Byte order for ASCII names, like etcd's key order (not locale-aware). */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
