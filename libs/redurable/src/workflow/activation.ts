import { NonDeterminismError, PayloadError } from '../core/errors/library.errors.js';
import {
  searchAttributeValues,
  type RecordedSearchAttributes,
  type SearchAttributeValue,
} from '../core/search/search-attributes.js';
import { upsertSearchAttributes } from './search-attribute-upsert.js';
import { CancelledFailure, ContinueAsNew, QueryMutationError } from '../core/errors/workflow-control.js';
import { serializeFailure } from '../core/errors/failure-codec.js';
import {
  describeEvent,
  isCloseEvent,
  isCommandEvent,
  type CommandEvent,
  type HistoryEvent,
  type NewCommand,
  type StoredEvent,
  type WorkflowExecutionStarted,
} from '../core/events.js';
import type { DataConverter } from '../core/payload/data-converter.js';
import type { WorkflowDefinition } from '../core/definitions/registry.js';
import { outsideWorkflowCode, workflowStorage, type Activator, type WorkflowInfo } from './context.js';
import { DEFAULT_PRIORITY } from '../core/flow/priority.js';
import { seededRandom } from './prng.js';
import { ReplayLog } from './replay-log.js';
import { DivergenceContext } from './divergence-context.js';
import type { Logger } from '../core/ports/logger.js';
import { cancellationScopeStorage, nonCancellableScope, queryScope, type ScopeState } from './scopes.js';
import { LocalActivityBackoff } from './local-backoff.js';
import { createWorkflowInstance } from './workflow-factory.js';
import { PendingCalls, type PendingCompletion, type WaitingCondition } from './pending-calls.js';
import { MessageHandlers } from './message-handlers.js';
import { asDeclaredTypes } from '../core/payload/declared-types.js';
import {
  activityFailureOf,
  childFailureOf,
  closeTypeOf,
  assertNever,
  drainMicrotasks,
  failedStatusOf,
  rejected,
  sameCommand,
  scopeCancelled,
  type Closing,
} from './command-match.js';

