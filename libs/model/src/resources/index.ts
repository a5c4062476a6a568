export { API_VERSION } from './metadata';
export type { ApiVersion, ObjectMeta } from './metadata';
export { describeResource, describeValue, throwIfInvalid, ValidationError } from './validation-error';
export {
  annotationKeyProblems,
  isDns1123Subdomain,
  labelKeyProblems,
  labelValueProblems,
  resourceNameProblems,
} from './names';
export {
  applyIPPoolDefaults,
  ASSIGNMENT_MODES,
  BLOCK_SIZE_RANGE,
  canonicalPoolCidr,
  DEFAULT_ALLOWED_USES,
  DEFAULT_BLOCK_SIZE,
  DEFAULT_NODE_SELECTOR,
  ENCAPSULATION_MODES,
  IPPOOL_ALLOWED_USES,
} from './ippool';
export type {
  AssignmentMode,
  DefaultedIPPool,
  DefaultedIPPoolSpec,
  EncapsulationMode,
  IPPool,
  IPPoolAllowedUse,
  IPPoolSpec,
  IPPoolStatus,
} from './ippool';
export { validateIPPool } from './ippool-validation';
export { validatePoolAgainstExisting, validatePoolBlockSize, validatePoolUpdate } from './ippool-existing';
export { applyIPReservationDefaults, validateIPReservation } from './ipreservation';
export type { IPReservation, IPReservationSpec } from './ipreservation';
export {
  applyIPAMConfigurationDefaults,
  IP_COOLDOWN_SECONDS_LIMIT,
  IPAM_CONFIGURATION_NAME,
  MAX_BLOCKS_PER_HOST_LIMIT,
  validateIPAMConfiguration,
  VM_ADDRESS_PERSISTENCE_VALUES,
} from './ipamconfiguration';
export type {
  DefaultedIPAMConfiguration,
  IPAMConfiguration,
  IPAMConfigurationSpec,
  VMAddressPersistence,
} from './ipamconfiguration';
export { applyNodeDefaults, isMacAddress, NODE_ADDRESS_TYPES, validateNode } from './node';
export type {
  Node,
  NodeAddress,
  NodeAddressType,
  NodeBGPSpec,
  NodeInterface,
  NodeSpec,
  NodeStatus,
  NodeWireguardSpec,
  OrchRef,
} from './node';
export { applyDefaults, assertValidResource, isResourceKind, RESOURCE_KINDS, validateResource } from './resource';
export type { Resource, ResourceKind } from './resource';
