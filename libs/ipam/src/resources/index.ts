export { ResourceRepository } from './resource-repository';
export type { ResourceRepositoryOptions } from './resource-repository';
