// One etcd per jest run. The README test command starts etcd itself and passes its
// endpoints in ATOLL_TEST_ETCD_ENDPOINTS; a developer running one project's tests with
// `npx nx test <project>` gets a private etcd started (and stopped) here instead.
'use strict';

const { startEtcdCluster } = require('../etcd/launcher');

module.exports = async function globalSetup() {
  if (process.env.ATOLL_TEST_ETCD_ENDPOINTS) return;
  const cluster = await startEtcdCluster();
  process.env.ATOLL_TEST_ETCD_ENDPOINTS = cluster.endpoints.join(',');
  globalThis.__atollEtcd = cluster;
};
