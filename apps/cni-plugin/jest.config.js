// The shared preset, minus its etcd global setup: nothing here talks to etcd (the plugin
// never does, by design), and starting one would only slow the run down.
module.exports = {
  ...require('../../jest.preset.js'),
  rootDir: __dirname,
  globalSetup: undefined,
  globalTeardown: undefined,
};
