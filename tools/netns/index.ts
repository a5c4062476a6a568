export { cleanupNetnsWithPrefix, createNetns, listNetnsWithPrefix, NETNS_DIR, uniqueNetnsName } from './netns';
export type { ExecResult, Netns } from './netns';
export { buildPluginConfig, findPlugin, runCniPlugin, sortKeysDeep } from './cni-runtime';
export type { CniAttachment, CniCommand, CniRunResult, RunCniPluginOptions } from './cni-runtime';
