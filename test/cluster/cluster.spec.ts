import { afterAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Cluster } from 'ioredis';
import { Activities, Activity, InvalidOptionsError, Workflow, WorkflowRun, type DurableModuleOptions } from 'redurable';
import { proxyActivities } from 'redurable/workflow';
import { clusterSlot, partitionOf, shardTags } from 'redurable/internal';
import { createTestApp, keyNames, testClusterNodes, type TestApp } from '../support/test-app.js';

/**
 * Redurable on the private 3-master Redis Cluster that `npm test` starts (the `cluster` Jest
 * project runs the end-to-end and crash suites on it too): where its keys go and what only a
 * Cluster shows.
 */
const cluster = new Cluster(testClusterNodes());
const apps: TestApp[] = [];

afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  await cluster.quit();
});

@Injectable()
@Activities({ taskQueue: 'spread' })
class SpreadActivities {
  @Activity()
  async double(n: number): Promise<number> {
    return 2 * n;
  }
}

@Workflow({ taskQueue: 'spread' })
class SpreadWorkflow {
  @WorkflowRun()
  async run(n: number): Promise<number> {
    const acts = proxyActivities(SpreadActivities);
    return (await acts.double(n)) + (await acts.double(n));
  }
}

async function clusterApp(options: Partial<DurableModuleOptions> = {}): Promise<TestApp> {
  const app = await createTestApp([SpreadActivities, SpreadWorkflow], {
    connection: { cluster: testClusterNodes() },
    ...options,
  });
  apps.push(app);
  return app;
}

/** The master that owns a slot. */
async function ownerOf(slot: number): Promise<string> {
  const ranges = (await cluster.cluster('SLOTS')) as unknown as [number, number, [string, number]][];
  const [, , [host, port]] = ranges.find(([lo, hi]) => slot >= lo && slot <= hi)!;
  return `${host}:${port}`;
}

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

  test("the shards' hash tags are where Redis puts them, and 16 shards spread 6/5/5 over the three masters", async () => {
    for (const key of ['a', 's3.12', 'hello world', 'ünïcode ✓', 'x'.repeat(300)])
      expect(clusterSlot(key)).toBe(await cluster.cluster('KEYSLOT', key));
    const tags = shardTags(16);
    const owners = await Promise.all(
      tags.map(async (tag) => ownerOf((await cluster.cluster('KEYSLOT', tag)) as number)),
    );
    const perMaster = [
      ...owners.reduce((m, o) => m.set(o, (m.get(o) ?? 0) + 1), new Map<string, number>()).values(),
    ].sort();
    expect(perMaster).toEqual([5, 5, 6]);
  });

  test('workflows run on the Cluster: every master holds workflow keys; list pages merge the shards and count sums them', async () => {
    const t = await clusterApp();
    const ids = Array.from({ length: 30 }, (_, i) => `spread-${i}`);
    const handles = [];
    for (const [i, workflowId] of ids.entries())
      handles.push(await t.client.start(SpreadWorkflow, { workflowId, args: [i] }));
    expect(await Promise.all(handles.map((h) => h.result()))).toEqual(ids.map((_, i) => 4 * i));

    const masters = cluster.nodes('master');
    const workflowKeys = await Promise.all(masters.map((m) => m.keys(`${t.prefix}:{*}:wf:*`)));
    expect(workflowKeys.map((keys) => keys.length > 0)).toEqual([true, true, true]);
    // Each workflow's keys share one slot: its shard's.
    for (const id of ids.slice(0, 5)) {
      const k = keyNames(t.prefix);
      expect(
        new Set(
          await Promise.all(
            [k.meta(id), k.history(id, handles[0].runId!), k.requests(id)].map((key) =>
              cluster.cluster('KEYSLOT', key),
            ),
          ),
        ).size,
      ).toBe(1);
    }

    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await t.client.list({ type: 'SpreadWorkflow', limit: 7, cursor });
      seen.push(...page.workflows.map((w) => w.workflowId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    expect(await t.client.count({ status: 'completed' })).toBe(30);
    expect(await t.client.count({ type: 'SpreadWorkflow', status: 'completed' })).toBe(30);
  });

  test("a task queue's partitions each get the jobs of their workflows; another partition count for it is refused", async () => {
    // Activities queued (not eager), so that each partition's queue holds its workflows' jobs.
    const t = await clusterApp({ partitions: { spread: 3 }, eagerActivities: false });
    const ids = Array.from({ length: 9 }, (_, i) => `part-${i}`);
    for (const [i, workflowId] of ids.entries())
      expect(await t.client.execute(SpreadWorkflow, { workflowId, args: [i] })).toBe(4 * i);
    const queues = t.app.get((await import('redurable')).DurableQueues).of('spread');
    expect(queues.partitions.map((p) => p.activities.name)).toEqual([
      '{spread-activities}',
      '{spread-activities#1}',
      '{spread-activities#2}',
    ]);
    const completed = await Promise.all(
      queues.partitions.map(async (p) =>
        (await p.activities.getJobs(['completed'])).map((j) => j.data.workflowId as string).sort(),
      ),
    );
    expect(completed).toEqual(
      [0, 1, 2].map((p) =>
        ids
          .filter((id) => partitionOf(id, 3) === p)
          .flatMap((id) => [id, id])
          .sort(),
      ),
    );

    const changed = await createTestApp([SpreadActivities, SpreadWorkflow], {
      connection: { cluster: testClusterNodes() },
      prefix: t.prefix,
      partitions: { spread: 2 },
    }).catch((e: unknown) => e);
    expect(changed).toBeInstanceOf(InvalidOptionsError);
    expect((changed as Error).message).toBe(
      `Invalid DurableModule options: partitions of task queue 'spread' is 2, but 3 is recorded under prefix '${t.prefix}'. ` +
        'The count of a task queue cannot change while it has jobs: use the recorded count (or drain the task queue and use a new prefix)',
    );
  });

  test('a prefix keeps the shard count it was created with: another is refused, none takes the recorded one', async () => {
    const prefix = `shards-${randomUUID().slice(0, 8)}`;
    const first = await clusterApp({ prefix, shards: 6 });
    expect(await cluster.get(`${prefix}:layout`)).toBe('2:6');
    await first.client.execute(SpreadWorkflow, { workflowId: 'six', args: [1] });
    const other = await createTestApp([], { connection: { cluster: testClusterNodes() }, prefix, shards: 12 }).catch(
      (e: unknown) => e,
    );
    expect(other).toBeInstanceOf(InvalidOptionsError);
    expect((other as Error).message).toBe(
      `Invalid DurableModule options: shards is 12, but prefix '${prefix}' was created with 6 shards. ` +
        'The shard count of a prefix cannot change: leave shards out (or set it to the recorded count), or use a new prefix',
    );
    const again = await clusterApp({ prefix, worker: false });
    expect(await again.client.getHandle('six').result()).toBe(4);
    expect(await again.client.count()).toBe(1);
  });
});
