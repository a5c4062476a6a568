'use strict';

module.exports = async function globalTeardown() {
  const cluster = globalThis.__atollEtcd;
  if (cluster) {
    delete process.env.ATOLL_TEST_ETCD_ENDPOINTS;
    await cluster.stop();
  }
};
