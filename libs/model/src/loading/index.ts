export { DEFAULT_MAX_BYTES, DEFAULT_MAX_RESOURCES, loadResources } from './load-resources';
export type { LoadOptions } from './load-resources';
export { ResourceLoadError } from './load-error';
export type { LoadProblem } from './load-error';
export { dumpResource } from './dump-resource';
export type { DumpFormat } from './dump-resource';
export { parseYamlDocument } from './yaml-document';
