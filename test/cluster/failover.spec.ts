import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { Cluster, Redis } from 'ioredis';
import { Activities, Activity, Workflow, WorkflowRun } from 'redurable';
import { proxyActivities, sleep } from 'redurable/workflow';
import { startEmbeddedCluster, type EmbeddedCluster } from '../../tools/embedded-cluster.js';
import { createTestApp, keyNames, type TestApp } from '../support/test-app.js';
import { until } from '../support/until.js';

/**
 * A master of a Redis Cluster dies while workflows whose shards it holds are between steps;
 * its replica is promoted; those workflows (and the others) complete, each with its result.
 * Runs on a Cluster of its own (three masters, one replica each).
 */
let cluster: EmbeddedCluster;
let t: TestApp | undefined;

beforeAll(async () => {
  cluster = await startEmbeddedCluster(3, 1);
}, 60_000);

afterAll(async () => {
  await t?.close();
  await cluster?.stop();
});

@Injectable()
@Activities({ taskQueue: 'failover' })
class FailoverActivities {
  @Activity({ retry: { initialInterval: '200ms', maximumAttempts: 0 } })
  async add(a: number, b: number): Promise<number> {
    await new Promise((r) => setTimeout(r, 100));
    return a + b;
  }
}

@Workflow({ taskQueue: 'failover' })
class FailoverWorkflow {
  @WorkflowRun()
  async run(n: number): Promise<number> {
    const acts = proxyActivities(FailoverActivities);
    const one = await acts.add(n, 1);
    await sleep('2s');
    return acts.add(one, 10);
  }
}

/** `host:port` of the master owning each slot range. */
async function slotOwners(redis: Cluster): Promise<[number, number, number][]> {
  const ranges = (await redis.cluster('SLOTS')) as unknown as [number, number, [string, number]][];
  return ranges.map(([lo, hi, [, port]]) => [lo, hi, port]);
}

describe('a Redis Cluster failover', () => {
  test('a master dies mid-workflow, its replica is promoted, and the workflows on it complete', async () => {
    t = await createTestApp([FailoverActivities, FailoverWorkflow], { connection: { cluster: cluster.nodes } });
    const ids = Array.from({ length: 12 }, (_, i) => `fo-${i}`);
    const handles = await Promise.all(
      ids.map((workflowId, i) => t!.client.start(FailoverWorkflow, { workflowId, args: [i] })),
    );
    // Every workflow is parked on its timer: its first step is recorded.
    await until('every workflow to sleep', async () =>
      (await Promise.all(handles.map((h) => h.describe()))).every((d) => d.pendingTimers.length === 1),
    );

    const probe = new Cluster(cluster.nodes);
    const owners = await slotOwners(probe);
    const keys = keyNames(t.prefix);
    const masterOf = async (id: string) => {
      const slot = (await probe.cluster('KEYSLOT', keys.meta(id))) as number;
      return owners.find(([lo, hi]) => slot >= lo && slot <= hi)![2];
    };
    const masters = await Promise.all(ids.map(masterOf));
    const counts = new Map<number, number>();
    for (const port of masters) counts.set(port, (counts.get(port) ?? 0) + 1);
    const victim = [...counts].sort((a, b) => b[1] - a[1])[0][0];
    const onVictim = ids.filter((_, i) => masters[i] === victim);
    expect(onVictim.length).toBeGreaterThan(0);

    // The replica of the victim: the server whose ROLE names it as its master.
    let replicaPort: number | undefined;
    for (const server of cluster.servers) {
      if (server.port === victim) continue;
      const node = new Redis(server.port, '127.0.0.1');
      const role = (await node.role()) as unknown[];
      await node.quit();
      if (role[0] === 'slave' && Number(role[2]) === victim) replicaPort = server.port;
    }
    expect(replicaPort).toBeDefined();

    await cluster.servers.find((s) => s.port === victim)!.stop('SIGKILL');
    const replica = new Redis(replicaPort!, '127.0.0.1');
    await replica.cluster('FAILOVER', 'TAKEOVER');
    await until(
      'the replica to be a master',
      async () => ((await replica.role()) as unknown[])[0] === 'master',
      10_000,
    );
    await replica.quit();

    await probe.quit().catch(() => undefined);
    const results = await Promise.all(handles.map((h) => h.result()));
    expect(results).toEqual(ids.map((_, i) => i + 11));
    const described = await Promise.all(onVictim.map((id) => t!.client.getHandle(id).describe()));
    expect(described.map((d) => d.status)).toEqual(onVictim.map(() => 'completed'));
  }, 90_000);
});
