// Starts one private redis-server for the whole test run (never the user's REDIS_URL or port 6379).
// Runs outside Jest's module system, so it loads the compiled launcher: `npm test` builds first.
import { startEmbeddedRedis } from '../../dist/tools/embedded-redis.js';

export default async function globalSetup() {
  const redis = await startEmbeddedRedis({ appendOnly: false });
  process.env.REDURABLE_TEST_REDIS_URL = redis.url;
  globalThis.__redurableRedis = redis;
}
