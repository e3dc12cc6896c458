/**
 * The replayer's determinism, fed recorded histories: versioning with patched(), side effects and
 * deterministic ids, and the non-determinism error a changed workflow gets on an old history,
 * naming the event and both sides.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import 'reflect-metadata';
import { Workflow, WorkflowRun } from '../../libs/redurable/src/core/definitions/workflow.decorator.js';
import { replayHistory } from '../../libs/redurable/src/testing/replay-history.js';
import { installDeterminism } from '../../libs/redurable/src/workflow/determinism.js';
import { executeActivity, sideEffect, sleep, uuid4 } from '../../libs/redurable/src/workflow/workflow-api.js';
import { deprecatePatch, patched } from '../../libs/redurable/src/workflow/workflow-control-api.js';
import {
  activationOf,
  activity,
  completed,
  Driver,
  fired,
  json,
  p,
  RecordedHistory,
  replayError,
  started,
} from './support/histories.js';

let release: () => void;
beforeAll(() => {
  release = installDeterminism();
});
afterAll(() => release());

/** The workflow as it was when its history was recorded; the changed versions below replay that history. */
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

@Workflow()
class Payment {
  @WorkflowRun()
  async run() {
    const checked = patched('fraud-check');
    if (checked) await executeActivity('checkFraud', []);
    await executeActivity('pay', []);
    return checked;
  }
}

@Workflow({ name: 'Payment' })
class PaymentDeprecated {
  @WorkflowRun()
  async run() {
    deprecatePatch('fraud-check');
    await executeActivity('checkFraud', []);
    await executeActivity('pay', []);
    return true;
  }
}

describe('patched()', () => {
  const marker = (seq: number, patchId: string) => ({
    type: 'MarkerRecorded' as const,
    seq,
    name: 'patch',
    value: p(patchId),
  });

  test('a new run takes the new path and records a marker', async () => {
    const d = new Driver(Payment);
    expect(await d.step()).toEqual([marker(1, 'fraud-check'), activity(2, 'checkFraud')]);
    await d.step(completed(2, null));
    await d.step(completed(3, null));
    expect(d.result()).toBe(true);
    // The marker is matched on replay: true again.
    expect(await d.replay()).toEqual({ commands: [], closing: d.closing });
  });

  test('a history from before the patch replays the old path', async () => {
    const old = new RecordedHistory(started('Payment')).add(activity(1, 'pay'), completed(1, null));
    const a = activationOf(Payment, old);
    await a.activate(old.stored());
    expect(a.takeCommands()).toEqual([]);
    expect(json.decode(a.takeClosing()!.value, 'result')).toBe(false);
  });

  test("another patch's marker is not this one's: the code's next command does not match it", async () => {
    const other = new RecordedHistory(started('Payment')).add(marker(1, 'other'), activity(2, 'pay'));
    expect((await replayError(Payment, other)).message).toContain(
      'at history event #2: history recorded MarkerRecorded(patch) seq 1, but the code produced ActivityTaskScheduled(pay) seq 1',
    );
  });

  test('deprecatePatch records nothing new and still replays histories with the marker', async () => {
    const fresh = new Driver(PaymentDeprecated);
    expect(await fresh.step()).toEqual([activity(1, 'checkFraud')]);
    const withMarker = new Driver(Payment);
    await withMarker.step();
    await withMarker.step(completed(2, null));
    await withMarker.step(completed(3, null));
    const a = activationOf(PaymentDeprecated, withMarker.history);
    await a.activate(withMarker.history.stored());
    expect(a.takeCommands()).toEqual([]);
    expect(a.closingState?.status).toBe('completed');
  });
});

let sideEffectCalls = 0;

@Workflow()
class Ids {
  @WorkflowRun()
  async run() {
    const token = await sideEffect(() => `tok-${++sideEffectCalls}`);
    return { token, ids: [uuid4(), uuid4()], random: Math.random() };
  }
}

