// The object shapes the stand-in stores and serves. Objects are kept as plain JSON (no
// schema per kind): the stand-in only interprets metadata and the few fields that field
// selectors, create defaults and the status subresource touch.

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [field: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** What callers hand to create/update: metadata may be partial or even missing. */
export interface KubeObjectInput {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [field: string]: unknown;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** One line of a watch stream, exactly as the apiserver frames it. */
export interface WatchEventLine {
  type: WatchEventType;
  object: KubeObject | Record<string, unknown>;
}
