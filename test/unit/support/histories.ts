import 'reflect-metadata';
import { workflowDefinitionOf } from '../../../libs/redurable/src/core/definitions/registry.js';
import type {
  HistoryEvent,
  NewCommand,
  NewEvent,
  StoredEvent,
  WorkflowExecutionStarted,
} from '../../../libs/redurable/src/core/events.js';
import { NonDeterminismError } from '../../../libs/redurable/src/core/errors/library.errors.js';
import { DataConverter } from '../../../libs/redurable/src/core/payload/data-converter.js';
import type { Type } from '../../../libs/redurable/src/core/types.js';
import { WorkflowActivation, type Closing } from '../../../libs/redurable/src/workflow/activation.js';

/** The converter every test uses: plain JSON. */
export const json = new DataConverter(1_000_000);
/** A value as a recorded payload. */
export const p = (value: unknown): string => json.encode(value, 'test payload');

type Started = Omit<WorkflowExecutionStarted, 'id' | 'ts' | 'type'>;

/** A WorkflowExecutionStarted for workflow `w`, run `r`, on task queue `q`, with `input` encoded. */
export function started(workflowType: string, input: unknown[] = [], extra: Partial<Started> = {}): Started {
  return { workflowType, workflowId: 'w', runId: 'r', taskQueue: 'q', input: input.map(p), ...extra };
}

/** A history as a store records it: events numbered from 1, each stamped with the time it was written. */
export class RecordedHistory {
  readonly events: HistoryEvent[] = [];
  private ts: number;

  constructor(start: Started, ts = 1000) {
    this.ts = ts;
    this.add({ type: 'WorkflowExecutionStarted', ...start });
  }

  get started(): WorkflowExecutionStarted {
    return this.events[0] as WorkflowExecutionStarted;
  }

  /** Appends events at the current time (or at `ts`, which then becomes the current time). */
  add(...events: (NewEvent & { ts?: number })[]): this {
    for (const event of events) {
      this.ts = event.ts ?? this.ts;
      this.events.push({ ...event, id: this.events.length + 1, ts: this.ts } as HistoryEvent);
    }
    return this;
  }

  /** Moves the time of the events added next. */
  at(ts: number): this {
    this.ts = ts;
    return this;
  }

  /** The events from position `from` (0-based) as a store hands them out, with stream ids. */
  stored(from = 0): StoredEvent[] {
    return this.events.slice(from).map((event) => ({ streamId: `${event.ts}-${event.id}`, event }));
  }
}

/** A fresh execution of `cls` for a history. */
export function activationOf(cls: Type<object>, history: RecordedHistory): WorkflowActivation {
  return new WorkflowActivation(workflowDefinitionOf(cls), history.started, json);
}

// ---- events as a test writes them (on task queue `q`) ----

export const activity = (seq: number, activityType: string, input: unknown[] = []) => ({
  type: 'ActivityTaskScheduled' as const,
  seq,
  activityType,
  input: input.map(p),
  options: { taskQueue: 'q' },
});
export const completed = (seq: number, result: unknown, ts?: number) => ({
  type: 'ActivityTaskCompleted' as const,
  seq,
  result: p(result),
  attempt: 1,
  ...(ts === undefined ? {} : { ts }),
});
export const fired = (seq: number, ts?: number) => ({
  type: 'TimerFired' as const,
  seq,
  ...(ts === undefined ? {} : { ts }),
});
export const signal = (signalName: string, ...args: unknown[]) => ({
  type: 'SignalReceived' as const,
  signalName,
  input: args.map(p),
});

/** Replays `history` into a fresh execution of `cls` and returns the NonDeterminismError it threw. */
export async function replayError(cls: Type<object>, history: RecordedHistory): Promise<NonDeterminismError> {
  const err = await activationOf(cls, history)
    .activate(history.stored())
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  if (!(err instanceof NonDeterminismError)) throw new Error(`expected a NonDeterminismError, got ${String(err)}`);
  return err;
}

/** The event a task records for how the code ended the run (engine/run-close.ts' closeSpec, without the next run). */
function closeEvent(closing: Closing): NewEvent {
  switch (closing.status) {
    case 'completed':
      return { type: 'WorkflowExecutionCompleted', result: closing.value };
    case 'canceled':
      return { type: 'WorkflowExecutionCanceled', failure: JSON.parse(closing.value) };
    case 'continued':
      return { type: 'WorkflowExecutionContinuedAsNew', newRunId: 'next', input: closing.input };
    default:
      return { type: 'WorkflowExecutionFailed', failure: JSON.parse(closing.value) };
  }
}

/**
 * Plays the store's part for one execution, as Temporal's workflow tests do: each `step` appends
 * events (outcomes, signals...) to the history and feeds them, then records the commands the code
 * produced, and its close, as a task's commit would. `replay()` then checks the recorded history
 * against a fresh execution of the same code.
 */
export class Driver {
  readonly history: RecordedHistory;
  readonly activation: WorkflowActivation;
  /** How the code ended the run, once it did. */
  closing?: Closing;
  private fed = 0;

  constructor(
    private readonly cls: Type<object>,
    input: unknown[] = [],
    extra: Partial<Started> = {},
  ) {
    this.history = new RecordedHistory(started(workflowDefinitionOf(cls).name, input, extra));
    this.activation = activationOf(cls, this.history);
  }

  /** Feeds what is new (the started event on the first step, then `events`); returns the commands produced. */
  async step(...events: (NewEvent & { ts?: number })[]): Promise<NewCommand[]> {
    this.history.add(...events);
    await this.activation.activate(this.history.stored(this.fed));
    const commands = this.activation.takeCommands();
    this.history.at(this.activation.now).add(...commands);
    this.closing ??= this.activation.takeClosing();
    if (this.closing) this.history.add(closeEvent(this.closing));
    this.fed = this.history.events.length;
    return commands;
  }

  /** The decoded result of a completed run. */
  result<T = unknown>(): T {
    if (this.closing?.status !== 'completed') throw new Error(`the run is ${this.closing?.status ?? 'still running'}`);
    return json.decode<T>(this.closing.value, 'result');
  }

  /** Replays the whole recorded history into a fresh execution: what it produced beyond the history, and how it ended. */
  async replay(): Promise<{ commands: NewCommand[]; closing?: Closing }> {
    const fresh = activationOf(this.cls, this.history);
    await fresh.activate(this.history.stored());
    return { commands: fresh.takeCommands(), closing: fresh.takeClosing() ?? fresh.closingState };
  }
}
