import { afterEach, describe, expect, test } from '@jest/globals';
import {
  NoWorkerAnsweredError,
  Query,
  Signal,
  UnknownQueryError,
  Update,
  Workflow,
  WorkflowRun,
  WorkflowUpdateRejectedError,
  type HistoryEvent,
} from 'redurable';
import { allHandlersFinished, condition } from 'redurable/workflow';
import { Redis } from 'ioredis';
import { createTestApp, keysUnder, type TestApp } from '../support/test-app.js';
import { until } from '../support/until.js';

/** How many times the worker built an instance of the workflow (each replay builds one). */
let instances = 0;

@Workflow({ taskQueue: 'remote-messages' })
class TallyWorkflow {
  private total = 0;
  private done = false;

  constructor() {
    instances++;
  }

  @WorkflowRun()
  async run(start: number): Promise<number> {
    this.total = start;
    await condition(() => this.done);
    await condition(allHandlersFinished);
    return this.total;
  }

  @Query() tally(times = 1): number {
    return this.total * times;
  }

  @Signal() add(n: number): void {
    this.total += n;
  }

  @Signal() finish(): void {
    this.done = true;
  }

  @Update({
    validator(this: TallyWorkflow, n: number) {
      if (!Number.isInteger(n) || n <= 0) throw new Error(`n must be a positive whole number (got ${n})`);
    },
  })
  async addChecked(n: number): Promise<number> {
    this.total += n;
    return this.total;
  }
}

const apps: TestApp[] = [];
const app = async (...args: Parameters<typeof createTestApp>) => {
  const t = await createTestApp(...args);
  apps.push(t);
  return t;
};

afterEach(async () => {
  for (const t of apps.splice(0).reverse()) await t.close();
});

/** A worker that has the class, and a client-only app on the same prefix that does not. */
async function workerAndCaller(callerOptions: Parameters<typeof createTestApp>[1] = {}) {
  const worker = await app([TallyWorkflow]);
  const caller = await app([], { prefix: worker.prefix, worker: false, ...callerOptions });
  return { worker, caller };
}

const types = (history: HistoryEvent[]) => history.map((e) => e.type);

