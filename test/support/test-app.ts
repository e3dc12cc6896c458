import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Module, type DynamicModule, type INestApplicationContext, type Provider } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Queue } from 'bullmq';
import { Cluster, Redis } from 'ioredis';
import { DurableModule, WorkflowClient, type DurableModuleOptions, type RedisConnectionOption } from 'redurable';
import { KeyNames } from 'redurable/internal';

/** The private redis-server the test run started (never the user's REDIS_URL). */
export function testRedisUrl(): string {
  const url = process.env.REDURABLE_TEST_REDIS_URL;
  if (!url)
    throw new Error(
      'REDURABLE_TEST_REDIS_URL is not set: run the tests with `npm test` (jest global setup starts redis-server)',
    );
  return url;
}

/** The masters of the private Redis Cluster the test run started. */
export function testClusterNodes(): { host: string; port: number }[] {
  const nodes = process.env.REDURABLE_TEST_CLUSTER_NODES;
  if (!nodes)
    throw new Error(
      'REDURABLE_TEST_CLUSTER_NODES is not set: run the tests with `npm test` (jest global setup starts the cluster)',
    );
  return JSON.parse(nodes) as { host: string; port: number }[];
}

/**
 * Which Redis this test file runs against: the private single redis-server, or (the `cluster`
 * Jest project, test/support/target-cluster.js) the private 3-master Cluster.
 */
export function testTarget(): 'redis' | 'cluster' {
  return process.env.REDURABLE_TEST_TARGET === 'cluster' ? 'cluster' : 'redis';
}

/** `connection` for DurableModule on the test target. */
export function testConnection(): RedisConnectionOption {
  return testTarget() === 'cluster' ? { cluster: testClusterNodes() } : testRedisUrl();
}

/** A plain connection to the test target, to inspect (or damage) what the library wrote; BullMQ workers may use it too. */
export function testRedis(): Redis | Cluster {
  const blocking = { maxRetriesPerRequest: null };
  return testTarget() === 'cluster'
    ? new Cluster(testClusterNodes(), { redisOptions: blocking })
    : new Redis(testRedisUrl(), blocking);
}

/**
 * A BullMQ Queue on a connection of its own to the test target, to inspect (or damage) the
 * library's jobs. BullMQ never closes a connection it was given as an instance, so this queue's
 * close() also quits that connection: left open, it would keep the Jest worker process alive
 * after its test files ("A worker process has failed to exit gracefully").
 */
export function testQueue(name: string, prefix: string): Queue {
  return new OwnConnectionQueue(name, prefix, testRedis());
}

class OwnConnectionQueue extends Queue {
  constructor(
    name: string,
    prefix: string,
    private readonly ownConnection: Redis | Cluster,
  ) {
    super(name, { connection: ownConnection, prefix });
  }

  override async close(): Promise<void> {
    try {
      await super.close();
    } finally {
      if (this.ownConnection.status !== 'end')
        await this.ownConnection.quit().catch(() => this.ownConnection.disconnect());
    }
  }
}

/** What a child process needs in its environment to reach the test target (REDIS_URL, or REDIS_CLUSTER as host:port,...). */
export function testConnectionEnv(): Record<string, string> {
  return testTarget() === 'cluster'
    ? {
        REDIS_CLUSTER: testClusterNodes()
          .map((n) => `${n.host}:${n.port}`)
          .join(','),
      }
    : { REDIS_URL: testRedisUrl() };
}

/** The command line's connection flags for the test target. */
export function cliConnectionFlags(): string[] {
  const env = testConnectionEnv();
  return env.REDIS_CLUSTER ? ['--cluster', env.REDIS_CLUSTER] : ['--redis', env.REDIS_URL];
}

export interface TestApp {
  app: INestApplicationContext;
  client: WorkflowClient;
  redis: Redis | Cluster;
  prefix: string;
  close(): Promise<void>;
}

/** A Nest application context with DurableModule on a random key prefix, fast leases and sweep. */
export async function createTestApp(
  providers: Provider[],
  options: Partial<DurableModuleOptions> = {},
  imports: DynamicModule[] = [],
): Promise<TestApp> {
  const prefix = options.prefix ?? `t-${randomUUID().slice(0, 8)}`;
  @Module({
    imports: [
      DurableModule.forRoot({
        connection: testConnection(),
        prefix,
        logger: false,
        leaseTtl: '2s',
        sweepInterval: '500ms',
        ...options,
      }),
      ...imports,
    ],
    providers,
  })
  class TestModule {}
  const app = await NestFactory.createApplicationContext(TestModule, { logger: false, abortOnError: false });
  await app.init();
  const redis = testRedis();
  return {
    app,
    client: app.get(WorkflowClient),
    redis,
    prefix,
    async close() {
      await app.close();
      await redis.quit();
    },
  };
}

/** A BullMQ queue's own bookkeeping, which its workers write lazily, some time after the app booted. */
const QUEUE_BOOKKEEPING = /^[^:]+:\{[^}]*\}:(meta|stalled-check)$/;

/**
 * Every key under a prefix (to prove that a rejected call wrote nothing), but BullMQ queues'
 * bookkeeping (`<prefix>:{queue}:meta`, `stalled-check`), which may appear at any time after boot.
 */
export async function keysUnder(redis: Redis | Cluster, prefix: string): Promise<string[]> {
  const servers = redis instanceof Cluster ? redis.nodes('master') : [redis];
  const keys = (await Promise.all(servers.map((s) => s.keys(`${prefix}:*`)))).flat();
  return keys.filter((k) => !QUEUE_BOOKKEEPING.test(k)).sort();
}

/** The names of the keys the library writes under a prefix (default shard count), to inspect or damage them. */
export function keyNames(prefix: string, shards?: number): KeyNames {
  return new KeyNames(prefix, shards);
}
