import { crashPoint } from '../core/crash-points.js';
import type {
  CloseSpec,
  CommitResult,
  CompletionResult,
  Lease,
  Logger,
  SpeculativeResult,
  WorkflowTaskStore,
} from '../core/ports/index.js';
import {
  CorruptHistoryError,
  LeaseLostError,
  NonDeterminismError,
  UnknownWorkflowTypeError,
} from '../core/errors/library.errors.js';
import type { DurableRegistry } from '../core/definitions/registry.js';
import type { HistoryEvent, NewEvent, WorkflowExecutionStarted } from '../core/events.js';
import type { StoredEvent } from '../core/events.js';
import { randomUUID } from 'node:crypto';
import type { DataConverter } from '../core/payload/data-converter.js';
import type { Dispatcher } from '../queues/dispatcher.js';
import { WorkflowActivation, type Closing, type NewCommand } from '../workflow/activation.js';
import type { WorkflowCache } from './workflow-cache.js';
import type { DurableMetrics } from '../observability/metrics.js';
import { inSpan } from '../observability/tracing.js';
import { deadlineOf, recordTimeouts } from '../core/workflow-timeouts.js';

export interface TaskRunnerOptions {
  leaseTtlMs: number;
  /** Reports a closed run to its parent and applies its children's parent-close policy. */
  afterClose: (workflowId: string, runId: string, related: { parent: boolean; children: boolean }) => Promise<void>;
  /** How long a closed run's history and meta are kept (0 = forever). */
  retentionMs: number;
  /** Delay before retrying a failed workflow task: min(maxMs, baseMs * 2^(attempt-1)). */
  taskRetry: { baseMs: number; maxMs: number };
  metrics: DurableMetrics;
  /** Runs a local activity (all its in-task attempts) and returns the outcome to record. */
  runLocal(workflow: { workflowId: string; runId: string; taskQueue: string }, cmd: LocalCommand): Promise<NewEvent>;
  /** Time given to local activities' outcomes (what workflow code sees); a test environment moves it. */
  now(): number;
}

/** A local activity's scheduling command. */
export type LocalCommand = Extract<NewCommand, { type: 'ActivityTaskScheduled' }> & {
  local: { attempt: number; firstScheduledAt: number };
};

function isLocal(cmd: NewCommand): cmd is LocalCommand {
  return cmd.type === 'ActivityTaskScheduled' && cmd.local !== undefined;
}

/**
 * A commit that records local outcomes was refused: other events arrived since the task's view.
 * Carries the whole history, read under the same lease (which the refusal renewed).
 */
class HistoryMovedOn extends Error {
  constructor(readonly history: StoredEvent[]) {
    super('events arrived while local activities ran');
  }
}

/** A commit's result, or HistoryMovedOn when it was refused for that reason. */
function movedOn<T extends { kind: string }>(res: T | { kind: 'changed'; lease: Lease }): T {
  if (res.kind === 'changed') throw new HistoryMovedOn((res as { lease: Lease }).lease.events);
  return res as T;
}

/** Commands that become jobs (markers, update completions and search attribute upserts are only recorded; local activities ran in the task). */
function jobCommands(commands: NewCommand[]): NewCommand[] {
  return commands.filter(
    (c) =>
      c.type !== 'MarkerRecorded' &&
      c.type !== 'WorkflowUpdateCompleted' &&
      c.type !== 'UpsertWorkflowSearchAttributes' &&
      !isLocal(c),
  );
}

/**
 * Runs workflow tasks: takes the lease, feeds new events to the cached execution (or
 * replays the history into a fresh one), commits the commands under the lease's fence,
 * dispatches their jobs, and releases the lease, looping while events keep arriving.
 */
export class WorkflowTaskRunner {
  constructor(
    private readonly store: WorkflowTaskStore,
    private readonly registry: DurableRegistry,
    private readonly converter: DataConverter,
    private readonly cache: WorkflowCache,
    private readonly dispatcher: Dispatcher,
    private readonly options: TaskRunnerOptions,
    private readonly logger: Logger,
  ) {}