describe('queries and updates from a process without the workflow class', () => {
  test('a worker answers the query from its cache (no replay), and after a restart by replaying', async () => {
    const { worker, caller } = await workerAndCaller();
    await worker.client.start(TallyWorkflow, { workflowId: 'tally-1', args: [5] });
    const handle = caller.client.getHandle('tally-1');
    await handle.signal('add', 2);
    // At once, whether or not the worker has run the signal yet: the answer includes it.
    expect(await handle.query('tally')).toBe(7);
    // Once its task ran, the worker holds the execution in its cache and answers without replaying.
    await until("a query answered from the worker's cache", async () => {
      const before = instances;
      return (await handle.query('tally', 3)) === 21 && instances === before;
    });

    // The worker restarts: its cache is gone, a new worker replays the history to answer.
    await worker.close();
    apps.splice(apps.indexOf(worker), 1);
    const restarted = await app([TallyWorkflow], { prefix: worker.prefix });
    expect(restarted.prefix).toBe(caller.prefix);
    const replays = instances;
    expect(await caller.client.getHandle('tally-1').query('tally', 2)).toBe(14);
    expect(instances).toBeGreaterThan(replays);
    // A closed run is answered by replay too.
    await handle.signal('finish');
    await expect(handle.result()).resolves.toBe(7);
    expect(await handle.query('tally')).toBe(7);
    // An unknown query keeps its type and message across the processes.
    const unknown = await handle.query('nope').catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(UnknownQueryError);
    expect((unknown as Error).message).toBe("Workflow 'TallyWorkflow' has no query 'nope': known queries are tally");
  });

  test('an update is validated and recorded by a worker; rejections, dedupe and results reach the caller', async () => {
    const { worker, caller } = await workerAndCaller();
    await worker.client.start(TallyWorkflow, { workflowId: 'tally-2', args: [1] });
    const handle = caller.client.getHandle('tally-2');
    expect(await handle.executeUpdate('addChecked', 4)).toBe(5);

    const rejected = await handle.executeUpdate('addChecked', -1).catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(WorkflowUpdateRejectedError);
    expect((rejected as Error).message).toBe(
      "Update 'addChecked' of workflow 'tally-2' was rejected by its validator: n must be a positive whole number (got -1). Nothing was recorded",
    );

    const first = await handle.startUpdateWithId('req-1', 'addChecked', 10);
    const again = await handle.startUpdateWithId('req-1', 'addChecked', 10);
    expect(await first.result()).toBe(15);
    expect(await again.result()).toBe(15);
    const history = await handle.fetchHistory();
    expect(
      history.filter((e) => e.type === 'WorkflowUpdateAccepted').map((e) => (e as { updateName: string }).updateName),
    ).toEqual(['addChecked', 'addChecked']); // the rejected one is not recorded, req-1 once
    expect(await handle.query('tally')).toBe(15);
    await handle.signal('finish');
    await expect(handle.result()).resolves.toBe(15);
  });

  test('with no worker serving the task queue, a typed error within the timeout, and nothing recorded', async () => {
    const worker = await app([TallyWorkflow]);
    const started = await worker.client.start(TallyWorkflow, { workflowId: 'tally-3', args: [1] });
    await worker.close();
    apps.splice(apps.indexOf(worker), 1);
    const caller = await app([], { prefix: worker.prefix, worker: false, connectTimeout: '1s' });
    const handle = caller.client.getHandle('tally-3');
    const historyBefore = await handle.fetchHistory();

    const began = Date.now();
    const query = await handle.query('tally').catch((e: unknown) => e);
    expect(Date.now() - began).toBeLessThan(10_000);
    expect(query).toBeInstanceOf(NoWorkerAnsweredError);
    expect((query as Error).message).toBe(
      `No worker serving task queue 'remote-messages' answered query 'tally' of workflow 'tally-3' (run ${started.runId}) within 1000 ms. ` +
        "This process does not register the workflow's class (TallyWorkflow), so a worker that does must answer: " +
        "start one for task queue 'remote-messages' (DurableModule.forFeature([TallyWorkflow])), " +
        'or register the class in this process to query it here',
    );
    expect(query).toMatchObject({
      workflowId: 'tally-3',
      runId: started.runId,
      messageName: 'tally',
      taskQueue: 'remote-messages',
      timeoutMs: 1000,
    });

    const update = await handle.executeUpdate('addChecked', 1).catch((e: unknown) => e);
    expect(update).toBeInstanceOf(NoWorkerAnsweredError);
    expect((update as Error).message).toContain(
      `No worker serving task queue 'remote-messages' answered update 'addChecked' of workflow 'tally-3' (run ${started.runId}) within 1000 ms`,
    );
    expect((update as Error).message).toContain('Nothing was recorded');
    // Nothing recorded, and no request left behind for a worker that starts later.
    expect(await handle.fetchHistory()).toEqual(historyBefore);
    expect((await keysUnder(caller.redis, caller.prefix)).filter((k) => k.includes('worker-messages'))).toEqual([]);
  });

  test('a request pushed twice (a push resent after a lost reply) and withdrawn leaves no copy for a later worker to record', async () => {
    const worker = await app([TallyWorkflow]);
    await worker.client.start(TallyWorkflow, { workflowId: 'tally-4', args: [1] });
    await worker.close();
    apps.splice(apps.indexOf(worker), 1);
    const caller = await app([], { prefix: worker.prefix, worker: false, connectTimeout: '1s' });
    // ioredis resends a command whose reply was lost when it reconnects: LPUSH is not idempotent.
    const commander = Object.getPrototypeOf(Redis.prototype) as { lpush: (...args: unknown[]) => Promise<number> };
    const lpush = commander.lpush;
    commander.lpush = async function (this: unknown, key: unknown, ...rest: unknown[]) {
      if (String(key).includes('{worker-messages}')) await lpush.call(this, key, ...rest);
      return lpush.call(this, key, ...rest);
    };
    let update: unknown;
    try {
      update = await caller.client
        .getHandle('tally-4')
        .executeUpdate('addChecked', 1)
        .catch((e: unknown) => e);
    } finally {
      commander.lpush = lpush;
    }
    expect(update).toMatchObject({ name: 'NoWorkerAnsweredError', taken: false });
    expect((update as Error).message).toContain('Nothing was recorded');
    // Neither copy is left on the list (a worker starting now would have recorded the update).
    expect((await keysUnder(caller.redis, caller.prefix)).filter((k) => k.includes('{worker-messages}'))).toEqual([]);
  });
});
