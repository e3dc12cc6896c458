import { type InvalidDurationError, NonDeterminismError, PayloadError } from '../core/errors/library.errors.js';
import { InvalidSearchAttributeError } from '../core/errors/search.errors.js';
import {
  mergeSearchAttributes,
  noteSearchAttributesAfter,
  recordSearchAttributes,
  searchAttributeValues,
  type RecordedSearchAttribute,
  type RecordedSearchAttributes,
  type SearchAttributeValue,
} from '../core/search/search-attributes.js';
import { ActivityFailure, CompensationFailure } from '../core/errors/temporal-failure.js';
import {
  CancelledFailure,
  ChildWorkflowFailure,
  ContinueAsNew,
  QueryMutationError,
  UnknownQueryError,
} from '../core/errors/workflow-control.js';
import { deserializeFailure, serializeFailure, type SerializedFailure } from '../core/errors/failure-codec.js';
import { UnknownUpdateError, WorkflowUpdateRejectedError } from '../core/errors/update.errors.js';
import {
  describeEvent,
  isCloseEvent,
  isCommandEvent,
  type CommandEvent,
  type HistoryEvent,
  type NewCommand,
  type WorkflowExecutionStarted,
  type WorkflowUpdateAccepted,
} from '../core/events.js';
import type { StoredEvent } from '../core/events.js';
import type { DataConverter } from '../core/payload/data-converter.js';
import type { WorkflowDefinition } from '../core/definitions/registry.js';
import { workflowStorage, type Activator, type WorkflowInfo } from './context.js';
import { seededRandom } from './prng.js';
import { cancellationScopeStorage, nonCancellableScope, queryScope, type ScopeState } from './scopes.js';
import { LocalActivityBackoff } from './local-backoff.js';
import { createWorkflowInstance } from './workflow-factory.js';

export type { WorkflowInfo };

export type { NewCommand } from '../core/events.js';

interface PendingCompletion {
  resolve(value: unknown): void;
  reject(err: Error): void;
  command: NewCommand;
  /** The recorded event when the command was matched on replay; absent for new commands. */
  recorded?: CommandEvent;
  /** Rejected by a cancellation request (false inside `nonCancellable`). */
  cancellable: boolean;
  /** The cancellation scope the call was made in, if any. */
  scope?: ScopeState;
}

interface WaitingCondition {
  predicate: () => boolean;
  resolve(met: boolean): void;
  reject(err: Error): void;
  cancellable: boolean;
  scope?: ScopeState;
}

/** How the run ends, once the code has returned or thrown. `continued` carries the next run's input. */
export type Closing =
  | { status: 'completed'; value: string }
  | { status: 'failed' | 'compensation_failed' | 'canceled'; value: string }
  | { status: 'continued'; value: string; input: string[] };

/** Lets the activation wait until the microtask queue is empty, so each event settles before the next. */
const drainMicrotasks = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * One live workflow execution: the replay state machine. Durable calls take a sequence
 * number and park a completion; history events are delivered one at a time in order, with
 * microtasks drained in between and `condition()` predicates re-checked after each; commands
 * the code emits are matched against recorded ones (replay) or collected as new commands.
 */
export class WorkflowActivation implements Activator {
  readonly info: WorkflowInfo;
  /** History time of the event being delivered: what `Date.now()` returns in workflow code. */
  now: number;
  readonly random: () => number;
  /** Cursor of the last delivered event, and the lease fence of the task that delivered it. */
  lastId = '';
  fence = 0;
  /** Set once a cancellation request was delivered. */
  cancelRequested = false;
  /** Set once the code started a child workflow (its parent-close policy must then be applied). */
  hasChildren = false;

