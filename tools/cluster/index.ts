export { RuntimeCluster } from './runtime-cluster';
export type { RuntimeClusterOptions, RuntimePod } from './runtime-cluster';
export { startRuntimeNode } from './runtime-node';
export type { RuntimeNode, RuntimeNodeOptions } from './runtime-node';
