/** Review findings (issue 23 sandbox and bootchecks): regressions found by review. */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import 'reflect-metadata';
import { Workflow, WorkflowRun, Query } from '../../libs/redurable/src/core/definitions/workflow.decorator.js';
import { Activities, Activity } from '../../libs/redurable/src/core/definitions/activity.decorator.js';
import { DurableRegistry } from '../../libs/redurable/src/core/definitions/registry.js';
import { installDeterminism } from '../../libs/redurable/src/workflow/determinism.js';
import { asDeclaredTypes } from '../../libs/redurable/src/core/payload/declared-types.js';
import { executeActivity } from '../../libs/redurable/src/workflow/workflow-api.js';
import { activationOf, completed, RecordedHistory, started, activity } from './support/histories.js';

let release: () => void;
beforeAll(() => {
  release = installDeterminism();
});
afterAll(() => release());

@Activities()
class PaymentActivities {
  @Activity() async charge(amount: number): Promise<string> {
    return `charged ${amount}`;
  }
}
/** What a module provides for PaymentActivities: `{ provide: PaymentActivities, useClass: StripeActivities }`. */
class StripeActivities extends PaymentActivities {
  override async charge(amount: number): Promise<string> {
    return `stripe ${amount}`;
  }
}

@Workflow({ taskQueue: 'pay' })
class PayWorkflow {
  constructor(private readonly payments: PaymentActivities) {}
  @WorkflowRun() async run(amount: number): Promise<string> {
    return this.payments.charge(amount);
  }
}

describe('boot check of injected activities', () => {
  test('a subclass provided for the injected class (useClass) registers its activities: the app boots', () => {
    const registry = new DurableRegistry();
    registry.addWorkflow(PayWorkflow);
    registry.addActivities(new StripeActivities(), ['charge']);
    expect(registry.activities.has('charge')).toBe(true);
    expect(() => registry.checkInjectedActivities(['pay'])).not.toThrow();
  });
  test('a class whose activities are not registered still stops the app', () => {
    const registry = new DurableRegistry();
    registry.addWorkflow(PayWorkflow);
    expect(() => registry.checkInjectedActivities(['pay'])).toThrow(/not a provider/);
  });
});

class OrderInput {
  amount = 0;
  approved?: boolean;
  total(): number {
    return this.amount;
  }
}
class Handler {
  @Reflect.metadata('design:paramtypes', [OrderInput])
  run(_input: OrderInput): void {}
}

describe('declared-class arguments', () => {
  test('a "__proto__" key in an argument does not replace the instance prototype', () => {
    const arg = JSON.parse('{"amount": 5, "__proto__": {"approved": true}}') as object;
    const [typed] = asDeclaredTypes(Handler.prototype, 'run', [arg]) as OrderInput[];
    expect(typed).toBeInstanceOf(OrderInput);
    expect(typed.approved).toBeUndefined();
    expect(typed.total()).toBe(5);
  });
});

@Workflow()
class Queried {
  private id = '';
  @WorkflowRun() async run(): Promise<string> {
    await executeActivity('a', []);
    this.id = crypto.randomUUID();
    await executeActivity('b', [this.id]);
    return this.id;
  }
  @Query() peek(): string {
    return crypto.randomUUID();
  }
  @Query() fetchy(): unknown {
    return fetch('http://localhost:1');
  }
}

describe('a query on the cached execution', () => {
  test('a query calling a forbidden API fails the query, not the next workflow task', async () => {
    const history = new RecordedHistory(started('Queried'));
    const activation = activationOf(Queried, history);
    await activation.activate(history.stored());
    history.add(activity(1, 'a'));
    const before = history.events.length;
    await expect(activation.query('fetchy', [])).rejects.toThrow(/fetch/);
    history.add(completed(1, null));
    await expect(activation.activate(history.stored(before))).resolves.toBeUndefined();
  });
  test('a query drawing random values leaves the run generator as a replay has it', async () => {
    const history = new RecordedHistory(started('Queried'));
    const activation = activationOf(Queried, history);
    await activation.activate(history.stored());
    history.add(activity(1, 'a'));
    const before = history.events.length;
    await activation.query('peek', []);
    history.add(completed(1, null));
    await activation.activate(history.stored(before));
    const [cmd] = activation.takeCommands().filter((c) => c.type === 'ActivityTaskScheduled' && c.seq === 2);
    // A fresh replay of the same history must produce the same id.
    const fresh = activationOf(Queried, history);
    await fresh.activate(history.stored());
    const [again] = fresh.takeCommands().filter((c) => c.type === 'ActivityTaskScheduled' && c.seq === 2);
    expect((cmd as { input: string[] }).input).toEqual((again as { input: string[] }).input);
  });
});
