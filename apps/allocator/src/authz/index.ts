export { authorizeService, callerIdentity } from './authorize-service';
export type { AuthorizationOptions } from './authorize-service';
export { engineOwners } from './engine-owners';
export { describeIdentity, identityOf } from './identity';
export type { Identity } from './identity';
export { authorize, NODE_RULES, PermissionDeniedError } from './policy';
export type { AllocationOwners, ServiceName } from './policy';
