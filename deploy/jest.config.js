// The workspace preset, plus what these tests need:
// - no etcd per run (the preset's global setup starts one; these tests start their own
//   only where they check the TLS recipe against a real etcd);
// - kubernetes-models and the packages it loads are ES modules only (their package exports
//   have just an "import" condition): resolve them with that condition and let SWC turn
//   them into CommonJS like the rest.
const preset = require('../jest.preset.js');

const ESM_ONLY = ['kubernetes-models', '@kubernetes-models', 'is-cidr', 'cidr-regex'];

module.exports = {
  ...preset,
  rootDir: __dirname,
  globalSetup: undefined,
  globalTeardown: undefined,
  testTimeout: 60000,
  resolver: require.resolve('./test/support/esm-only-resolver.js'),
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY.join('|')})/)`],
};
