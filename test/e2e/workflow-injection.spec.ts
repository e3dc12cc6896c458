import { afterEach, describe, expect, test } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import {
  Activities,
  Activity,
  ActivityOptions,
  DurableModule,
  InvalidWorkflowClassError,
  LocalActivityOptions,
  Query,
  Workflow,
  WorkflowRun,
  type HistoryEvent,
} from 'redurable';
import { createTestApp, type TestApp } from '../support/test-app.js';

/** Workflow instances created, by class: the library makes one per execution (and per query replay). */
const created: string[] = [];

@Injectable()
@Activities()
class BankActivities {
  @Activity() async debit(account: string, amount: number): Promise<string> {
    return `debited ${amount} from ${account}`;
  }
}

@Injectable()
@Activities()
class FxActivities {
  @Activity() async convert(amount: number): Promise<number> {
    return amount * 2;
  }
}

@Injectable()
@Activities()
class FeeActivities {
  @Activity() async fee(amount: number): Promise<number> {
    return Math.round(amount / 100);
  }
}

@Workflow({ taskQueue: 'injection' })
class PaymentWorkflow {
  private stage = 'created';

  constructor(
    private readonly bank: BankActivities,
    @ActivityOptions({ startToCloseTimeout: '10s', retry: { maximumAttempts: 3 } }) private readonly fx: FxActivities,
    @LocalActivityOptions({ startToCloseTimeout: '2s' }) private readonly fees: FeeActivities,
  ) {
    created.push('PaymentWorkflow');
  }

  @WorkflowRun()
  async run(account: string, amount: number): Promise<string> {
    const converted = await this.fx.convert(amount);
    const fee = await this.fees.fee(converted);
    this.stage = 'converted';
    const debit = await this.bank.debit(account, converted + fee);
    this.stage = 'debited';
    return debit;
  }

  @Query() current(): string {
    return this.stage;
  }
}

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
  created.length = 0;
});

const scheduled = (history: HistoryEvent[]) =>
  history.flatMap((e) =>
    e.type === 'ActivityTaskScheduled'
      ? [{ activityType: e.activityType, local: e.local !== undefined, options: e.options }]
      : [],
  );

test('a workflow registered with DurableModule.forFeature gets its @Activities constructor parameters as durable proxies, with the options of @ActivityOptions and @LocalActivityOptions', async () => {
  t = await createTestApp([BankActivities, FxActivities, FeeActivities], {}, [
    DurableModule.forFeature([PaymentWorkflow]),
  ]);
  expect(created).toEqual([]); // Nest did not create the workflow: the library does, per execution
  const handle = await t.client.start(PaymentWorkflow, { workflowId: 'pay-1', args: ['acc-1', 5000] });
  await expect(handle.result()).resolves.toBe('debited 10100 from acc-1');
  expect(scheduled(await handle.fetchHistory())).toEqual([
    {
      activityType: 'convert',
      local: false,
      options: { taskQueue: 'injection', startToCloseTimeoutMs: 10_000, retry: { maximumAttempts: 3 } },
    },
    {
      activityType: 'fee',
      local: true,
      options: { taskQueue: 'injection', startToCloseTimeoutMs: 2000, localRetryThresholdMs: 1000 },
    },
    { activityType: 'debit', local: false, options: { taskQueue: 'injection' } },
  ]);
  // A query replays the history in this process through a new instance with the same proxies.
  await expect(handle.query('current')).resolves.toBe('debited');
});

test('a workflow listed in providers is injected the same way (Nest resolves its constructor, the library runs its own instances)', async () => {
  t = await createTestApp([BankActivities, FxActivities, FeeActivities, PaymentWorkflow]);
  await expect(t.client.execute(PaymentWorkflow, { workflowId: 'pay-2', args: ['acc-2', 10] })).resolves.toBe(
    'debited 20 from acc-2',
  );
});

describe('an injected @Activities class that is not a provider', () => {
  @Workflow({ taskQueue: 'injection-remote' })
  class RemoteFxWorkflow {
    constructor(@ActivityOptions({ taskQueue: 'fx-service' }) private readonly fx: FxActivities) {}
    @WorkflowRun() async run(amount: number): Promise<number> {
      return this.fx.convert(amount);
    }
  }

  test('stops the app at boot, naming the workflow, the class and the fix', async () => {
    const boot = createTestApp([BankActivities, FeeActivities], {}, [DurableModule.forFeature([PaymentWorkflow])]);
    await expect(boot).rejects.toThrow(InvalidWorkflowClassError);
    await expect(boot).rejects.toThrow(
      "Workflow PaymentWorkflow takes FxActivities in its constructor, but FxActivities is not a provider of this app, so its activities (task queue 'injection', served here) would fail on every attempt: " +
        "add FxActivities to a module's providers (as in @Module({ imports: [DurableModule.forFeature([PaymentWorkflow])], providers: [FxActivities] }))",
    );
  });

  // (A workflow listed in providers already fails at boot: Nest cannot resolve its constructor.)
  test('a local-activities parameter always needs its class here: local activities run in the workflow task', async () => {
    const boot = createTestApp([BankActivities, FxActivities], {}, [DurableModule.forFeature([PaymentWorkflow])]);
    await expect(boot).rejects.toThrow(
      'Workflow PaymentWorkflow takes FeeActivities in its constructor, but FeeActivities is not a provider of this app, so its activities (local activities, run in the workflow task) would fail on every attempt',
    );
  });

  test('boots when the activities run elsewhere: a task queue this process does not serve, or a client-only app', async () => {
    t = await createTestApp([], {}, [DurableModule.forFeature([RemoteFxWorkflow])]);
    await t.close();
    t = await createTestApp([], { worker: false }, [DurableModule.forFeature([PaymentWorkflow])]);
    // The client-only app still starts the workflow (a worker elsewhere runs it).
    await expect(
      t.client.start(PaymentWorkflow, { workflowId: 'pay-remote', args: ['acc', 1] }),
    ).resolves.toBeDefined();
  });
});
