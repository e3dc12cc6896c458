import { NonDeterminismError } from '../errors/library.errors.js';
import { ActivityFailure, CompensationFailure } from '../errors/temporal-failure.js';
import { deserializeFailure, serializeFailure } from '../errors/failure-codec.js';
import {
  describeEvent, isCommandEvent,
  type CommandEvent, type DistributiveOmit, type HistoryEvent, type NewEvent, type WorkflowExecutionStarted,
} from '../history/events.js';
import type { StoredEvent } from '../history/redis-history-store.js';
import type { DataConverter } from '../payload/data-converter.js';
import type { WorkflowDefinition } from '../discovery/registry.js';
import { workflowStorage } from './context.js';
import { seededRandom } from './prng.js';

/** What workflow code can learn about its own execution through `workflowInfo()`. */
export interface WorkflowInfo {
  workflowId: string;
  runId: string;
  workflowType: string;
  taskQueue: string;
  /** When the run started (history time). */
  startTime: Date;
}

/** A command the code produced, before the store gives it an id and timestamp. */
export type NewCommand = DistributiveOmit<CommandEvent, 'id' | 'ts'>;

interface PendingCompletion {
  resolve(value: unknown): void;
  reject(err: Error): void;
  command: NewCommand;
  /** The recorded event when the command was matched on replay; absent for new commands. */
  recorded?: CommandEvent;
}

/** How the run ends, once the code has returned or thrown. */
export type Closing = { status: 'completed'; value: string } | { status: 'failed' | 'compensation_failed'; value: string };

/** Lets the activation wait until the microtask queue is empty, so each event settles before the next. */
const drainMicrotasks = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * One live workflow execution: the replay state machine. Durable calls take a sequence
 * number and park a completion; history events are delivered one at a time in order, with
 * microtasks drained in between; commands the code emits are matched against recorded
 * ones (replay) or collected as new commands for the task to commit.
 */
export class WorkflowActivation {
  readonly info: WorkflowInfo;
  /** History time of the event being delivered: what `Date.now()` returns in workflow code. */
  now: number;
  readonly random: () => number;
  /** Cursor of the last delivered event, and the lease fence of the task that delivered it. */
  lastId = '';
  fence = 0;

  private nextSeq = 1;
  private readonly pending = new Map<number, PendingCompletion>();
  private readonly recorded = new Map<number, CommandEvent>();
  private recordedClose?: HistoryEvent;
  private newCommands: NewCommand[] = [];
  private closing?: Closing;
  private nondeterminism?: NonDeterminismError;
  private started = false;
  private closedInHistory = false;

  constructor(
    private readonly definition: WorkflowDefinition,
    private readonly startEvent: WorkflowExecutionStarted,
    readonly converter: DataConverter,
  ) {
    this.info = {
      workflowId: startEvent.workflowId,
      runId: startEvent.runId,
      workflowType: startEvent.workflowType,
      taskQueue: startEvent.taskQueue,
      startTime: new Date(startEvent.ts),
    };
    this.now = startEvent.ts;
    this.random = seededRandom(startEvent.runId);
  }

  /** Delivers a batch of events; throws NonDeterminismError when code and history disagree. */
  async activate(events: StoredEvent[]): Promise<void> {
    for (const { event } of events) {
      if (isCommandEvent(event) && event.seq >= this.nextSeq) this.recorded.set(event.seq, event);
      if (event.type === 'WorkflowExecutionCompleted' || event.type === 'WorkflowExecutionFailed') this.recordedClose = event;
    }
    for (const { streamId, event } of events) {
      if (this.nondeterminism) break;
      this.lastId = streamId;
      if (isCommandEvent(event)) continue; // matched through schedule(), nothing to settle
      this.now = event.ts;
      this.deliver(event);
      await drainMicrotasks();
    }
    if (!this.nondeterminism && this.recorded.size > 0) {
      const first = [...this.recorded.values()].sort((a, b) => a.id - b.id)[0];
      this.nondeterminism = this.mismatch(first.id, describeEvent(first), 'did not schedule it');
    }
    if (this.nondeterminism) throw this.nondeterminism;
  }

  /** Commands produced since the last call (the task commits them). */
  takeCommands(): NewCommand[] {
    const out = this.newCommands;
    this.newCommands = [];
    return out;
  }

  /** Set once the code returned or threw and the history does not already say so. */
  takeClosing(): Closing | undefined {
    return this.closedInHistory ? undefined : this.closing;
  }

  /** How the code ended the run, whether or not the history already records it. */
  get closingState(): Closing | undefined {
    return this.closing;
  }

  get isClosed(): boolean {
    return this.closing !== undefined;
  }

  /** Commands matched on replay that are still waiting for their completion (to re-dispatch). */
  outstandingRecorded(): CommandEvent[] {
    return [...this.pending.values()].flatMap((p) => (p.recorded ? [p.recorded] : []));
  }

