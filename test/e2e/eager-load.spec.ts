import { afterAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { spawnWorker, stop, type Child } from '../support/child-worker.js';
import { createTestApp, testConnectionEnv, type TestApp } from '../support/test-app.js';
import { until } from '../support/until.js';

const prefix = `eager-load-${randomUUID().slice(0, 8)}`;
let client: TestApp | undefined;
const workers: Child[] = [];
afterAll(async () => {
  await Promise.all(workers.map(stop));
  await client?.close();
});

describe('eager activities under load', () => {
  test('two worker processes, 64 workflows in flight: both do work (a busy worker queues), each step once', async () => {
    client = await createTestApp([], { prefix, worker: false });
    for (const name of ['a', 'b'])
      workers.push(spawnWorker({ ...testConnectionEnv(), PREFIX: prefix, WORKER_NAME: name, STEP_MS: '30' }));
    for (const w of workers) await until('worker ready', () => w.output().includes('ready'));
    const ids = Array.from({ length: 64 }, (_, i) => `load-${i}`);
    const handles = await Promise.all(
      ids.map((workflowId) =>
        client!.client.start('CrashWorkflow', { workflowId, taskQueue: 'crash', args: [4, 0, 0] }),
      ),
    );
    expect(await Promise.all(handles.map((h) => h.result()))).toEqual(ids.map(() => 10));
    const [a, b] = (await client.redis.mget(`{${prefix}}:ran-on:a`, `{${prefix}}:ran-on:b`)).map(Number);
    expect(a + b).toBe(64 * 4);
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
    const effects = await client.redis.mget(
      ...ids.flatMap((id) => [1, 2, 3, 4].map((i) => `{${prefix}}:effects:${id}:${i}`)),
    );
    expect(effects.every((e) => e === '1')).toBe(true);
  }, 60_000);
});
