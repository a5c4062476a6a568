// The Kubernetes API stand-in: a small core/v1 apiserver (pods, namespaces, nodes) that
// @kubernetes/client-node and kubectl talk to unmodified. See README.md for its rules.
export { calicoKddDataset, loadCalicoKddDataset } from './calico-kdd-dataset';
export type { CalicoKddDataset, KddObject } from './calico-kdd-dataset';
export { startKubeApiStandIn } from './stand-in';
export type { KubeApiStandIn, KubeApiStandInOptions, LabelChanges } from './stand-in';
// Prefixed names: these are re-exported from @atoll/test-tools next to unrelated tools.
export { ApiError as KubeApiError } from './status';
export type { Status as KubeStatus, StatusReason as KubeStatusReason } from './status';
export type { KubeObject, KubeObjectInput, ObjectMeta as KubeObjectMeta, WatchEventLine as KubeWatchEventLine } from './types';
