import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Module, type INestApplicationContext, type Provider } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { DurableModule, WorkflowClient, type DurableModuleOptions } from 'redurable';

/** The private redis-server the test run started (never the user's REDIS_URL). */
export function testRedisUrl(): string {
  const url = process.env.REDURABLE_TEST_REDIS_URL;
  if (!url) throw new Error('REDURABLE_TEST_REDIS_URL is not set: run the tests with `npm test` (jest global setup starts redis-server)');
  return url;
}

/** The masters of the private Redis Cluster the test run started. */
export function testClusterNodes(): { host: string; port: number }[] {
  const nodes = process.env.REDURABLE_TEST_CLUSTER_NODES;
  if (!nodes) throw new Error('REDURABLE_TEST_CLUSTER_NODES is not set: run the tests with `npm test` (jest global setup starts the cluster)');
  return JSON.parse(nodes) as { host: string; port: number }[];
}

export interface TestApp {
  app: INestApplicationContext;
  client: WorkflowClient;
  redis: Redis;
  prefix: string;
  close(): Promise<void>;
}

/** A Nest application context with DurableModule on a random key prefix, fast leases and sweep. */
export async function createTestApp(providers: Provider[], options: Partial<DurableModuleOptions> = {}): Promise<TestApp> {
  const prefix = options.prefix ?? `t-${randomUUID().slice(0, 8)}`;
  @Module({
    imports: [DurableModule.forRoot({ connection: testRedisUrl(), prefix, logger: false, leaseTtl: '2s', sweepInterval: '500ms', ...options })],
    providers,
  })
  class TestModule {}
  const app = await NestFactory.createApplicationContext(TestModule, { logger: false, abortOnError: false });
  await app.init();
  const redis = new Redis(testRedisUrl());
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

/** Every key under a prefix (to prove that a rejected call wrote nothing). */
export async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  return (await redis.keys(`${prefix}:*`)).sort();
}
