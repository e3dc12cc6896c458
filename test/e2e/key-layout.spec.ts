import { describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { DurableModule, KeyLayoutMismatchError } from 'redurable';
import { createTestApp, testRedisUrl } from '../support/test-app.js';

/** The key layout is recorded under the prefix; a process with another layout refuses to start and writes nothing. */
describe('key layout version', () => {
  test('recorded on a fresh prefix; a prefix holding another layout is refused at boot, naming the prefix and what to do', async () => {
    const fresh = await createTestApp([]);
    expect(await fresh.redis.get(`${fresh.prefix}:layout`)).toBe('1');
    await fresh.close();

    const prefix = `layout-${randomUUID().slice(0, 8)}`;
    const redis = new Redis(testRedisUrl());
    await redis.set(`${prefix}:layout`, '2');
    @Module({ imports: [DurableModule.forRoot({ connection: testRedisUrl(), prefix, logger: false })] })
    class NewerDataApp {}
    const failure = await NestFactory.createApplicationContext(NewerDataApp, { logger: false, abortOnError: false }).then(
      (app) => app.close().then(() => undefined), (err: unknown) => err);
    expect(failure).toBeInstanceOf(KeyLayoutMismatchError);
    expect((failure as Error).message).toBe(
      `Redis prefix '${prefix}' holds data in key layout 2, but this version of Redurable uses layout 1: upgrade Redurable in this app to the version that wrote it. Nothing was written`,
    );
    expect(await redis.keys(`${prefix}:*`)).toEqual([`${prefix}:layout`]);
    await redis.quit();
  });
});
