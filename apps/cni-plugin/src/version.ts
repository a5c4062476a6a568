// The Atoll release this plugin belongs to. esbuild inlines the one field at build time,
// so `-v` costs no file read and works in the single executable too.
import { version } from '../package.json';

export const ATOLL_VERSION: string = version;
