import { afterAll, describe, expect, test } from '@jest/globals';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Cluster } from 'ioredis';
import { DurableModule, InvalidOptionsError } from 'redurable';
import { testClusterNodes } from '../support/test-app.js';

/**
 * The private Redis Cluster that `npm test` starts (three masters, test/support/global-setup.js),
 * and what the library does with a Cluster connection today: it refuses it at boot with a clear
 * message, writing nothing (the listing indexes are written by the same scripts as each
 * workflow's keys, so those scripts would be cross-slot).
 */
const cluster = new Cluster(testClusterNodes());

afterAll(async () => {
  await cluster.quit();
});

describe('Redis Cluster', () => {
  test('the test cluster has three masters that split the slots and answers across them', async () => {
    const masters = cluster.nodes('master');
    expect(masters).toHaveLength(3);
    const keys = Array.from({ length: 30 }, (_, i) => `probe-${i}`);
    await Promise.all(keys.map((k) => cluster.set(k, k)));
    expect(await Promise.all(keys.map((k) => cluster.get(k)))).toEqual(keys);
    const perMaster = await Promise.all(masters.map((m) => m.dbsize()));
    expect(perMaster.filter((n) => n > 0).length).toBe(3);
  });

  test('DurableModule refuses a Cluster connection at boot, naming what to do', async () => {
    @Module({ imports: [DurableModule.forRoot({ connection: { cluster: testClusterNodes() } as never, logger: false })] })
    class ClusterApp {}
    const failure = await NestFactory.createApplicationContext(ClusterApp, { logger: false, abortOnError: false }).then(
      (app) => app.close().then(() => undefined), (err: unknown) => err);
    expect(failure).toBeInstanceOf(InvalidOptionsError);
    expect((failure as Error).message).toContain('Redis Cluster is not supported yet');
  });
});
