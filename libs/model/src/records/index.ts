export { affinityString, AttributeKeys, blockHost, decodeBlock, encodeBlock } from './block';
export type { AllocationAttribute, AllocationBlock } from './block';
export { decodeAffinity, encodeAffinity } from './affinity';
export type { AffinityState, BlockAffinity } from './affinity';
export { decodeHandle, encodeHandle } from './handle';
export type { IpamHandle } from './handle';
export { decodeIpamConfig, DEFAULT_IPAM_CONFIG, encodeIpamConfig } from './ipam-config';
export type { IpamConfig, KubeVirtPersistence } from './ipam-config';
export { RecordDecodeError } from './record-error';