  /** Where the cached execution of a run stands (passed to scripts so they return only new events). */
  cursor(workflowId: string, runId: string): { fence: number; lastId: string } | undefined {
    const a = this.cache.get(workflowId, runId);
    return a ? { fence: a.fence, lastId: a.lastId } : undefined;
  }

  /** Task runs per workflow in this process, chained so that one cached execution never runs twice at once. */
  private readonly inProcess = new Map<string, Promise<void>>();

  /**
   * Runs the task of a workflow run, taking the lease unless the caller already holds it.
   * A task releases the lease before dispatching its jobs, so another task of the same
   * workflow can start here meanwhile; it waits for the first to finish.
   */
  run(
    workflowId: string,
    runId: string,
    taskQueue: string,
    held?: Lease,
    opts: { replay?: boolean } = {},
  ): Promise<void> {
    return this.exclusive(workflowId, () => this.runNow(workflowId, runId, taskQueue, held, opts));
  }

  private exclusive(workflowId: string, fn: () => Promise<void>): Promise<void> {
    const previous = this.inProcess.get(workflowId);
    // A failed task must not keep the next one from running.
    const next = (previous ?? Promise.resolve()).catch(() => undefined).then(fn);
    this.inProcess.set(workflowId, next);
    return next.finally(() => {
      if (this.inProcess.get(workflowId) === next) this.inProcess.delete(workflowId);
    });
  }

  /**
   * Records an activity or timer outcome and runs the workflow's next task. When this process
   * holds the execution in its cache, the outcome is delivered first and recorded together
   * with the commands it produced in one script (the steady-state step); if another worker
   * moved the workflow on meanwhile, the cached execution is dropped and the history replayed.
   */
  complete(workflowId: string, runId: string, taskQueue: string, outcome: OutcomeEvent): Promise<void> {
    return this.exclusive(workflowId, () =>
      this.failIfCorrupt(workflowId, runId, taskQueue, async () => {
        const activation = this.cache.get(workflowId, runId);
        if (
          activation &&
          (await inSpan('redurable.workflow_task', spanAttributes(activation.info), activation.trace, () =>
            this.deliverCached(activation, outcome, taskQueue),
          ))
        )
          return;
        const res = await this.store.appendCompletion(
          workflowId,
          runId,
          outcome,
          true,
          this.options.leaseTtlMs,
          this.cursor(workflowId, runId),
        );
        crashPoint('completion.after-append');
        await this.afterRecorded(workflowId, runId, taskQueue, res, outcome.seq);
      }),
    );
  }

