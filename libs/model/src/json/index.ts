export { JsonSyntaxError, parseJsonLossless, stringifyJsonLossless } from './lossless-json';
export type { JsonValue } from './lossless-json';
