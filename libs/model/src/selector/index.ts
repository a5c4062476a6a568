export { parseSelector } from './selector';
export type { Selector } from './selector';
export { SelectorSyntaxError } from './errors';