  /**
   * A script that took the lease returned history this worker cannot read: the lease is held
   * all the same, so the task is failed with that error (describe() shows it, and it is retried
   * with backoff) instead of leaving the workflow with a silent, expiring lease.
   */
  private async failIfCorrupt(
    workflowId: string,
    runId: string,
    taskQueue: string,
    fn: () => Promise<void>,
  ): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (!(err instanceof CorruptHistoryError) || err.leaseFence === undefined) throw err;
      this.cache.evict(workflowId);
      await this.failTask(workflowId, runId, taskQueue, err.leaseFence, err);
    }
  }

  /** After an outcome was recorded without a commit: run the task if the lease came with it, or ask for one. */
  private async afterRecorded(
    workflowId: string,
    runId: string,
    taskQueue: string,
    res: CompletionResult,
    seq: number,
  ): Promise<void> {
    if (res.kind === 'acquired') await this.runNow(workflowId, runId, taskQueue, res.lease, {});
    else if (res.kind === 'needs-task') await this.dispatcher.enqueueTask(workflowId, runId, taskQueue, `c${seq}`);
  }

  /** The speculative step; false when the outcome still has to be recorded the normal way. */
  private async deliverCached(
    activation: WorkflowActivation,
    outcome: OutcomeEvent,
    taskQueue: string,
  ): Promise<boolean> {
    const { workflowId, runId } = activation.info;
    const began = performance.now();
    try {
      await activation.activate([{ streamId: activation.lastId, event: { ...outcome, id: 0 } as HistoryEvent }]);
    } catch {
      this.cache.evict(workflowId); // the replay that follows reports the problem with the right event id
      return false;
    }
    const all = activation.takeCommands();
    const closing = activation.takeClosing();
    // Local activities the code now waits for run under the lease, after the outcome and the
    // other commands are recorded (the lease is kept): see withLocalActivities. Those of a run
    // that is closing are not run.
    const locals = closing ? [] : all.filter(isLocal);
    const commands = all.filter((c) => !isLocal(c));
    const toDispatch = jobCommands(commands);
    const close = closing && this.closeSpec(activation, closing);
    const events = withScheduleTime(commands, activation.now);
    let res: SpeculativeResult;
    try {
      if (close && schedulesChild(commands)) await this.store.markHasChildren(workflowId);
      res = await this.store.completeAndCommit({
        workflowId,
        runId,
        outcome,
        cachedFence: activation.fence,
        leaseTtlMs: this.options.leaseTtlMs,
        events: close ? [...events, close.event] : events,
        close: close?.spec,
        keepLease: locals.length > 0,
        dispatch: toDispatch.length > 0 && !closing,
        retentionMs: this.options.retentionMs,
      });
    } catch (err) {
      this.cache.evict(workflowId); // it consumed the outcome, which may not be recorded
      throw err;
    }
    if (res.kind !== 'committed') {
      // Another task ran meanwhile (or the outcome was a duplicate): this execution consumed an
      // event the history may not hold in that place, so it is dropped and rebuilt by replay.
      this.cache.evict(workflowId);
      await this.afterRecorded(workflowId, runId, taskQueue, res, outcome.seq);
      return true;
    }
    activation.fence = res.fence;
    activation.lastId = res.lastId;
    this.options.metrics.cacheLookup(true);
    this.options.metrics.workflowTask(activation.info.workflowType, (performance.now() - began) / 1000);
    crashPoint('task.after-commit');
    if (close) {
      await this.closed(activation, close.spec, taskQueue, commands);
      return true;
    }
    if (locals.length > 0) {
      // The local activities must run under the kept lease whatever happens to these jobs (the
      // commit set the dispatch mark: the sweep adds what is missing).
      if (toDispatch.length > 0)
        await this.trackedDispatch(
          { workflowId, runId, taskQueue, trace: activation.trace },
          toDispatch,
          activation.now,
        );
      await this.runLeased(
        workflowId,
        runId,
        taskQueue,
        { fence: res.fence, full: false, events: [] },
        { activation, pending: locals },
      );
      return true;
    }
    if (toDispatch.length > 0) {
      // Not awaited: the job that brought the outcome finishes while the next jobs are added, two
      // writes in flight at once instead of one after the other. The commit set the dispatch
      // mark, so a crash or an error before the jobs exist is repaired by the recovery sweep.
      void this.trackedDispatch({ workflowId, runId, taskQueue, trace: activation.trace }, toDispatch, activation.now);
    }
    return true;
  }

  /** Jobs being added after a commit that did not wait for them; shutdown waits for them (settled()). */
  private readonly dispatching = new Set<Promise<void>>();

  /**
   * Adds a committed step's jobs; never throws: a failure is logged, and the dispatch mark the
   * commit set has the recovery sweep add what is missing.
   */
  private trackedDispatch(
    workflow: { workflowId: string; runId: string; taskQueue: string; trace?: WorkflowActivation['trace'] },
    commands: NewCommand[],
    now: number,
  ): Promise<void> {
    const { workflowId, runId } = workflow;
    const done: Promise<void> = this.dispatcher
      .dispatch(workflow, commands, now)
      .then(
        () => crashPoint('task.after-dispatch'),
        (err: Error) =>
          this.logger.warn?.(
            `Workflow ${workflowId} (run ${runId}): adding the jobs of its step failed (${err.message}); the recovery sweep adds them`,
          ),
      )
      .finally(() => this.dispatching.delete(done));
    this.dispatching.add(done);
    return done;
  }

  /** Resolves once the jobs being added by finished tasks are added (or failed). */
  async settled(): Promise<void> {
    await Promise.all(this.dispatching);
  }

  private async runNow(
    workflowId: string,
    runId: string,
    taskQueue: string,
    held: Lease | undefined,
    opts: { replay?: boolean },
  ): Promise<void> {
    if (opts.replay) this.cache.evict(workflowId);
    let lease = held;
    if (!lease) {
      let acquired: Awaited<ReturnType<WorkflowTaskStore['acquire']>> | undefined;
      await this.failIfCorrupt(workflowId, runId, taskQueue, async () => {
        acquired = await this.store.acquire(workflowId, runId, this.options.leaseTtlMs, this.cursor(workflowId, runId));
      });
      if (acquired?.kind !== 'acquired') return;
      lease = acquired.lease;
    }
    const leased = lease;
    const started = leased.full ? (leased.events[0]?.event as WorkflowExecutionStarted | undefined) : undefined;
    const cached = this.cache.get(workflowId, runId);
    const parent = started?.type === 'WorkflowExecutionStarted' ? started.trace : cached?.trace;
    const attributes = spanAttributes({
      workflowId,
      runId,
      workflowType: started?.workflowType ?? cached?.info.workflowType,
      taskQueue,
    });
    await inSpan('redurable.workflow_task', attributes, parent, () =>
      this.runLeased(workflowId, runId, taskQueue, leased),
    );
  }

  /** The task itself, once the lease is held. */
  private async runLeased(
    workflowId: string,
    runId: string,
    taskQueue: string,
    lease: Lease,
    resume?: { activation: WorkflowActivation; pending: NewCommand[] },
  ): Promise<void> {
    let activation: WorkflowActivation | undefined = resume?.activation;
    const began = performance.now();
    try {
      let events = lease.events;
      let replayed = false;
      if (!activation) {
        activation = lease.full ? undefined : this.cache.get(workflowId, runId);
        this.options.metrics.cacheLookup(activation !== undefined);
      }
      if (!activation) {
        if (!lease.full) events = await this.store.readEntries(workflowId, runId);
        activation = this.createActivation(events);
        replayed = true;
        // Every run's first task is a replay, as is every task after a crash or a failed task:
        // the run's timeout job is (re-)added then, under the lease and before its code runs, so
        // a run whose tasks keep failing (a started, continued or reset run) is still closed at
        // its deadline. Its job id makes this idempotent.
        const deadline = deadlineOf(activation.timeouts);
        if (deadline) await this.dispatcher.scheduleTimeout({ workflowId, runId, taskQueue }, deadline);
      }
      activation.fence = lease.fence;
      let pending = resume?.pending ?? [];
      for (;;) {
        await activation.activate(events);
        let more: StoredEvent[] | undefined;
        try {
          more = await this.commitRound(activation, taskQueue, replayed, pending);
        } catch (err) {
          if (!(err instanceof HistoryMovedOn)) throw err;
          // Events arrived while local activities ran: their outcomes were not recorded. The
          // whole history is replayed under the same lease, and those local activities run again.
          this.cache.evict(workflowId);
          events = err.history;
          activation = this.createActivation(events);
          activation.fence = lease.fence;
          replayed = true;
          pending = [];
          continue;
        }
        replayed = false;
        pending = [];
        if (!more) break;
        events = more;
      }
      if (activation.isClosed) this.cache.evict(workflowId);
      else this.cache.set(activation);
      this.options.metrics.workflowTask(activation.info.workflowType, (performance.now() - began) / 1000);
    } catch (err) {
      this.cache.evict(workflowId);
      if (err instanceof LeaseLostError) {
        this.logger.warn?.(err.message);
        return;
      }
      await this.failTask(workflowId, runId, taskQueue, lease.fence, err);
    }
  }

  /** Commits one round of commands; returns events that arrived meanwhile, if any. */
  private async commitRound(
    activation: WorkflowActivation,
    taskQueue: string,
    replayed: boolean,
    pending: NewCommand[],
  ): Promise<StoredEvent[] | undefined> {
    const { workflowId, runId } = activation.info;
    const { commands, events, ranLocal } = await this.withLocalActivities(activation, [
      ...pending,
      ...activation.takeCommands(),
    ]);
    // Local outcomes are recorded only if no other event arrived since this task's view (clean).
    const clean = ranLocal;
    const closing = activation.takeClosing();
    if (closing) {
      const close = this.closeSpec(activation, closing);
      events.push(close.event);
      if (schedulesChild(commands)) await this.store.markHasChildren(workflowId);
      movedOn(
        await this.store.commit({
          workflowId,
          runId,
          fence: activation.fence,
          lastId: activation.lastId,
          events,
          release: true,
          clean,
          leaseTtlMs: this.options.leaseTtlMs,
          close: close.spec,
          retentionMs: this.options.retentionMs,
        }),
      );
      await this.closed(activation, close.spec, taskQueue, commands);
      return undefined;
    }
    const toDispatch = jobCommands(commands);
    const base = {
      workflowId,
      runId,
      fence: activation.fence,
      lastId: activation.lastId,
      leaseTtlMs: this.options.leaseTtlMs,
      clean,
    };
    let appendedLastId: string;
    let result: CommitResult;
    const outstanding = replayed ? activation.outstandingRecorded() : [];
    if (outstanding.length > 0) {
      // A rebuilt execution re-dispatches everything outstanding while it holds the lease,
      // and only then clears the dispatch mark (job ids make re-dispatching idempotent).
      appendedLastId =
        events.length > 0
          ? movedOn(await this.store.commit({ ...base, events, release: false })).lastId
          : activation.lastId;
      crashPoint('task.after-commit');
      await this.dispatcher.dispatch(
        { workflowId, runId, taskQueue, trace: activation.trace },
        [...toDispatch, ...outstanding],
        activation.now,
      );
      crashPoint('task.after-dispatch');
      result = movedOn(
        await this.store.commit({
          ...base,
          lastId: appendedLastId,
          clean: false,
          events: [],
          release: true,
          dispatchMark: 'clear',
        }),
      );
    } else {
      // Steady state: one script commits and releases; the mark covers a crash before dispatch.
      // A replay with nothing outstanding (a first task) may clear an old mark: nothing is owed.
      const mark = toDispatch.length > 0 ? 'set' : replayed ? 'clear' : undefined;
      result = movedOn(await this.store.commit({ ...base, events, release: true, dispatchMark: mark }));
      appendedLastId = result.lastId;
      crashPoint('task.after-commit');
      if (toDispatch.length > 0)
        await this.dispatcher.dispatch(
          { workflowId, runId, taskQueue, trace: activation.trace },
          toDispatch,
          activation.now,
        );
      crashPoint('task.after-dispatch');
    }
    if (result.kind === 'more') return result.events;
    activation.lastId = appendedLastId;
    return undefined;
  }

  /**
   * Runs the local activities among a round's commands, under the task's lease, and feeds their
   * outcomes to the execution for as long as its code goes on calling local activities. Returns
   * all the round's commands and the events to record: other commands at once, a local
   * activity's scheduling together with its outcome, so that every prefix of the list is a
   * history a replay can continue from. Every commit that records local outcomes is `clean`:
   * refused if another event (a signal, a cancellation, an outcome) arrived since the task's
   * view, since the code saw the outcomes first (the task then replays, see HistoryMovedOn). A
   * crash before the commit loses the outcomes: the next task runs those local activities again.
   * While they run, the lease is renewed every third of its ttl, and what is done so far is
   * recorded between batches at the same pace.
   */
  private async withLocalActivities(
    activation: WorkflowActivation,
    first: NewCommand[],
  ): Promise<{ commands: NewCommand[]; events: NewEvent[]; ranLocal: boolean }> {
    const commands = [...first];
    const { workflowId, runId, taskQueue } = activation.info;
    const every = this.options.leaseTtlMs / 3;
    let events = withScheduleTime(
      first.filter((c) => !isLocal(c)),
      activation.now,
    );
    let ranLocal = false;
    let since = performance.now();
    for (let local = first.filter(isLocal); local.length > 0 && !activation.isClosed;) {
      if (ranLocal && performance.now() - since > every) {
        const jobs = events.some(
          (e) =>
            e.type === 'TimerStarted' ||
            e.type === 'ChildWorkflowScheduled' ||
            (e.type === 'ActivityTaskScheduled' && !e.local),
        );
        const res = movedOn(
          await this.store.commit({
            workflowId,
            runId,
            fence: activation.fence,
            lastId: activation.lastId,
            events,
            release: false,
            clean: true,
            leaseTtlMs: this.options.leaseTtlMs,
            dispatchMark: jobs ? 'set' : undefined,
          }),
        );
        activation.lastId = res.lastId;
        crashPoint('local.after-checkpoint');
        events = [];
        since = performance.now();
      }
      const renew = setInterval(() => {
        void this.store
          .renewLease(workflowId, runId, activation.fence, activation.lastId, this.options.leaseTtlMs)
          .catch(() => undefined); // a lost lease shows at the commit
      }, every);
      let outcomes: (NewEvent & { ts: number })[];
      try {
        outcomes = await Promise.all(
          local.map(async (cmd) => ({
            ...(await this.options.runLocal({ workflowId, runId, taskQueue }, cmd)),
            ts: this.options.now(),
          })),
        );
      } finally {
        clearInterval(renew);
      }
      crashPoint('local.after-run');
      ranLocal = true;
      events.push(...local, ...outcomes);
      await activation.activate(
        outcomes.map((event) => ({ streamId: activation.lastId, event: { ...event, id: 0 } as HistoryEvent })),
      );
      const more = activation.takeCommands();
      commands.push(...more);
      events.push(
        ...withScheduleTime(
          more.filter((c) => !isLocal(c)),
          activation.now,
        ),
      );
      local = more.filter(isLocal);
    }
    return { commands, events, ranLocal };
  }

  /** The event and store instructions that end a run (continue-as-new names the next run). */
  private closeSpec(activation: WorkflowActivation, closing: Closing): { event: NewEvent; spec: CloseSpec } {
    const { workflowId, workflowType, taskQueue } = activation.info;
    switch (closing.status) {
      case 'completed':
        return { event: { type: 'WorkflowExecutionCompleted', result: closing.value }, spec: closing };
      case 'canceled':
        return { event: { type: 'WorkflowExecutionCanceled', failure: JSON.parse(closing.value) }, spec: closing };
      case 'continued': {
        const runId = randomUUID();
        const started = {
          type: 'WorkflowExecutionStarted' as const,
          workflowType,
          workflowId,
          runId,
          taskQueue,
          input: closing.input,
          continuedFromRunId: activation.info.runId,
          ...(activation.parent ? { parent: activation.parent } : {}),
          ...(activation.trace ? { trace: activation.trace } : {}),
          ...carriedTimeouts(activation.timeouts, this.options.now()),
          // Search attributes (as upserted so far) and memo carry over, as Temporal does; the meta keeps the indexed map.
          ...(Object.keys(activation.recordedSearchAttributes).length
            ? { searchAttributes: activation.recordedSearchAttributes }
            : {}),
          ...(activation.memo ? { memo: activation.memo } : {}),
        };
        return {
          event: { type: 'WorkflowExecutionContinuedAsNew', newRunId: runId, input: closing.input },
          spec: { status: 'continued', value: '', next: { runId, started } },
        };
      }
      default:
        return { event: { type: 'WorkflowExecutionFailed', failure: JSON.parse(closing.value) }, spec: closing };
    }
  }

  /**
   * After the close is committed: start children the last round scheduled (their parent-close
   * policy then applies to them), then start the next run's first task, or report to the
   * parent and apply the children's parent-close policy.
   */
  private async closed(
    activation: WorkflowActivation,
    spec: CloseSpec,
    taskQueue: string,
    commands: NewCommand[],
  ): Promise<void> {
    const { workflowId, runId } = activation.info;
    this.cache.evict(workflowId);
    crashPoint('close.after-commit');
    if (deadlineOf(activation.timeouts)) await this.dispatcher.cancelTimeout({ workflowId, runId, taskQueue });
    const children = commands.filter((c) => c.type === 'ChildWorkflowScheduled');
    if (children.length > 0)
      await this.dispatcher.dispatch(
        { workflowId, runId, taskQueue, trace: activation.trace },
        children,
        activation.now,
      );
    if (spec.next) {
      this.options.metrics.workflowClosed(activation.info.workflowType, 'continued');
      this.logger.log?.(`Workflow ${workflowId} (run ${runId}) continued as new run ${spec.next.runId}`);
      await this.dispatcher.enqueueTask(workflowId, spec.next.runId, taskQueue, 'start');
      return;
    }
    this.logger.log?.(`Workflow ${workflowId} (run ${runId}) ${spec.status}`);
    this.options.metrics.workflowClosed(activation.info.workflowType, spec.status);
    if (activation.parent || activation.hasChildren) {
      await this.options.afterClose(workflowId, runId, {
        parent: activation.parent !== undefined,
        children: activation.hasChildren,
      });
    }
  }

  private createActivation(events: StoredEvent[]): WorkflowActivation {
    const started = events[0]?.event as WorkflowExecutionStarted | undefined;
    if (!started || started.type !== 'WorkflowExecutionStarted')
      throw new Error('History does not begin with WorkflowExecutionStarted');
    const definition = this.registry.workflows.get(started.workflowType);
    if (!definition) throw new UnknownWorkflowTypeError(started.workflowType);
    return new WorkflowActivation(definition, started, this.converter);
  }

  private async failTask(
    workflowId: string,
    runId: string,
    taskQueue: string,
    fence: number,
    err: unknown,
  ): Promise<void> {
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    const kind =
      err instanceof NonDeterminismError
        ? 'non-determinism error'
        : err instanceof CorruptHistoryError
          ? 'failed on a corrupt history'
          : 'failed';
    const failed = await this.store.failTask(workflowId, fence, message, this.options.taskRetry);
    if (!failed) return;
    this.logger.error?.(
      `Workflow task ${kind} for workflow ${workflowId} (run ${runId}), attempt ${failed.attempt}; retrying in ${failed.delayMs}ms: ${message}`,
    );
    await this.dispatcher.enqueueTask(workflowId, runId, taskQueue, `retry-${failed.attempt}`, failed.delayMs);
  }
}

