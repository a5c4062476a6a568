export * from './json';
export * from './keys';
export * from './records';
