// Starts one private redis-server and one private 3-master Redis Cluster for the whole test run
// (never the user's REDIS_URL or port 6379). Runs outside Jest's module system, so it loads the
// compiled launchers: `npm test` builds first.
import { startEmbeddedCluster } from '../../dist/tools/embedded-cluster.js';
import { startEmbeddedRedis } from '../../dist/tools/embedded-redis.js';

export default async function globalSetup() {
  const [redis, cluster] = await Promise.all([startEmbeddedRedis({ appendOnly: false }), startEmbeddedCluster(3)]);
  process.env.REDURABLE_TEST_REDIS_URL = redis.url;
  process.env.REDURABLE_TEST_CLUSTER_NODES = JSON.stringify(cluster.nodes);
  globalThis.__redurableRedis = redis;
  globalThis.__redurableCluster = cluster;
}
