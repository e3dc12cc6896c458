/**
 * The replayer (workflow/activation.ts) fed recorded histories, with no store: each test drives
 * a small workflow class event by event and compares the commands that come out, then replays
 * the history it recorded into a fresh execution, which must produce nothing new and end the same.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import 'reflect-metadata';
import { Signal, Update, Workflow, WorkflowRun } from '../../libs/redurable/src/core/definitions/workflow.decorator.js';
import type { Duration } from '../../libs/redurable/src/core/duration.js';
import { InvalidSearchAttributeError } from '../../libs/redurable/src/core/errors/search.errors.js';
import { UnknownUpdateError, WorkflowUpdateRejectedError } from '../../libs/redurable/src/core/errors/update.errors.js';
import { CancelledFailure } from '../../libs/redurable/src/core/errors/workflow-control.js';
import { CancellationScope } from '../../libs/redurable/src/workflow/cancellation-scope.js';
import { installDeterminism } from '../../libs/redurable/src/workflow/determinism.js';
import {
  executeActivity,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '../../libs/redurable/src/workflow/workflow-api.js';
import { condition, continueAsNew, nonCancellable } from '../../libs/redurable/src/workflow/workflow-control-api.js';
import {
  activationOf,
  activity,
  completed,
  Driver,
  fired,
  p,
  RecordedHistory,
  signal,
  started,
} from './support/histories.js';

let release: () => void;
beforeAll(() => {
  release = installDeterminism();
});
afterAll(() => release());

@Workflow()
class Transfer {
  @WorkflowRun()
  async run(amount: number) {
    const id = await executeActivity<string>('withdraw', [amount]);
    await sleep('1s');
    const [fee, tax] = await Promise.all([executeActivity<number>('fee', [id]), executeActivity<number>('tax', [id])]);
    return { id, total: amount + fee + tax, at: Date.now() };
  }
}

describe('commands in order', () => {
  test('activities and timers come out one step at a time, with their sequence numbers', async () => {
    const d = new Driver(Transfer, [100]);
    expect(await d.step()).toEqual([activity(1, 'withdraw', [100])]);
    expect(await d.step(completed(1, 'tx-1', 2000))).toEqual([{ type: 'TimerStarted', seq: 2, durationMs: 1000 }]);
    expect(await d.step(fired(2, 3000))).toEqual([activity(3, 'fee', ['tx-1']), activity(4, 'tax', ['tx-1'])]);
    // Promise.all does not care in which order its members complete.
    expect(await d.step(completed(4, 2, 4000), completed(3, 1, 4001))).toEqual([]);
    expect(d.result()).toEqual({ id: 'tx-1', total: 103, at: 4001 });
    expect(await d.replay()).toEqual({ commands: [], closing: d.closing });
  });
});

@Workflow()
class Race {
  @WorkflowRun()
  async run() {
    const order: string[] = [];
    const track = <T>(name: string, promise: Promise<T>) => promise.then(() => (order.push(name), name));
    const calls = [
      track('slow', executeActivity('slow', [])),
      track('fast', executeActivity('fast', [])),
      track('timer', sleep('1m')),
    ];
    const winner = await Promise.race(calls);
    await Promise.all(calls);
    return { winner, order };
  }
}

describe('Promise.race and Promise.all', () => {
  test('resolve in history order, whatever the order of the calls', async () => {
    const fastFirst = new Driver(Race);
    await fastFirst.step();
    await fastFirst.step(completed(2, 'f'), fired(3), completed(1, 's'));
    expect(fastFirst.result()).toEqual({ winner: 'fast', order: ['fast', 'timer', 'slow'] });

    const timerFirst = new Driver(Race);
    await timerFirst.step();
    await timerFirst.step(fired(3));
    await timerFirst.step(completed(1, 's'), completed(2, 'f'));
    expect(timerFirst.result()).toEqual({ winner: 'timer', order: ['timer', 'slow', 'fast'] });

    // A replay of the whole history in one batch still resolves them one event at a time.
    expect((await fastFirst.replay()).closing).toEqual(fastFirst.closing);
    expect((await timerFirst.replay()).closing).toEqual(timerFirst.closing);
  });
});

@Workflow()
class Approval {
  private approved?: boolean;
  private readonly notes: string[] = [];

  @WorkflowRun()
  async run(timeout?: Duration) {
    const decided = () => this.approved !== undefined;
    const met = timeout === undefined ? await condition(decided) : await condition(decided, timeout);
    return { met, approved: this.approved ?? null, notes: this.notes };
  }

  @Signal()
  approve(ok: boolean) {
    this.approved = ok;
  }

  @Signal('add-note')
  note(text: string) {
    this.notes.push(text);
  }
}

describe('signals and condition()', () => {
  test('a condition is checked after each signal; events after the close are not delivered', async () => {
    const d = new Driver(Approval);
    expect(await d.step()).toEqual([]);
    expect(await d.step(signal('add-note', 'a'))).toEqual([]);
    expect(d.closing).toBeUndefined();
    expect(await d.step(signal('approve', true), signal('add-note', 'b'))).toEqual([]);
    // The code returned after `approve`, before the second note was delivered.
    expect(d.result()).toEqual({ met: true, approved: true, notes: ['a'] });
    expect((await d.replay()).closing).toEqual(d.closing);
  });

  test('with a timeout, a durable timer: false when it fires first, true when a signal comes first', async () => {
    const late = new Driver(Approval, ['1h']);
    expect(await late.step()).toEqual([{ type: 'TimerStarted', seq: 1, durationMs: 3_600_000 }]);
    await late.step(fired(1));
    expect(late.result()).toEqual({ met: false, approved: null, notes: [] });

    const early = new Driver(Approval, ['1h']);
    await early.step();
    await early.step(signal('approve', false));
    expect(early.result()).toEqual({ met: true, approved: false, notes: [] });
    expect((await early.replay()).closing).toEqual(early.closing);
  });
});

@Workflow()
class Charge {
  @WorkflowRun()
  async run() {
    const audit = nonCancellable(() => executeActivity<string>('audit', []));
    try {
      await executeActivity('charge', []);
      return 'charged';
    } catch (err) {
      if (!(err instanceof CancelledFailure)) throw err;
      // Refused at once, without a sequence number: the workflow was cancelled.
      const refused = await executeActivity('notify', []).then(
        () => 'ran',
        (e: Error) => e.message,
      );
      const audited = await audit;
      await nonCancellable(() => executeActivity('refund', [audited, refused]));
      throw err;
    }
  }
}

describe('cancellation', () => {
  test('a cancellation request rejects pending calls, nonCancellable ones go on, and the run ends canceled', async () => {
    const d = new Driver(Charge);
    expect(await d.step()).toEqual([{ ...activity(1, 'audit'), nonCancellable: true }, activity(2, 'charge')]);
    expect(await d.step({ type: 'WorkflowCancelRequested', reason: 'customer left' })).toEqual([]);
    expect(d.activation.cancelRequested).toBe(true);
    // The shielded audit was still waited for; the refund runs shielded too.
    expect(await d.step(completed(1, 'a-1'))).toEqual([
      {
        ...activity(3, 'refund', ['a-1', "Workflow 'w' was cancelled"]),
        nonCancellable: true,
      },
    ]);
    // The late outcome of the cancelled charge (seq 2) is ignored, not taken for an unknown call.
    expect(await d.step(completed(2, 'late'), completed(3, null))).toEqual([]);
    expect(d.closing?.status).toBe('canceled');
    expect(JSON.parse(d.closing!.value)).toMatchObject({
      kind: 'cancelled',
      message: "Workflow 'w' was cancelled: customer left",
    });
    const again = await d.replay();
    expect(again.commands).toEqual([]);
    expect(again.closing?.status).toBe('canceled');
    expect(JSON.parse(again.closing!.value).message).toBe("Workflow 'w' was cancelled: customer left");
  });
});

@Workflow()
class Quote {
  @WorkflowRun()
  async run() {
    const scope = new CancellationScope();
    const quote = scope.run(() => executeActivity<number>('quote', []));
    await sleep('1m');
    scope.cancel('too slow');
    const outcome = await quote.then(
      (q) => `quoted ${q}`,
      (e: Error) => `${e instanceof CancelledFailure}: ${e.message}`,
    );
    const again = await scope
      .run(() => sleep('1s'))
      .then(
        () => 'slept',
        (e: Error) => e.message,
      );
    await sleep('5s');
    return { outcome, again };
  }
}

describe('CancellationScope', () => {
  test('cancelling a scope rejects its pending calls and refuses new ones; a late outcome is ignored', async () => {
    const d = new Driver(Quote);
    expect(await d.step()).toEqual([activity(1, 'quote'), { type: 'TimerStarted', seq: 2, durationMs: 60_000 }]);
    // The refused sleep takes no sequence number: the next timer is seq 3.
    expect(await d.step(fired(2))).toEqual([{ type: 'TimerStarted', seq: 3, durationMs: 5000 }]);
    expect(await d.step(completed(1, 42), fired(3))).toEqual([]);
    const cancelled = "A cancellation scope of workflow 'w' was cancelled: too slow";
    expect(d.result()).toEqual({ outcome: `true: ${cancelled}`, again: cancelled });
    expect((await d.replay()).closing).toEqual(d.closing);
  });
});

@Workflow()
class Limits {
  private limit = 5;

  @WorkflowRun()
  async run() {
    await condition(() => this.limit > 10);
    return this.limit;
  }

  @Update({
    validator(n: number) {
      if (n <= 0) throw new Error('the limit must be positive');
    },
  })
  async setLimit(n: number) {
    const old = this.limit;
    this.limit = n;
    return old;
  }

  @Update()
  async explode() {
    throw new Error('no way');
  }
}

describe('updates', () => {
  const accepted = (updateId: string, updateName: string, ...args: unknown[]) => ({
    type: 'WorkflowUpdateAccepted' as const,
    updateId,
    updateName,
    input: args.map(p),
  });

  test('an accepted update runs its handler and records its result or failure as a WorkflowUpdateCompleted command', async () => {
    const d = new Driver(Limits);
    await d.step();
    const [failed] = await d.step(accepted('u1', 'explode'));
    expect(failed).toMatchObject({
      type: 'WorkflowUpdateCompleted',
      seq: 1,
      updateId: 'u1',
      failure: { message: 'no way' },
    });
    expect(await d.step(accepted('u2', 'setLimit', 20))).toEqual([
      { type: 'WorkflowUpdateCompleted', seq: 2, updateId: 'u2', result: p(5) },
    ]);
    expect(d.result()).toBe(20);
    expect(await d.replay()).toEqual({ commands: [], closing: d.closing });
  });

  test('an update of unknown name fails the update, not the workflow', async () => {
    const d = new Driver(Limits);
    await d.step();
    const [cmd] = await d.step(accepted('u1', 'nope'));
    expect(cmd).toMatchObject({ type: 'WorkflowUpdateCompleted', updateId: 'u1' });
    expect((cmd as { failure: { message: string } }).failure.message).toBe(
      "Workflow 'w' (Limits) has no update 'nope': known updates are setLimit, explode. Nothing was recorded; add an @Update() method of that name to the workflow class, or fix the name",
    );
    expect(d.closing).toBeUndefined();
  });

  test('validators run against the replayed state', async () => {
    const d = new Driver(Limits);
    await d.step();
    expect(() => d.activation.validateUpdate('setLimit', [0])).toThrow(WorkflowUpdateRejectedError);
    expect(() => d.activation.validateUpdate('setLimit', [0])).toThrow(
      "Update 'setLimit' of workflow 'w' was rejected by its validator: the limit must be positive. Nothing was recorded",
    );
    expect(() => d.activation.validateUpdate('setLimit', [11])).not.toThrow();
    expect(() => d.activation.validateUpdate('nope', [])).toThrow(UnknownUpdateError);
  });
});

@Workflow()
class Counter {
  @WorkflowRun()
  async run(n: number) {
    await sleep('1s');
    if (n < 3) continueAsNew(n + 1, 'carried');
    return n;
  }
}

describe('continueAsNew', () => {
  test("ends the run as continued with the next run's input", async () => {
    const d = new Driver(Counter, [1]);
    await d.step();
    expect(await d.step(fired(1))).toEqual([]);
    expect(d.closing).toEqual({
      status: 'continued',
      input: [p(2), p('carried')],
      value: JSON.stringify([p(2), p('carried')]),
    });
    expect((await d.replay()).closing).toEqual(d.closing);
    const last = new Driver(Counter, [3]);
    await last.step();
    await last.step(fired(1));
    expect(last.result()).toBe(3);
  });
});

@Workflow({ searchAttributes: { stage: 'keyword', amount: 'number' } })
class Tagged {
  @WorkflowRun()
  async run(bad: boolean) {
    upsertSearchAttributes(bad ? { colour: 'red' } : { stage: 'approved', amount: 12 });
    upsertSearchAttributes({ amount: null });
    return workflowInfo().searchAttributes;
  }
}

describe('search attributes', () => {
  const initial = { searchAttributes: { stage: { type: 'keyword' as const, value: 'new' } } };

  test('upserts are commands, applied to workflowInfo() at once', async () => {
    const d = new Driver(Tagged, [false], initial);
    expect(await d.step()).toEqual([
      {
        type: 'UpsertWorkflowSearchAttributes',
        seq: 1,
        searchAttributes: { stage: { type: 'keyword', value: 'approved' }, amount: { type: 'number', value: 12 } },
      },
      { type: 'UpsertWorkflowSearchAttributes', seq: 2, searchAttributes: { amount: null } },
    ]);
    expect(d.result()).toEqual({ stage: 'approved' });
    expect(d.activation.recordedSearchAttributes).toEqual({ stage: { type: 'keyword', value: 'approved' } });
    expect(await d.replay()).toEqual({ commands: [], closing: d.closing });
  });

  test('an undeclared attribute fails the workflow task, naming it and the declared ones', async () => {
    const history = new RecordedHistory(started('Tagged', [true], initial));
    const err = await activationOf(Tagged, history)
      .activate(history.stored())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidSearchAttributeError);
    expect((err as Error).message).toBe(
      "Search attribute 'colour' of workflow 'Tagged': it is not declared. Declared in @Workflow({ searchAttributes }): stage (keyword), amount (number)",
    );
  });
});