  private nextSeq = 1;
  private instance?: Record<string, (...a: unknown[]) => unknown>;
  private readonly pending = new Map<number, PendingCompletion>();
  /** Seqs whose wait a cancellation ended; their late outcomes are ignored. */
  private readonly abandoned = new Set<number>();
  private readonly conditions = new Set<WaitingCondition>();
  private readonly recorded = new Map<number, CommandEvent>();
  private recordedClose?: HistoryEvent;
  private newCommands: NewCommand[] = [];
  private closing?: Closing;
  private nondeterminism?: NonDeterminismError;
  /** A recorded payload this worker cannot decode: the task fails (and is retried), not the workflow. */
  private taskError?: PayloadError | InvalidDurationError | InvalidSearchAttributeError;
  private started = false;
  /** Update handlers that have not settled yet. */
  private runningHandlers = 0;
  private closedInHistory = false;
  /** The search attributes as recorded (typed), after the upserts the code has made so far. */
  recordedSearchAttributes: RecordedSearchAttributes;

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
      parent: startEvent.parent
        ? { workflowId: startEvent.parent.workflowId, runId: startEvent.parent.runId }
        : undefined,
      searchAttributes: searchAttributeValues(startEvent.searchAttributes),
    };
    this.recordedSearchAttributes = startEvent.searchAttributes ?? {};
    this.now = startEvent.ts;
    this.random = seededRandom(startEvent.runId);
  }

  /** The trace context recorded when the workflow started (OpenTelemetry). */
  get trace(): WorkflowExecutionStarted['trace'] {
    return this.startEvent.trace;
  }

  get parent(): WorkflowExecutionStarted['parent'] {
    return this.startEvent.parent;
  }

  /** The run's workflow timeouts, as its started event records them. */
  get timeouts(): WorkflowExecutionStarted['timeouts'] {
    return this.startEvent.timeouts;
  }

  /** The memo recorded at start (continue-as-new carries it over). */
  get memo(): WorkflowExecutionStarted['memo'] {
    return this.startEvent.memo;
  }

  /** Delivers a batch of events; throws NonDeterminismError when code and history disagree. */
  async activate(events: StoredEvent[]): Promise<void> {
    for (const { event } of events) {
      if (isCommandEvent(event) && event.seq >= this.nextSeq) this.recorded.set(event.seq, event);
      if (isCloseEvent(event)) this.recordedClose = event;
    }
    for (const { streamId, event } of events) {
      // Once the code has ended the run, later events are not delivered: a continue-as-new
      // carries the signals among them over to the next run (the commit script does that).
      if (this.nondeterminism || this.taskError || (this.closing && !isCloseEvent(event))) break;
      this.lastId = streamId;
      if (isCommandEvent(event)) continue; // matched through schedule(), nothing to settle
      this.now = event.ts;
      this.deliver(event);
      await drainMicrotasks();
      await this.checkConditions();
    }
    if (!this.nondeterminism && this.recorded.size > 0) {
      const first = [...this.recorded.values()].sort((a, b) => a.id - b.id)[0];
      this.nondeterminism = this.mismatch(first.id, describeEvent(first), 'did not schedule it');
    }
    if (this.nondeterminism) throw this.nondeterminism;
    if (this.taskError) throw this.taskError;
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

  /** True while the code is still behind its recorded history (used by `patched`). */
  get replaying(): boolean {
    return this.recorded.size > 0;
  }

  /** Commands matched on replay that are still waiting for their completion (to re-dispatch). */
  outstandingRecorded(): CommandEvent[] {
    return [...this.pending.values()].flatMap((p) => (p.recorded ? [p.recorded] : []));
  }

  /**
   * Called by the workflow API for every durable call. On replay the command must match the
   * recorded one with the same seq; otherwise it is new and will be committed. After a
   * cancellation request, calls outside `nonCancellable` are refused without taking a seq.
   */
  schedule<T>(
    command: (seq: number, recorded?: CommandEvent) => NewCommand,
    opts: { immediate?: (cmd: NewCommand) => T } = {},
  ): Promise<T> {
    if (queryScope.getStore())
      throw new QueryMutationError(
        'A query handler cannot schedule activities, timers, side effects or child workflows: queries are read-only',
      );
    const cancellable = !nonCancellableScope.getStore();
    if (this.cancelRequested && cancellable)
      return rejected(new CancelledFailure(`Workflow '${this.info.workflowId}' was cancelled`));
    const scope = cancellationScopeStorage.getStore();
    if (scope?.cancelRequested && !opts.immediate) return rejected(scopeCancelled(this.info.workflowId, scope));
    const seq = this.nextSeq++;
    const recorded = this.recorded.get(seq);
    const cmd = command(seq, recorded);
    if (cmd.type === 'ChildWorkflowScheduled') this.hasChildren = true;
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
        return rejected(err as Error);
      }
    }
    const promise = new Promise<T>((resolve, reject) => {
      this.pending.set(seq, {
        resolve: resolve as (v: unknown) => void,
        reject,
        command: cmd,
        recorded,
        cancellable,
        scope,
      });
    });
    promise.catch(() => undefined); // a durable call the code never awaits must not crash the process
    return promise;
  }

  /**
   * A durable call made with a bad argument (an invalid duration): the workflow task fails with
   * `err` (retried with backoff, shown by `describe()`), nothing of it is recorded, and the
   * call never settles, so the code goes no further. A deploy that fixes the code resumes it.
   */
  refuse<T>(err: InvalidDurationError | InvalidSearchAttributeError): Promise<T> {
    this.taskError ??= err;
    return new Promise<T>(() => undefined);
  }

  /** The command recorded for the next sequence number, if any (sideEffect decides from it). */
  peekRecorded(): CommandEvent | undefined {
    return this.recorded.get(this.nextSeq);
  }

  /** `patched(id)`: true on new executions (recording a marker), false when replaying history made before the patch. */
  patched(patchId: string, deprecated: boolean): boolean {
    const recorded = this.recorded.get(this.nextSeq);
    if (
      recorded?.type === 'MarkerRecorded' &&
      recorded.name === 'patch' &&
      this.converter.decode(recorded.value, 'patch id') === patchId
    ) {
      void this.schedule((seq) => ({ type: 'MarkerRecorded', seq, name: 'patch', value: recorded.value }), {
        immediate: () => true,
      });
      return true;
    }
    if (this.replaying || deprecated) return deprecated;
    void this.schedule(
      (seq) => ({ type: 'MarkerRecorded', seq, name: 'patch', value: this.converter.encode(patchId, 'patch id') }),
      { immediate: () => true },
    );
    return true;
  }

  /**
   * `upsertSearchAttributes(values)`: validated against the workflow's declaration (a bad value
   * fails the task, see refuse), recorded as a command, and applied to `workflowInfo()` at once,
   * on the first run and on replay alike.
   */
  upsertSearchAttributes(values: Record<string, SearchAttributeValue | null>): void {
    let change: Record<string, RecordedSearchAttribute | null>;
    try {
      change = recordSearchAttributes(this.info.workflowType, values, this.definition.searchAttributes);
    } catch (err) {
      if (!(err instanceof InvalidSearchAttributeError)) throw err;
      void this.refuse(err);
      return;
    }
    // Recorded after a cancellation request too: it changes no outcome, and cleanup code may mark the workflow.
    void nonCancellableScope.run(true, () =>
      this.schedule(
        (seq) => {
          const cmd: NewCommand = { type: 'UpsertWorkflowSearchAttributes', seq, searchAttributes: change };
          this.recordedSearchAttributes = mergeSearchAttributes(this.recordedSearchAttributes, change);
          noteSearchAttributesAfter(cmd, this.recordedSearchAttributes);
          this.info.searchAttributes = searchAttributeValues(this.recordedSearchAttributes);
          return cmd;
        },
        { immediate: () => undefined },
      ),
    );
  }

  /** `condition(predicate, timeout)`: resolves true once the predicate holds, false when the timer fires first. */
  condition(predicate: () => boolean, startTimer?: () => Promise<void>): Promise<boolean> {
    if (predicate()) return Promise.resolve(true);
    const cancellable = !nonCancellableScope.getStore();
    if (this.cancelRequested && cancellable)
      return rejected(new CancelledFailure(`Workflow '${this.info.workflowId}' was cancelled`));
    const scope = cancellationScopeStorage.getStore();
    if (scope?.cancelRequested) return rejected(scopeCancelled(this.info.workflowId, scope));
    return new Promise<boolean>((resolve, reject) => {
      const waiting: WaitingCondition = { predicate, resolve, reject, cancellable, scope };
      this.conditions.add(waiting);
      startTimer?.().then(
        () => this.conditions.delete(waiting) && resolve(false),
        (err: Error) => this.conditions.delete(waiting) && reject(err),
      );
    });
  }

  /** Runs a `@Query` handler against the replayed state. */
  async query(name: string, args: unknown[]): Promise<unknown> {
    const method = this.definition.queries[name];
    if (!method || !this.instance) {
      throw new UnknownQueryError(
        `Workflow '${this.info.workflowType}' has no query '${name}': known queries are ${Object.keys(this.definition.queries).join(', ') || '(none)'}`,
      );
    }
    return workflowStorage.run(this, () => queryScope.run(true, () => this.instance![method](...args)));
  }

  private deliver(event: HistoryEvent): void {
    switch (event.type) {
      case 'WorkflowExecutionStarted':
        return this.startCode();
      case 'ActivityTaskCompleted':
      case 'ChildWorkflowCompleted':
        this.takePending(event)?.resolve(this.converter.decode(event.result, `result of seq ${event.seq}`));
        return;
      case 'ActivityTaskFailed': {
        const p = this.takePending(event);
        if (p && event.backoffMs !== undefined)
          return p.reject(new LocalActivityBackoff(event.backoffMs, event.attempt + 1));
        const failure = p && deserializeFailure(event.failure);
        p?.reject(
          failure instanceof ActivityFailure
            ? failure
            : new ActivityFailure(
                event.failure.message,
                '',
                event.seq,
                'NON_RETRYABLE_FAILURE',
                event.attempt,
                failure,
              ),
        );
        return;
      }
      case 'ChildWorkflowFailed': {
        const p = this.takePending(event);
        if (!p || p.command.type !== 'ChildWorkflowScheduled') return;
        const { workflowId, workflowType } = p.command;
        p.reject(
          new ChildWorkflowFailure(
            `Child workflow '${workflowId}' ${event.status}: ${event.failure.message}`,
            workflowId,
            workflowType,
            event.status,
            deserializeFailure(event.failure),
          ),
        );
        return;
      }
      case 'TimerFired':
        this.takePending(event)?.resolve(undefined);
        return;
      case 'SignalReceived':
        return this.runSignal(event.signalName, event.input);
      case 'WorkflowUpdateAccepted':
        return this.runUpdate(event);
      case 'WorkflowCancelRequested':
        return this.cancel(event.reason);
      case 'WorkflowExecutionCompleted':
      case 'WorkflowExecutionFailed':
      case 'WorkflowExecutionCanceled':
      case 'WorkflowExecutionTerminated':
      case 'WorkflowExecutionContinuedAsNew':
      case 'WorkflowExecutionTimedOut':
      case 'WorkflowExecutionReset':
        this.closedInHistory = true;
        return;
      case 'ActivityTaskScheduled':
      case 'TimerStarted':
      case 'MarkerRecorded':
      case 'ChildWorkflowScheduled':
      case 'WorkflowUpdateCompleted':
      case 'UpsertWorkflowSearchAttributes':
        return; // matched through schedule()
      default:
        assertNever(event);
    }
  }

  private takePending(event: HistoryEvent & { seq: number }): PendingCompletion | undefined {
    const p = this.pending.get(event.seq);
    if (!p) {
      if (!this.abandoned.has(event.seq)) {
        this.nondeterminism ??= this.mismatch(
          event.id,
          describeEvent(event),
          `has no pending durable call with seq ${event.seq}`,
        );
      }
      return undefined;
    }
    this.pending.delete(event.seq);
    return p;
  }

  private cancel(reason?: string): void {
    this.cancelRequested = true;
    const failure = () =>
      new CancelledFailure(`Workflow '${this.info.workflowId}' was cancelled${reason ? `: ${reason}` : ''}`);
    for (const [seq, p] of this.pending) {
      if (!p.cancellable) continue;
      this.pending.delete(seq);
      this.abandoned.add(seq);
      p.reject(failure());
    }
    for (const c of this.conditions) {
      if (!c.cancellable) continue;
      this.conditions.delete(c);
      c.reject(failure());
    }
  }

  /**
   * `scope.cancel()`: rejects the durable calls and conditions made inside the scope (or scopes
   * within it) that have not settled; their late outcomes are ignored.
   */
  cancelScope(scope: ScopeState, failure: CancelledFailure): void {
    for (const [seq, p] of this.pending) {
      if (!p.scope?.within(scope)) continue;
      this.pending.delete(seq);
      this.abandoned.add(seq);
      p.reject(failure);
    }
    for (const c of this.conditions) {
      if (!c.scope?.within(scope)) continue;
      this.conditions.delete(c);
      c.reject(failure);
    }
  }

  private async checkConditions(): Promise<void> {
    for (let changed = true; changed && this.conditions.size > 0;) {
      changed = false;
      for (const c of [...this.conditions]) {
        if (!workflowStorage.run(this, c.predicate)) continue;
        this.conditions.delete(c);
        c.resolve(true);
        changed = true;
      }
      if (changed) await drainMicrotasks();
    }
  }

  private runSignal(name: string, input: string[]): void {
    const method = this.definition.signals[name];
    if (!method || !this.instance) return; // a signal with no handler changes nothing
    const args = this.decodeRecorded(input, `signal '${name}'`);
    if (!args) return;
    workflowStorage.run(this, () => {
      try {
        Promise.resolve(this.instance![method](...args)).catch((err) => this.fail(err));
      } catch (err) {
        this.fail(err);
      }
    });
  }

  /**
   * Runs an accepted update's handler. When it settles, its result (or failure: a throwing
   * handler fails the update, not the workflow) is recorded as a command with its own seq, so
   * a replay matches it at the same point and it is recorded once.
   */
  private runUpdate(event: WorkflowUpdateAccepted): void {
    const handler = this.definition.updates[event.updateName];
    const args = this.decodeRecorded(event.input, `update '${event.updateName}'`);
    if (!args || !this.instance) return;
    const { updateId } = event;
    this.runningHandlers++;
    const record = (outcome: { result: string } | { failure: SerializedFailure }) => {
      this.runningHandlers--;
      // Recorded even after a cancellation request: the caller waits for it.
      nonCancellableScope.run(
        true,
        () =>
          void this.schedule((seq) => ({ type: 'WorkflowUpdateCompleted', seq, updateId, ...outcome }), {
            immediate: () => undefined,
          }),
      );
    };
    const fail = (err: unknown) => record({ failure: serializeFailure(err) });
    workflowStorage.run(this, () => {
      try {
        if (!handler)
          throw new UnknownUpdateError(
            this.info.workflowId,
            this.info.workflowType,
            event.updateName,
            Object.keys(this.definition.updates),
          );
        Promise.resolve(this.instance![handler.method](...args)).then((value) => {
          let result: string;
          try {
            result = this.converter.encode(
              value,
              `result of update '${event.updateName}' (${updateId}) of workflow '${this.info.workflowId}'`,
            );
          } catch (err) {
            return fail(err);
          }
          record({ result });
        }, fail);
      } catch (err) {
        fail(err);
      }
    });
  }

  /** True when no update handler is running (`allHandlersFinished()`). */
  get handlersFinished(): boolean {
    return this.runningHandlers === 0;
  }

  /**
   * Runs an update's validator against the replayed state (read-only, as a query): throws
   * UnknownUpdateError for a name the class lacks, or WorkflowUpdateRejectedError with what the
   * validator threw.
   */
  validateUpdate(name: string, args: unknown[]): void {
    const handler = this.definition.updates[name];
    if (!handler)
      throw new UnknownUpdateError(
        this.info.workflowId,
        this.info.workflowType,
        name,
        Object.keys(this.definition.updates),
      );
    if (!handler.validator || !this.instance) return;
    try {
      workflowStorage.run(this, () => queryScope.run(true, () => handler.validator!.apply(this.instance, args)));
    } catch (err) {
      throw new WorkflowUpdateRejectedError(
        this.info.workflowId,
        name,
        err instanceof Error ? err : new Error(String(err)),
      );
    }
  }

  private startCode(): void {
    if (this.started) return;
    this.started = true;
    const { runMethod, name } = this.definition;
    const args = this.decodeRecorded(this.startEvent.input, `workflow '${name}' input`);
    if (!args) return;
    workflowStorage.run(this, () => {
      let result: Promise<unknown>;
      try {
        this.instance = createWorkflowInstance(this.definition);
        result = Promise.resolve(this.instance[runMethod](...args));
      } catch (err) {
        result = Promise.reject(err);
      }
      result.then(
        (value) => this.succeed(value),
        (err) => this.fail(err),
      );
    });
  }

  /**
   * Decodes recorded arguments. A payload this worker cannot decode (say, a codec key it lacks)
   * fails the workflow task, which is retried with backoff, instead of failing the workflow:
   * a deploy with the right codec resumes it.
   */
  private decodeRecorded(input: string[], what: string): unknown[] | undefined {
    try {
      return this.converter.decodeAll(input, `${what} of workflow '${this.info.workflowId}' (run ${this.info.runId})`);
    } catch (err) {
      if (!(err instanceof PayloadError)) throw err;
      this.taskError ??= err;
      return undefined;
    }
  }

  private succeed(value: unknown): void {
    let encoded: string;
    try {
      encoded = this.converter.encode(value, `result of workflow '${this.info.workflowId}'`);
    } catch (err) {
      return this.fail(err);
    }
    this.close({ status: 'completed', value: encoded });
  }

  private fail(err: unknown): void {
    if (err instanceof ContinueAsNew) {
      try {
        const input = this.converter.encodeAll(err.args, `continue-as-new of workflow '${this.info.workflowId}'`);
        return this.close({ status: 'continued', value: JSON.stringify(input), input });
      } catch (encodeError) {
        err = encodeError;
      }
    }
    const status =
      err instanceof CompensationFailure
        ? 'compensation_failed'
        : err instanceof CancelledFailure && this.cancelRequested
          ? 'canceled'
          : 'failed';
    this.close({ status, value: JSON.stringify(serializeFailure(err)) });
  }

  private close(closing: Closing): void {
    if (this.closing || this.nondeterminism) return;
    if (this.recordedClose && closeTypeOf(closing.status) !== this.recordedClose.type) {
      this.nondeterminism = this.mismatch(
        this.recordedClose.id,
        this.recordedClose.type,
        `ended the workflow as ${closing.status}`,
      );
      return;
    }
    this.closing = closing;
  }

  private mismatch(eventId: number, recorded: string, produced: string): NonDeterminismError {
    return new NonDeterminismError(this.info.workflowId, this.info.runId, eventId, recorded, produced);
  }
}

