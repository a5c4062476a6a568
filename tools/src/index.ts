export { agentRequest, binPath, REPO_ROOT, startAgentProcess, startAllocatorProcess, startProcess, testNamespace } from './processes';
export type { AgentProcess, AllocatorProcess, ManagedProcess } from './processes';
export * from '../netns';
export * from '../k8s-api';
export { CNI_PATH, DemoCluster, NETWORK } from '../quickstart/demo-cluster';
export type { AddOutcome, DemoNode, DemoPod } from '../quickstart/demo-cluster';
export { freePort, startEtcdCluster } from '../etcd/launcher';
