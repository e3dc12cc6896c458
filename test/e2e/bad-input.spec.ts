import { afterEach, describe, expect, test } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import {
  Activities,
  Activity,
  DuplicateRegistrationError,
  InvalidOptionsError,
  InvalidWorkflowClassError,
  PayloadError,
  PayloadTooLargeError,
  UnknownWorkflowTypeError,
  UnknownQueryError,
  Workflow,
  WorkflowAlreadyStartedError,
  WorkflowRun,
  type Duration,
} from 'redurable';
import { proxyActivities, sleep } from 'redurable/workflow';
import { createTestApp, keysUnder, type TestApp, keyNames } from '../support/test-app.js';
import { until } from '../support/until.js';

@Injectable()
@Activities()
class EchoActivities {
  @Activity() async echo(value: unknown): Promise<unknown> {
    return value;
  }
}

@Workflow({ taskQueue: 'bad-input' })
class WaitingWorkflow {
  private readonly acts = proxyActivities(EchoActivities);

  @WorkflowRun()
  async run(value: unknown) {
    await sleep(60_000);
    return this.acts.echo(value);
  }
}

@Injectable()
@Activities()
class OtherEchoActivities {
  @Activity() async echo(value: unknown): Promise<unknown> {
    return value;
  }
}

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** Sleeps for a duration computed at run time (here, passed in). */
@Workflow({ taskQueue: 'bad-input' })
class ComputedSleepWorkflow {
  @WorkflowRun()
  async run(duration: string): Promise<string> {
    await sleep(duration as Duration);
    return 'slept';
  }
}

