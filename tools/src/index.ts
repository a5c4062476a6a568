export { binPath, REPO_ROOT, startAllocatorProcess, startProcess, testNamespace } from './processes';
export type { AllocatorProcess, ManagedProcess } from './processes';
