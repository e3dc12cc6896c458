import { describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DurableModule, KeyLayoutMismatchError } from 'redurable';
import { createTestApp, keysUnder, testConnection, testRedis } from '../support/test-app.js';

/** The key layout is recorded under the prefix; a process with another layout refuses to start and writes nothing. */
describe('key layout version', () => {
  test('recorded on a fresh prefix; a prefix holding another layout is refused at boot, naming the prefix and what to do', async () => {
    const fresh = await createTestApp([]);
    expect(await fresh.redis.get(`${fresh.prefix}:layout`)).toBe('2:16');
    await fresh.close();

    const redis = testRedis();
    const boot = async (found: string) => {
      const prefix = `layout-${randomUUID().slice(0, 8)}`;
      await redis.set(`${prefix}:layout`, found);
      @Module({ imports: [DurableModule.forRoot({ connection: testConnection(), prefix, logger: false })] })
      class OtherLayoutApp {}
      const failure = await NestFactory.createApplicationContext(OtherLayoutApp, {
        logger: false,
        abortOnError: false,
      }).then(
        (app) => app.close().then(() => undefined),
        (err: unknown) => err,
      );
      expect(failure).toBeInstanceOf(KeyLayoutMismatchError);
      expect(await keysUnder(redis, prefix)).toEqual([`${prefix}:layout`]);
      return { prefix, message: (failure as Error).message };
    };
    const newer = await boot('3:16');
    expect(newer.message).toBe(
      `Redis prefix '${newer.prefix}' holds data in key layout 3, but this version of Redurable uses layout 2: upgrade Redurable in this app to the version that wrote it. Nothing was written`,
    );
    // Layout 1 (one hash tag per workflow, global indexes) was written before Cluster support.
    const older = await boot('1');
    expect(older.message).toBe(
      `Redis prefix '${older.prefix}' holds data in key layout 1, but this version of Redurable uses layout 2: let the workflows under that prefix finish (or terminate them) ` +
        'with the Redurable version that wrote them, then point this app at a new prefix; the two layouts cannot be mixed. Nothing was written',
    );
    await redis.quit();
  });
});
