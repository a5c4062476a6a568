// Shared jest settings for every project: SWC transform (no type-checking here; `build`
// runs tsc), the workspace path aliases, and one etcd per test run (tools/jest).
const path = require('node:path');

const root = __dirname;
const aliases = {
  '^@atoll/ipmath$': 'libs/ipmath/src/index.ts',
  '^@atoll/model$': 'libs/model/src/index.ts',
  '^@atoll/store$': 'libs/store/src/index.ts',
  '^@atoll/store/testing$': 'libs/store/src/testing/index.ts',
  '^@atoll/ipam$': 'libs/ipam/src/index.ts',
  '^@atoll/api$': 'libs/api/src/index.ts',
  '^@atoll/test-tools$': 'tools/src/index.ts',
};

module.exports = {
  testEnvironment: 'node',
  testEnvironmentOptions: { globalsCleanup: 'off' },
  testTimeout: 30000,
  passWithNoTests: false,
  transform: {
    '^.+\\.(t|j)s$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: Object.fromEntries(
    Object.entries(aliases).map(([k, v]) => [k, path.join(root, v)]),
  ),
  testMatch: ['<rootDir>/src/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
  globalSetup: path.join(root, 'tools/jest/global-setup.js'),
  globalTeardown: path.join(root, 'tools/jest/global-teardown.js'),
};