/** The history event that records a closing. */
function closeTypeOf(status: Closing['status']): HistoryEvent['type'] {
  switch (status) {
    case 'completed':
      return 'WorkflowExecutionCompleted';
    case 'canceled':
      return 'WorkflowExecutionCanceled';
    case 'continued':
      return 'WorkflowExecutionContinuedAsNew';
    default:
      return 'WorkflowExecutionFailed';
  }
}

function scopeCancelled(workflowId: string, scope: ScopeState): CancelledFailure {
  return new CancelledFailure(
    `A cancellation scope of workflow '${workflowId}' was cancelled${scope.reason ? `: ${scope.reason}` : ''}`,
  );
}

function rejected<T>(err: Error): Promise<T> {
  const p = Promise.reject(err);
  p.catch(() => undefined);
  return p;
}

function sameCommand(recorded: CommandEvent, cmd: NewCommand): boolean {
  if (recorded.type !== cmd.type) return false;
  if (recorded.type === 'ActivityTaskScheduled' && cmd.type === 'ActivityTaskScheduled')
    return recorded.activityType === cmd.activityType;
  if (recorded.type === 'MarkerRecorded' && cmd.type === 'MarkerRecorded')
    return recorded.name === cmd.name && (cmd.name !== 'patch' || recorded.value === cmd.value);
  if (recorded.type === 'ChildWorkflowScheduled' && cmd.type === 'ChildWorkflowScheduled')
    return recorded.workflowType === cmd.workflowType;
  if (recorded.type === 'WorkflowUpdateCompleted' && cmd.type === 'WorkflowUpdateCompleted')
    return recorded.updateId === cmd.updateId;
  return true;
}

function assertNever(x: never): never {
  throw new Error(`Unhandled history event ${(x as HistoryEvent).type}`);
}