/** An activity or timer outcome, stamped with the time the worker gave it. */
export type OutcomeEvent = Extract<
  NewEvent,
  { type: 'ActivityTaskCompleted' | 'ActivityTaskFailed' | 'TimerFired' }
> & { ts: number };

/**
 * Children scheduled in the round that closes their parent start after the close is committed;
 * flagging the parent first puts its close in the closed-parents index, whose sweep starts
 * them if a crash came in between.
 */
/**
 * A timer is recorded with the workflow time at which the code started it (not the later time
 * of the commit), so its due time is `ts + durationMs` in the history, as in the timer job.
 */
function withScheduleTime(commands: NewCommand[], now: number): NewEvent[] {
  return commands.map((c) => (c.type === 'TimerStarted' ? ({ ...c, ts: now } as NewEvent) : c));
}

/** The attributes of a workflow task's span. */
function spanAttributes({
  workflowId,
  runId,
  workflowType,
  taskQueue,
}: {
  workflowId: string;
  runId: string;
  workflowType?: string;
  taskQueue: string;
}): Record<string, string | undefined> {
  return {
    'workflow.id': workflowId,
    'workflow.run_id': runId,
    'workflow.type': workflowType,
    'workflow.task_queue': taskQueue,
  };
}

/** A continued run keeps the execution's deadline and gets a run deadline of its own. */
function carriedTimeouts(
  timeouts: WorkflowExecutionStarted['timeouts'],
  now: number,
): Pick<WorkflowExecutionStarted, 'timeouts'> {
  if (!timeouts) return {};
  const { executionTimeoutMs, runTimeoutMs, executionDeadline } = timeouts;
  return { timeouts: recordTimeouts({ executionTimeoutMs, runTimeoutMs }, now, executionDeadline) };
}

function schedulesChild(commands: NewCommand[]): boolean {
  return commands.some((c) => c.type === 'ChildWorkflowScheduled');
}
