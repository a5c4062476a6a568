export * from './json';
export * from './keys';
export * from './records';
export * from './selector';
export * from './resources';
export * from './loading';
export * from './cni';
export * from './duration';