describe('bad input gets a typed error and writes nothing', () => {
  test('unknown workflow type', async () => {
    t = await createTestApp([EchoActivities, WaitingWorkflow]);
    const before = await keysUnder(t.redis, t.prefix);
    const err = await t.client.start('NoSuchWorkflow', { workflowId: 'x-1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownWorkflowTypeError);
    expect((err as Error).message).toContain("Unknown workflow type 'NoSuchWorkflow'");
    expect(await keysUnder(t.redis, t.prefix)).toEqual(before);
  });

  test('a @Workflow class that no process registered is refused by start(), nothing written', async () => {
    // A client-only app whose module never registered WaitingWorkflow, on a prefix no worker used.
    t = await createTestApp([], { worker: false });
    const before = await keysUnder(t.redis, t.prefix);
    const err = await t.client.start(WaitingWorkflow, { workflowId: 'x-unregistered' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownWorkflowTypeError);
    expect((err as Error).message).toContain(
      "Unknown workflow type 'WaitingWorkflow': no process of this prefix registered it. Decorate the class with @Workflow() and register it in the worker's module with DurableModule.forFeature([WaitingWorkflow])",
    );
    expect(await keysUnder(t.redis, t.prefix)).toEqual(before);
  });

  test('a client without the workflow class starts it by the name a worker registered', async () => {
    const workerApp = await createTestApp([EchoActivities, WaitingWorkflow]);
    // A client-only app that does not have the class: only the worker's registration in Redis knows the name.
    t = await createTestApp([], { prefix: workerApp.prefix, worker: false });
    try {
      const handle = await t.client.start('WaitingWorkflow', {
        workflowId: 'by-name',
        taskQueue: 'bad-input',
        args: [1],
      });
      expect((await handle.describe()).workflowType).toBe('WaitingWorkflow');
      // The class is not registered here: the worker, which has it, answers the query (and refuses an unknown name).
      await expect(handle.query('anything')).rejects.toBeInstanceOf(UnknownQueryError);
      await expect(t.client.start('WaitingWorkflowTypo', { workflowId: 'by-name-2' })).rejects.toBeInstanceOf(
        UnknownWorkflowTypeError,
      );
    } finally {
      await workerApp.close();
    }
  });

  test('non-serializable arguments', async () => {
    t = await createTestApp([EchoActivities, WaitingWorkflow]);
    const before = await keysUnder(t.redis, t.prefix);
    const fn = await t.client
      .start(WaitingWorkflow, {
        workflowId: 'x-2',
        args: [{ order: { items: [{ sku: 'a' }, { callback: () => 1 }] } }],
      })
      .catch((e: unknown) => e);
    expect(fn).toBeInstanceOf(PayloadError);
    expect((fn as Error).message).toBe(
      "Cannot serialize argument 1 of workflow 'WaitingWorkflow' (x-2): the value at order.items[1].callback is a function, which cannot be stored: " +
        'pass data (objects, arrays, strings, numbers, booleans, null, dates, maps, sets, bigints)',
    );
    const symbol = await t.client
      .start(WaitingWorkflow, { workflowId: 'x-3', args: [new Map([['tag', Symbol('x')]])] })
      .catch((e: unknown) => e);
    expect(symbol).toBeInstanceOf(PayloadError);
    expect((symbol as Error).message).toContain('the value at ["tag"] is a symbol');
    expect(await keysUnder(t.redis, t.prefix)).toEqual(before);
  });

  test('oversized payload', async () => {
    t = await createTestApp([EchoActivities, WaitingWorkflow], { maxPayloadBytes: 1024 });
    const before = await keysUnder(t.redis, t.prefix);
    const err = await t.client
      .start(WaitingWorkflow, { workflowId: 'x-5', args: ['x'.repeat(2000)] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PayloadTooLargeError);
    expect((err as Error).message).toMatch(/is 2002 bytes, over the limit of 1024 \(maxPayloadBytes\)/);
    expect(await keysUnder(t.redis, t.prefix)).toEqual(before);
  });

  test('duplicate running workflow id', async () => {
    t = await createTestApp([EchoActivities, WaitingWorkflow]);
    const first = await t.client.start(WaitingWorkflow, { workflowId: 'dup-1', args: ['first'] });
    for (let i = 0; i < 100 && !(await first.fetchHistory()).some((e) => e.type === 'TimerStarted'); i++)
      await new Promise((r) => setTimeout(r, 20));
    const historyBefore = await first.fetchHistory();
    const metaBefore = await t.redis.hgetall(keyNames(t.prefix).meta('dup-1'));
    const keysBefore = await keysUnder(t.redis, t.prefix);
    const err = await t.client
      .start(WaitingWorkflow, { workflowId: 'dup-1', args: ['second'] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowAlreadyStartedError);
    expect((err as Error).message).toContain(`Workflow 'dup-1' is already running (run ${first.runId})`);
    expect(await first.fetchHistory()).toEqual(historyBefore);
    const metaAfter = await t.redis.hgetall(keyNames(t.prefix).meta('dup-1'));
    expect(metaAfter.runId).toBe(metaBefore.runId);
    expect(await keysUnder(t.redis, t.prefix)).toEqual(keysBefore);
  });

  test('invalid module options stop the app with a message naming the option', async () => {
    const err = await createTestApp([EchoActivities, WaitingWorkflow], {
      concurrency: -1,
      prefix: 'has:colon',
      leaseTtl: 'soon' as Duration,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidOptionsError);
    const message = (err as Error).message;
    expect(message).toContain('concurrency must not be less than 1');
    expect(message).toContain('prefix may only hold letters');
    expect(message).toContain('leaseTtl must be milliseconds or a duration like \'30s\' (got "soon")');
    const unknown = await createTestApp([], { concurency: 3 } as never).catch((e: unknown) => e);
    expect((unknown as Error).message).toContain('unknown option(s): concurency');
    const noConnection = await createTestApp([], { connection: 42 } as never).catch((e: unknown) => e);
    expect((noConnection as Error).message).toContain(
      'connection must be a redis:// URL, ioredis options or an ioredis instance (got 42)',
    );
  });

  test('a connection object with fields ioredis does not know is refused, not silently localhost:6379', async () => {
    const typo = await createTestApp([], { connection: { host: '127.0.0.1', prot: 6380 } } as never).catch(
      (e: unknown) => e,
    );
    expect(typo).toBeInstanceOf(InvalidOptionsError);
    expect((typo as Error).message).toBe(
      'Invalid DurableModule options: connection has option(s) that are not ioredis options: prot (check the spelling)',
    );
    const noNodes = await createTestApp([], { connection: { cluster: [] } }).catch((e: unknown) => e);
    expect(noNodes).toBeInstanceOf(InvalidOptionsError);
    expect((noNodes as Error).message).toBe(
      "Invalid DurableModule options: connection.cluster must be a non-empty list of nodes, { host, port } or 'host:port' (got [])",
    );
    const misplaced = await createTestApp([], {
      connection: { cluster: ['127.0.0.1:7000'], redisOptions: {} } as never,
    }).catch((e: unknown) => e);
    expect((misplaced as Error).message).toBe(
      "Invalid DurableModule options: connection { cluster } takes only 'cluster' and 'options' (got redisOptions): put ioredis Cluster options under 'options'",
    );
    const prefixed = await createTestApp([], { connection: { host: '127.0.0.1', keyPrefix: 'app:' } }).catch(
      (e: unknown) => e,
    );
    expect((prefixed as Error).message).toContain(
      "connection.keyPrefix is not supported (BullMQ cannot use it): set DurableModule's `prefix` instead",
    );
    const badUrl = await createTestApp([], { connection: 'localhost:6379' }).catch((e: unknown) => e);
    expect((badUrl as Error).message).toContain(
      'connection must be a redis:// or rediss:// URL (got "localhost:6379")',
    );
  });

  test('a workflow constructor parameter that is not an @Activities class stops the app, naming the class, the parameter and why', async () => {
    @Injectable()
    class PricingService {
      price(): number {
        return 1;
      }
    }
    @Workflow({ taskQueue: 'bad-input' })
    class InjectedWorkflow {
      constructor(
        private readonly echo: EchoActivities,
        private readonly pricing: PricingService,
      ) {}
      @WorkflowRun() async run(): Promise<unknown> {
        return this.echo.echo(this.pricing.price());
      }
    }
    const err = await createTestApp([EchoActivities, PricingService, InjectedWorkflow]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidWorkflowClassError);
    expect((err as Error).message).toContain(
      "Workflow InjectedWorkflow has a constructor parameter 'pricing' (PricingService) that cannot be injected: PricingService is not an @Activities class",
    );
    expect((err as Error).message).toContain('Workflow code must be deterministic: do I/O inside activities');
  });

  test('two activities with the same name stop the app with a clear error', async () => {
    const err = await createTestApp([EchoActivities, OtherEchoActivities]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DuplicateRegistrationError);
    expect((err as Error).message).toContain(
      "Two activities are named 'echo' (EchoActivities.echo and OtherEchoActivities.echo)",
    );
  });

  test('an invalid duration computed in workflow code fails the workflow task (nothing recorded, retried), not the workflow', async () => {
    t = await createTestApp([EchoActivities, ComputedSleepWorkflow]);
    const handle = await t.client.start(ComputedSleepWorkflow, { workflowId: 'bad-duration', args: ['3 weeks'] });
    const described = await until('the task failure', async () => {
      const d = await handle.describe();
      return d.taskFailure && d;
    });
    expect(described.status).toBe('running');
    expect(described.taskFailure!.message).toBe(
      "InvalidDurationError: Invalid duration '3 weeks': use milliseconds or a string like '500ms', '30s', '5m', '2h', '3 days'",
    );
    expect((await handle.fetchHistory()).map((e) => e.type)).toEqual(['WorkflowExecutionStarted']);
    const ok = await t.client.start(ComputedSleepWorkflow, { workflowId: 'good-duration', args: ['50ms'] });
    expect(await ok.result()).toBe('slept');
  });
});
