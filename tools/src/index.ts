export { agentRequest, binPath, REPO_ROOT, startAgentProcess, startAllocatorProcess, startProcess, testNamespace } from './processes';
export type { AgentProcess, AllocatorProcess, ManagedProcess } from './processes';
export * from '../netns';
export * from '../k8s-api';
