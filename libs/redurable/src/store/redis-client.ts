import { Cluster, type Redis } from 'ioredis';

/** A connection the library uses: one Redis (or a sentinel-managed primary) or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/** Another connection with the same settings (for pub/sub, or BullMQ's workers). */
export function duplicateClient(redis: RedisClient): RedisClient {
  return redis instanceof Cluster ? redis.duplicate() : redis.duplicate();
}
