export { PoolAnnotations, PoolRequestError, poolSettingsOfIpamConfig, resolvePoolRequest } from './pool-request';
export type { PoolAnnotationEffect, PoolSettings, ResolvedPoolRequest } from './pool-request';