describe('sideEffect and uuid4', () => {
  test('a side effect runs once and is replayed from its marker; uuid4 and Math.random follow the run id', async () => {
    sideEffectCalls = 0;
    const d = new Driver(Ids);
    expect(await d.step()).toEqual([{ type: 'MarkerRecorded', seq: 1, name: 'sideEffect', value: p('tok-1') }]);
    const first = d.result<{ token: string; ids: string[]; random: number }>();
    expect(first.token).toBe('tok-1');
    for (const id of first.ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(first.ids[0]).not.toBe(first.ids[1]);
    const again = await d.replay();
    expect(again).toEqual({ commands: [], closing: d.closing });
    expect(sideEffectCalls).toBe(1);
    // Another run of the same code draws other ids.
    const other = new Driver(Ids, [], { runId: 'r2' });
    await other.step();
    expect(other.result<{ ids: string[] }>().ids).not.toEqual(first.ids);
  });
});

// The same workflow type, changed: each of these replays Transfer's recorded history.
@Workflow({ name: 'Transfer' })
class TransferRenamedActivity {
  @WorkflowRun()
  async run(amount: number) {
    return executeActivity<string>('debit', [amount]);
  }
}

@Workflow({ name: 'Transfer' })
class TransferWithoutSleep {
  @WorkflowRun()
  async run(amount: number) {
    const id = await executeActivity<string>('withdraw', [amount]);
    await executeActivity('fee', [id]);
  }
}

@Workflow({ name: 'Transfer' })
class TransferReturningEarly {
  @WorkflowRun()
  async run(amount: number) {
    return executeActivity<string>('withdraw', [amount]);
  }
}

@Workflow({ name: 'Transfer' })
class TransferFailing {
  @WorkflowRun()
  async run(amount: number) {
    const id = await executeActivity<string>('withdraw', [amount]);
    await sleep('1s');
    await Promise.all([executeActivity('fee', [id]), executeActivity('tax', [id])]);
    throw new Error('changed my mind');
  }
}

@Workflow({ name: 'Transfer' })
class TransferWithExtraStep {
  @WorkflowRun()
  async run(amount: number) {
    const id = await executeActivity<string>('withdraw', [amount]);
    await sleep('1s');
    await Promise.all([executeActivity('fee', [id]), executeActivity('tax', [id])]);
    await executeActivity('notify', [id]);
  }
}

describe('non-determinism', () => {
  let recorded: RecordedHistory;
  beforeAll(async () => {
    const d = new Driver(Transfer, [100]);
    await d.step();
    await d.step(completed(1, 'tx-1'));
    await d.step(fired(2));
    await d.step(completed(3, 1), completed(4, 2));
    recorded = d.history;
  });
  const prefix = "Non-deterministic workflow 'w' (run r) at history event";

  test('a changed activity type names the event and both sides', async () => {
    const err = await replayError(TransferRenamedActivity, recorded);
    expect(err.message.split('\n')[0]).toBe(
      `${prefix} #2: history recorded ActivityTaskScheduled(withdraw) seq 1, but the code produced ActivityTaskScheduled(debit) seq 1. ` +
        'Check that your workflow is deterministic; to change a running workflow safely, deploy code that replays its existing history.',
    );
    expect([err.eventId, err.recorded, err.produced]).toEqual([
      2,
      'ActivityTaskScheduled(withdraw) seq 1',
      'produced ActivityTaskScheduled(debit) seq 1',
    ]);
  });

  test('a command where the history has another', async () => {
    expect((await replayError(TransferWithoutSleep, recorded)).message).toContain(
      '#4: history recorded TimerStarted(1000ms) seq 2, but the code produced ActivityTaskScheduled(fee) seq 2',
    );
  });

  test('a recorded command the code no longer makes', async () => {
    expect((await replayError(TransferReturningEarly, recorded)).message).toContain(
      '#4: history recorded TimerStarted(1000ms) seq 2, but the code did not schedule it',
    );
  });

  test('a close other than the recorded one', async () => {
    const close = recorded.events.at(-1)!;
    expect(close.type).toBe('WorkflowExecutionCompleted');
    expect((await replayError(TransferFailing, recorded)).message).toContain(
      `#${close.id}: history recorded WorkflowExecutionCompleted, but the code ended the workflow as failed`,
    );
  });

  // Library finding: once the history records the run's close, a command the code makes past it
  // is taken for a new command (ReplayResult.newCommands) instead of a mismatch, and code that
  // waits instead of closing passes too: `replayHistory()`, which its doc says to run in CI over
  // saved histories before a deploy, accepts a completed history the new code no longer completes.
  test.failing('replayHistory() refuses code that schedules a step where the history recorded the close', async () => {
    await expect(replayHistory(TransferWithExtraStep, recorded.events)).rejects.toThrow(
      /history recorded WorkflowExecutionCompleted, but the code .*ActivityTaskScheduled\(notify\) seq 5/,
    );
  });
});