export type { Closing, NewCommand, WorkflowInfo };

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
  /**
   * The run's seeded generator (Math.random, uuid4, crypto in workflow code). A query or an
   * update validator, which may run on the cached execution between tasks, draws from one of
   * its own: drawing from the run's would shift what the code gets next, and a replay would differ.
   */
  readonly random: () => number;
  /** Cursor of the last delivered event, and the lease fence of the task that delivered it. */
  lastId = '';
  fence = 0;
  /** Set once a cancellation request was delivered. */
  cancelRequested = false;
  /** Set once the code started a child workflow (its parent-close policy must then be applied). */
  hasChildren = false;

  private nextSeq = 1;
  /** The workflow class instance, once its code has started. */
  instance?: Record<string, (...a: unknown[]) => unknown>;
  private readonly calls = new PendingCalls();
  private readonly handlers = new MessageHandlers(this);
  private readonly recorded = new Map<number, CommandEvent>();
  private recordedClose?: HistoryEvent;
  private newCommands: NewCommand[] = [];
  private closing?: Closing;
  private nondeterminism?: NonDeterminismError;
  /** Fails the task (retried), not the workflow: an undecodable payload, a bad argument, a forbidden call. */
  private taskError?: Error;
  private started = false;
  /** The commands matched last, for a NonDeterminismError's view of where code and history part. */
  private readonly divergence = new DivergenceContext();
  /** The input of the last debounced start (WorkflowStartDebounced), which the code runs with instead of the started event's. */
  private startInput?: string[];
  /** A debounced run's start time: workflow time does not read earlier (its first events were recorded before it began). */
  private beganAt?: number;
  private commandSeen = false;
  private closedInHistory = false;
  /** The search attributes as recorded (typed), after the upserts the code has made so far. */
  recordedSearchAttributes: RecordedSearchAttributes;

  /** Runs outside workflow code: a payload codec is the app's code (encryption draws real random bytes). */
  readonly converter: DataConverter;
  /** Where `workflowLogger()` lines go, once each: to `logger` (a worker's; none in a caller's replay). */
  readonly logs: ReplayLog;

  constructor(
    readonly definition: WorkflowDefinition,
    /** The run's started event (its priority and concurrency slot, read by the engine). */
    readonly startEvent: WorkflowExecutionStarted,
    converter: DataConverter,
    logger?: Logger,
  ) {
    this.converter = outsideWorkflowCode(converter);
    this.logs = new ReplayLog(logger, () => ({ streamId: this.lastId, replaying: this.replaying }));
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
      priority: startEvent.priority ?? DEFAULT_PRIORITY,
    };
    this.recordedSearchAttributes = startEvent.searchAttributes ?? {};
    this.now = startEvent.ts;
    const runRandom = seededRandom(startEvent.runId);
    const queryRandom = seededRandom(`${startEvent.runId}/query`);
    this.random = () => (queryScope.getStore() ? queryRandom() : runRandom());
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
      if (!this.started && !this.commandSeen) this.noteBeforeStart(event);
    }
    for (const { streamId, event } of events) {
      // Once the code has ended the run, later events are not delivered: a continue-as-new
      // carries the signals among them over to the next run (the commit script does that).
      if (this.nondeterminism || this.taskError || (this.closing && !isCloseEvent(event))) break;
      this.lastId = streamId;
      if (isCommandEvent(event)) continue; // matched through schedule(), nothing to settle
      this.now = this.beganAt === undefined ? event.ts : Math.max(event.ts, this.beganAt);
      this.deliver(event);
      await drainMicrotasks();
      await this.calls.settleConditions((predicate) => this.inContext(predicate), drainMicrotasks);
    }
    if (!this.nondeterminism && this.recorded.size > 0) {
      const first = [...this.recorded.values()].sort((a, b) => a.id - b.id)[0];
      this.nondeterminism = this.mismatch(first, 'did not schedule it');
    }
    if (this.nondeterminism) throw this.nondeterminism;
    if (this.taskError) throw this.taskError;
  }

  /**
   * A debounced run begins with its last start's arguments, at its last start time: both are
   * recorded before its first task's commands (events after one are the code's, never a start's).
   */
  private noteBeforeStart(event: HistoryEvent): void {
    if (isCommandEvent(event)) this.commandSeen = true;
    else if (event.type === 'WorkflowExecutionStarted' && event.debounce)
      this.beganAt = event.ts + event.debounce.periodMs;
    else if (event.type === 'WorkflowStartDebounced') {
      this.startInput = event.input;
      this.beganAt = Math.max(this.beganAt ?? 0, event.startAt);
    }
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
    return this.calls.recorded();
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
        // The stack is taken only here: it names the code's line that made the call.
        this.nondeterminism ??= this.mismatch(recorded, `produced ${describeEvent(cmd)}`, new Error().stack);
        return new Promise<T>(() => undefined);
      }
      this.divergence.noteMatched(recorded);
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
      this.calls.park(seq, {
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
   * A durable call made with a bad argument (an invalid duration), or a call workflow code may
   * not make (a DeterminismViolationError): the workflow task fails with `err` (retried with
   * backoff, shown by `describe()`), nothing of it is recorded, and the call never settles, so
   * the code goes no further. A deploy that fixes the code resumes it.
   */
  refuse<T>(err: Error): Promise<T> {
    // A query or an update validator (read-only, possibly on the cached execution) fails alone:
    // it must not fail the workflow's next task.
    if (queryScope.getStore()) throw err;
    this.taskError ??= err;
    return new Promise<T>(() => undefined);
  }

  /** The command recorded for the next sequence number, if any (sideEffect decides from it). */
  peekRecorded(): CommandEvent | undefined {
    return this.recorded.get(this.nextSeq);
  }

  /** `upsertSearchAttributes(values)` (see search-attribute-upsert.ts). */
  upsertSearchAttributes(values: Record<string, SearchAttributeValue | null>): void {
    upsertSearchAttributes(this, values);
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
      this.calls.wait(waiting);
      startTimer?.().then(
        () => this.calls.stopWaiting(waiting) && resolve(false),
        (err: Error) => this.calls.stopWaiting(waiting) && reject(err),
      );
    });
  }

  /** Runs a `@Query` handler against the replayed state. */
  query(name: string, args: unknown[]): Promise<unknown> {
    return this.handlers.query(name, args);
  }

  /** Runs `fn` as this execution's workflow code. */
  inContext<T>(fn: () => T): T {
    return workflowStorage.run(this, fn);
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
        p?.reject(activityFailureOf(event));
        return;
      }
      case 'ChildWorkflowFailed': {
        const p = this.takePending(event);
        if (p?.command.type === 'ChildWorkflowScheduled') p.reject(childFailureOf(event, p.command));
        return;
      }
      case 'TimerFired':
        this.takePending(event)?.resolve(undefined);
        return;
      case 'SignalReceived':
        return this.handlers.signal(event.signalName, event.input);
      case 'WorkflowUpdateAccepted':
        return this.handlers.update(event);
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
      case 'WorkflowStartDebounced':
        return; // its input was taken before the code started (see activate)
      default:
        assertNever(event);
    }
  }

  private takePending(event: HistoryEvent & { seq: number }): PendingCompletion | undefined {
    const p = this.calls.take(event.seq);
    if (p === undefined) {
      this.nondeterminism ??= this.mismatch(event, `has no pending durable call with seq ${event.seq}`);
    }
    return p === 'abandoned' ? undefined : p;
  }

  private cancel(reason?: string): void {
    this.cancelRequested = true;
    this.calls.reject(
      (wait) => wait.cancellable,
      () => new CancelledFailure(`Workflow '${this.info.workflowId}' was cancelled${reason ? `: ${reason}` : ''}`),
    );
  }

  /**
   * `scope.cancel()`: rejects the durable calls and conditions made inside the scope (or scopes
   * within it) that have not settled; their late outcomes are ignored.
   */
  cancelScope(scope: ScopeState, failure: CancelledFailure): void {
    this.calls.reject(
      (wait) => wait.scope?.within(scope) === true,
      () => failure,
    );
  }

  /** True when no update handler is running (`allHandlersFinished()`). */
  get handlersFinished(): boolean {
    return this.handlers.finished;
  }

  /**
   * Runs an update's validator against the replayed state (read-only, as a query): throws
   * UnknownUpdateError for a name the class lacks, or WorkflowUpdateRejectedError with what the
   * validator threw.
   */
  validateUpdate(name: string, args: unknown[]): void {
    this.handlers.validate(name, args);
  }

  private startCode(): void {
    if (this.started) return;
    this.started = true;
    const { runMethod, name } = this.definition;
    const args = this.decodeRecorded(this.startInput ?? this.startEvent.input, `workflow '${name}' input`);
    if (!args) return;
    workflowStorage.run(this, () => {
      let result: Promise<unknown>;
      try {
        this.instance = createWorkflowInstance(this.definition);
        result = Promise.resolve(this.instance[runMethod](...asDeclaredTypes(this.instance, runMethod, args)));
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
  decodeRecorded(input: string[], what: string): unknown[] | undefined {
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

  /** Ends the run with `err` (or continues it as new, for a ContinueAsNew). */
  fail(err: unknown): void {
    if (err instanceof ContinueAsNew) {
      try {
        const input = this.converter.encodeAll(err.args, `continue-as-new of workflow '${this.info.workflowId}'`);
        return this.close({ status: 'continued', value: JSON.stringify(input), input });
      } catch (encodeError) {
        err = encodeError;
      }
    }
    this.close({ status: failedStatusOf(err, this.cancelRequested), value: JSON.stringify(serializeFailure(err)) });
  }

  private close(closing: Closing): void {
    if (this.closing || this.nondeterminism) return;
    if (this.recordedClose && closeTypeOf(closing.status) !== this.recordedClose.type) {
      this.nondeterminism = this.mismatch(this.recordedClose, `ended the workflow as ${closing.status}`);
      return;
    }
    this.closing = closing;
  }

  /** The error for `event`, where the code `produced` something else (made its call at `stack`, when it made one). */
  private mismatch(event: HistoryEvent, produced: string, stack?: string): NonDeterminismError {
    const divergence = this.divergence.at(event, produced, this.recorded.values(), stack);
    const { workflowId, runId } = this.info;
    return new NonDeterminismError(workflowId, runId, event.id, describeEvent(event), produced, divergence);
  }
}