  /**
   * Called by the workflow API for every durable call. On replay the command must match the
   * recorded one with the same seq; otherwise it is new and will be committed.
   */
  schedule<T>(
    command: (seq: number, recorded?: CommandEvent) => NewCommand,
    opts: { immediate?: (cmd: NewCommand) => T } = {},
  ): Promise<T> {
    const seq = this.nextSeq++;
    const recorded = this.recorded.get(seq);
    const cmd = command(seq, recorded);
    if (recorded) {
      this.recorded.delete(seq);
      if (!sameCommand(recorded, cmd)) {
        this.nondeterminism ??= this.mismatch(recorded.id, describeEvent(recorded), `produced ${describeEvent(cmd)}`);
        return new Promise<T>(() => undefined);
      }
    } else if (!this.nondeterminism) {
      this.newCommands.push(cmd);
    }
    if (opts.immediate) {
      try {
        return Promise.resolve(opts.immediate(cmd));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    const promise = new Promise<T>((resolve, reject) => {
      this.pending.set(seq, { resolve: resolve as (v: unknown) => void, reject, command: cmd, recorded });
    });
    // A durable call the code never awaits must not crash the process when it fails.
    promise.catch(() => undefined);
    return promise;
  }

  private deliver(event: HistoryEvent): void {
    switch (event.type) {
      case 'WorkflowExecutionStarted':
        return this.startCode();
      case 'ActivityTaskCompleted': {
        const p = this.takePending(event);
        p?.resolve(this.converter.decode(event.result, `result of activity seq ${event.seq}`));
        return;
      }
      case 'ActivityTaskFailed': {
        const p = this.takePending(event);
        if (!p) return;
        const failure = deserializeFailure(event.failure);
        p.reject(failure instanceof ActivityFailure ? failure : new ActivityFailure(event.failure.message, '', event.seq, 'NON_RETRYABLE_FAILURE', event.attempt, failure));
        return;
      }
      case 'TimerFired':
        this.takePending(event)?.resolve(undefined);
        return;
      case 'WorkflowExecutionCompleted':
      case 'WorkflowExecutionFailed':
        this.closedInHistory = true;
        return;
      case 'ActivityTaskScheduled':
      case 'TimerStarted':
      case 'MarkerRecorded':
        return; // matched through schedule()
      default:
        assertNever(event);
    }
  }

  private takePending(event: HistoryEvent & { seq: number }): PendingCompletion | undefined {
    const p = this.pending.get(event.seq);
    if (!p) {
      this.nondeterminism ??= this.mismatch(event.id, describeEvent(event), `has no pending durable call with seq ${event.seq}`);
      return undefined;
    }
    this.pending.delete(event.seq);
    return p;
  }

  private startCode(): void {
    if (this.started) return;
    this.started = true;
    const { cls, runMethod, name } = this.definition;
    workflowStorage.run(this, () => {
      let result: Promise<unknown>;
      try {
        const args = this.converter.decodeAll(this.startEvent.input, `workflow '${name}' input`);
        const instance = new cls() as Record<string, (...a: unknown[]) => unknown>;
        result = Promise.resolve(instance[runMethod](...args));
      } catch (err) {
        result = Promise.reject(err);
      }
      result.then(
        (value) => {
          let encoded: string;
          try {
            encoded = this.converter.encode(value, `result of workflow '${this.info.workflowId}'`);
          } catch (err) {
            return this.close({ status: 'failed', value: JSON.stringify(serializeFailure(err)) });
          }
          this.close({ status: 'completed', value: encoded });
        },
        (err) => this.close({ status: err instanceof CompensationFailure ? 'compensation_failed' : 'failed', value: JSON.stringify(serializeFailure(err)) }),
      );
    });
  }

  private close(closing: Closing): void {
    if (this.closing || this.nondeterminism) return;
    if (this.recordedClose) {
      const recordedStatus = this.recordedClose.type === 'WorkflowExecutionCompleted' ? 'completed' : 'failed';
      if (recordedStatus !== (closing.status === 'completed' ? 'completed' : 'failed')) {
        this.nondeterminism = this.mismatch(this.recordedClose.id, this.recordedClose.type, `ended the workflow as ${closing.status}`);
        return;
      }
    }
    this.closing = closing;
  }

  private mismatch(eventId: number, recorded: string, produced: string): NonDeterminismError {
    return new NonDeterminismError(this.info.workflowId, this.info.runId, eventId, recorded, produced);
  }
}

function sameCommand(recorded: CommandEvent, cmd: NewCommand): boolean {
  if (recorded.type !== cmd.type) return false;
  if (recorded.type === 'ActivityTaskScheduled' && cmd.type === 'ActivityTaskScheduled') return recorded.activityType === cmd.activityType;
  if (recorded.type === 'MarkerRecorded' && cmd.type === 'MarkerRecorded') return recorded.name === cmd.name;
  return true;
}

function assertNever(x: never): never {
  throw new Error(`Unhandled history event ${(x as HistoryEvent).type}`);
}

export type { NewEvent };
