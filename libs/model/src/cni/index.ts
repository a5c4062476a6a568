export { PoolAnnotations, SpecificAddressAnnotations, PoolRequestError, poolSettingsOfIpamConfig, resolvePoolRequest } from './pool-request';
export type { PoolAnnotationEffect, PoolSettings, ResolvedPoolRequest } from './pool-request';
