import { crashPoint } from '../core/crash-points.js';
import type { DurableRegistry } from '../core/definitions/registry.js';
import {
  CorruptHistoryError,
  LeaseLostError,
  NonDeterminismError,
  UnknownWorkflowTypeError,
} from '../core/errors/library.errors.js';
import type { HistoryEvent, StoredEvent, WorkflowExecutionStarted } from '../core/events.js';
import type { DataConverter } from '../core/payload/data-converter.js';
import type {
  AcquireResult,
  Clock,
  CompletionResult,
  DurableMetrics,
  JobDispatcher,
  Lease,
  Logger,
  RunClosing,
  SpeculativeResult,
  TaskRetry,
  WorkflowTaskStore,
} from '../core/ports/index.js';
import { deadlineOf } from '../core/workflow-timeouts.js';
import { inSpan } from '../observability/tracing.js';
import { WorkflowActivation, type NewCommand } from '../workflow/activation.js';
import {
  isLocal,
  jobCommands,
  schedulesChild,
  spanAttributes,
  withScheduleTime,
  type OutcomeEvent,
} from './commands.js';
import { closeSpec, RunCloser } from './run-close.js';
import type { StepDispatch, StepOwner } from './step-dispatch.js';
import type { EagerActivities, EagerSink } from './eager-activities.js';
import { HistoryMovedOn, pinsRun, TaskCommits, type LocalActivityRunner } from './task-commits.js';
import type { WorkflowVersioning } from '../core/definitions/metadata.js';
import type { WorkflowCache } from './workflow-cache.js';
import type { WorkflowSlots } from '../queues/workflow-slots.js';

export type { OutcomeEvent };

/** How a task job asks for its task. */
export interface TaskOptions {
  /** Rebuild the execution from history and re-dispatch everything outstanding. */
  replay?: boolean;
  /** Run it only if the run is pinned to this build (a task from the shared queue while a newer build serves it). */
  pinnedOnly?: boolean;
}

export interface TaskRunnerDeps {
  store: WorkflowTaskStore;
  registry: DurableRegistry;
  converter: DataConverter;
  cache: WorkflowCache;
  /** Task jobs and workflow timeout jobs. */
  dispatcher: JobDispatcher;
  /** A step's activity and timer jobs and child workflows. */
  steps: StepDispatch;
  /** Runs the local activities a task's code calls. */
  local: LocalActivityRunner;
  /** Runs a step's activities here, claimed by its commit, when it can. */
  eager: EagerActivities;
  /** Tells a closed run's parent and applies its children's parent-close policy. */
  runs: RunClosing;
  /** Frees a closed run's concurrency slot. */
  slots: Pick<WorkflowSlots, 'releaseAfterClose'>;
  metrics: DurableMetrics;
  logger: Logger;
  /** Time given to outcomes and continued runs (what workflow code sees); a test environment moves it. */
  clock: Clock;
  settings: {
    leaseTtlMs: number;
    /** How long a closed run's history and meta are kept (0 = forever). */
    retentionMs: number;
    /** Delay before retrying a failed workflow task: min(maxMs, baseMs * 2^(attempt-1)). */
    taskRetry: TaskRetry;
    /** This process's build (recorded with a run it continues as new). */
    buildId?: string;
    /** The versioning of types that set none (module option `defaultVersioning`). */
    defaultVersioning?: WorkflowVersioning;
  };
}

/**
 * Runs workflow tasks: takes the lease, feeds new events to the cached execution (or
 * replays the history into a fresh one), commits the commands under the lease's fence,
 * dispatches their jobs, and releases the lease, looping while events keep arriving.
 */
export class WorkflowTaskRunner {
  private readonly commits: TaskCommits;
  private readonly closer: RunCloser;
  /** Task runs per workflow in this process, chained so that one cached execution never runs twice at once. */
  private readonly inProcess = new Map<string, Promise<void>>();

  constructor(private readonly deps: TaskRunnerDeps) {
    const { cache, dispatcher, steps, runs, slots, metrics, logger, store, local, eager, clock, settings } = deps;
    this.closer = new RunCloser({ cache, dispatcher, steps, runs, slots, metrics, logger });
    const outcomes = (owner: StepOwner): EagerSink => this.sinkFor(owner);
    const tasks = dispatcher;
    this.commits = new TaskCommits({
      store,
      tasks,
      steps,
      local,
      eager,
      outcomes,
      closer: this.closer,
      clock,
      settings,
    });
  }

  /** Where the cached execution of a run stands (passed to scripts so they return only new events). */
  cursor(workflowId: string, runId: string): { fence: number; lastId: string } | undefined {
    const a = this.deps.cache.get(workflowId, runId);
    return a ? { fence: a.fence, lastId: a.lastId } : undefined;
  }

  /**
   * Runs the task of a workflow run, taking the lease unless the caller already holds it.
   * A task releases the lease before dispatching its jobs, so another task of the same
   * workflow can start here meanwhile; it waits for the first to finish.
   */
  run(workflowId: string, runId: string, taskQueue: string, held?: Lease, opts: TaskOptions = {}): Promise<void> {
    return this.exclusive(workflowId, () => this.runNow(workflowId, runId, taskQueue, held, opts));
  }

  /**
   * Runs `fn` on this process's cached execution of a run (a query from a process without the
   * workflow's class), when it holds one and no task of the workflow runs here now; a task that
   * comes meanwhile waits for `fn`. Undefined when there is no such execution.
   */
  async withIdleCached<T>(
    workflowId: string,
    runId: string,
    fn: (activation: WorkflowActivation) => Promise<T>,
  ): Promise<{ value: T } | undefined> {
    // A query of another run (an older one) must not evict the current run's execution: only looked at.
    const { cache } = this.deps;
    if (this.inProcess.has(workflowId) || !cache.holds(workflowId, runId)) return undefined;
    let result: { value: T } | undefined;
    await this.exclusive(workflowId, async () => {
      if (cache.holds(workflowId, runId)) result = { value: await fn(cache.get(workflowId, runId)!) };
    });
    return result;
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
  complete(
    workflowId: string,
    runId: string,
    taskQueue: string,
    outcome: OutcomeEvent,
    priority?: number,
  ): Promise<void> {
    const { cache, store, settings } = this.deps;
    return this.exclusive(workflowId, () =>
      this.failIfCorrupt(workflowId, runId, taskQueue, async () => {
        const activation = cache.get(workflowId, runId);
        if (
          activation &&
          (await inSpan('redurable.workflow_task', spanAttributes(activation.info), activation.trace, () =>
            this.deliverCached(activation, outcome, taskQueue),
          ))
        )
          return;
        const res = await store.appendCompletion(workflowId, runId, outcome, {
          inline: true,
          leaseTtlMs: settings.leaseTtlMs,
          cursor: this.cursor(workflowId, runId),
        });
        crashPoint('completion.after-append');
        await this.afterRecorded(workflowId, runId, taskQueue, res, outcome.seq, priority);
      }),
    );
  }

  /** Where the outcome of an eager activity of `owner` goes: recorded with the run's next step, like any outcome. */
  private sinkFor(owner: StepOwner): EagerSink {
    const { workflowId, runId, taskQueue, priority } = owner;
    return (event) =>
      this.complete(workflowId, runId, taskQueue, Object.assign(event, { ts: this.deps.clock.now() }), priority);
  }

  /** Resolves once the steps being dispatched in the background are (or failed). */
  settled(): Promise<void> {
    return this.deps.steps.settled();
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
      this.deps.cache.evict(workflowId);
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
    priority?: number,
  ): Promise<void> {
    if (res.kind === 'acquired') await this.runNow(workflowId, runId, taskQueue, res.lease, {});
    else if (res.kind === 'needs-task')
      await this.deps.dispatcher.enqueueTask(workflowId, runId, taskQueue, `c${seq}`, { priority, build: res.build });
  }

  /** The speculative step; false when the outcome still has to be recorded the normal way. */
  private async deliverCached(
    activation: WorkflowActivation,
    outcome: OutcomeEvent,
    taskQueue: string,
  ): Promise<boolean> {
    const { cache, store, steps, eager, metrics, settings, clock } = this.deps;
    const { workflowId, runId } = activation.info;
    const began = performance.now();
    try {
      await activation.activate([{ streamId: activation.lastId, event: { ...outcome, id: 0 } as HistoryEvent }]);
    } catch {
      cache.evict(workflowId); // the replay that follows reports the problem with the right event id
      return false;
    }
    const all = activation.takeCommands();
    const closing = activation.takeClosing();
    // Local activities the code now waits for run under the lease, after the outcome and the
    // other commands are recorded (the lease is kept): see TaskCommits. Those of a run that is
    // closing are not run.
    const locals = closing ? [] : all.filter(isLocal);
    const commands = all.filter((c) => !isLocal(c));
    // Activities this worker runs itself, claimed by the commit (none when the run closes).
    const owner = { workflowId, runId, taskQueue, trace: activation.trace, priority: activation.startEvent.priority };
    const plan = eager.plan(jobCommands(commands), owner, !closing);
    const toDispatch = plan.queued;
    const close = closing && closeSpec(activation, closing, clock.now(), settings.buildId);
    const events = withScheduleTime(commands, activation.now);
    let res: SpeculativeResult;
    try {
      if (close && schedulesChild(commands)) await store.markHasChildren(workflowId);
      res = await store.completeAndCommit({
        workflowId,
        runId,
        outcome,
        cachedFence: activation.fence,
        leaseTtlMs: settings.leaseTtlMs,
        events: close ? [...events, close.event] : events,
        close: close?.spec,
        keepLease: locals.length > 0,
        dispatch: toDispatch.length > 0 && !closing,
        retentionMs: settings.retentionMs,
        claims: plan.claims,
        pin: pinsRun(activation, settings),
      });
    } catch (err) {
      plan.cancel();
      cache.evict(workflowId); // it consumed the outcome, which may not be recorded
      throw err;
    }
    if (res.kind !== 'committed') {
      plan.cancel();
      // Another task ran meanwhile (or the outcome was a duplicate): this execution consumed an
      // event the history may not hold in that place, so it is dropped and rebuilt by replay.
      cache.evict(workflowId);
      await this.afterRecorded(workflowId, runId, taskQueue, res, outcome.seq, activation.startEvent.priority);
      return true;
    }
    activation.fence = res.fence;
    activation.lastId = res.lastId;
    metrics.cacheLookup(true);
    metrics.workflowTask(activation.info.workflowType, (performance.now() - began) / 1000);
    crashPoint('task.after-commit');
    if (close) {
      await this.closer.closed(activation, close.spec, taskQueue, commands);
      return true;
    }
    plan.start(owner, activation.now, this.sinkFor(owner));
    if (locals.length > 0) {
      // The local activities must run under the kept lease whatever happens to these jobs (the
      // commit set the dispatch mark: the sweep adds what is missing).
      if (toDispatch.length > 0) await steps.track(owner, toDispatch, activation.now);
      await this.runLeased(
        workflowId,
        runId,
        taskQueue,
        { fence: res.fence, full: false, events: [] },
        { activation, pending: locals },
      );
      return true;
    }
    // Not awaited: the job that brought the outcome finishes while the next jobs are added, two
    // writes in flight at once instead of one after the other. The commit set the dispatch
    // mark, so a crash or an error before the jobs exist is repaired by the recovery sweep.
    if (toDispatch.length > 0) void steps.track(owner, toDispatch, activation.now);
    return true;
  }

  private async runNow(
    workflowId: string,
    runId: string,
    taskQueue: string,
    held: Lease | undefined,
    opts: TaskOptions,
  ): Promise<void> {
    const { cache, store, settings } = this.deps;
    if (opts.replay) cache.evict(workflowId);
    let lease = held;
    if (!lease) {
      let acquired: AcquireResult | undefined;
      await this.failIfCorrupt(workflowId, runId, taskQueue, async () => {
        acquired = await store.acquire(
          workflowId,
          runId,
          settings.leaseTtlMs,
          this.cursor(workflowId, runId),
          opts.pinnedOnly,
        );
      });
      if (acquired?.kind === 'not-due') {
        // A debounced run's task that came early (this machine's clock is ahead of Redis'): again, then.
        await this.deps.dispatcher.enqueueTask(workflowId, runId, taskQueue, `due-${Date.now()}`, {
          delay: acquired.inMs + 1,
          priority: acquired.priority,
        });
        return;
      }
      if (acquired?.kind === 'wrong-build') {
        // A pinned run of another build: its task goes to that build's queue; a run not pinned,
        // taken while a newer build serves the task queue, back to the shared queue (a job id per
        // fence state, so a task forwarded again while one waits there adds nothing).
        crashPoint('task.before-forward');
        const { build, fence, priority } = acquired;
        // A task given back may come to this very worker again before its own job ends: an id of its own.
        const tag = build ? `pinned-${fence}` : `handback-${fence}-${Date.now()}`;
        await this.deps.dispatcher.enqueueTask(workflowId, runId, taskQueue, tag, {
          priority,
          build: build || undefined,
          replay: opts.replay,
        });
        return;
      }
      if (acquired?.kind !== 'acquired') return;
      lease = acquired.lease;
    }
    const leased = lease;
    const started = leased.full ? (leased.events[0]?.event as WorkflowExecutionStarted | undefined) : undefined;
    const cached = cache.get(workflowId, runId);
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
    const { cache, store, dispatcher, metrics, logger } = this.deps;
    let activation: WorkflowActivation | undefined = resume?.activation;
    const began = performance.now();
    try {
      let events = lease.events;
      let replayed = false;
      if (!activation) {
        activation = lease.full ? undefined : cache.get(workflowId, runId);
        metrics.cacheLookup(activation !== undefined);
      }
      if (!activation) {
        if (!lease.full) events = await store.readEntries(workflowId, runId);
        activation = this.createActivation(events);
        replayed = true;
        // Every run's first task is a replay, as is every task after a crash or a failed task:
        // the run's timeout job is (re-)added then, under the lease and before its code runs, so
        // a run whose tasks keep failing (a started, continued or reset run) is still closed at
        // its deadline. Its job id makes this idempotent.
        const deadline = deadlineOf(activation.timeouts);
        if (deadline) await dispatcher.scheduleTimeout({ workflowId, runId, taskQueue }, deadline);
      }
      activation.fence = lease.fence;
      let pending = resume?.pending ?? [];
      for (;;) {
        try {
          await activation.activate(events);
        } finally {
          // The lines its replay logged for events no committed task had run: printed now, once.
          if (replayed) await activation.logs.release(() => store.seenThrough(workflowId, runId));
        }
        let more: StoredEvent[] | undefined;
        try {
          more = await this.commits.commitRound(activation, taskQueue, replayed, pending);
        } catch (err) {
          if (!(err instanceof HistoryMovedOn)) throw err;
          // Events arrived while local activities ran: their outcomes were not recorded. The
          // whole history is replayed under the same lease, and those local activities run again.
          cache.evict(workflowId);
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
      if (activation.isClosed) cache.evict(workflowId);
      else cache.set(activation);
      metrics.workflowTask(activation.info.workflowType, (performance.now() - began) / 1000);
    } catch (err) {
      cache.evict(workflowId);
      if (err instanceof LeaseLostError) {
        logger.warn(err.message);
        return;
      }
      await this.failTask(workflowId, runId, taskQueue, lease.fence, err);
    }
  }

  private createActivation(events: StoredEvent[]): WorkflowActivation {
    const started = events[0]?.event as WorkflowExecutionStarted | undefined;
    if (!started || started.type !== 'WorkflowExecutionStarted')
      throw new Error('History does not begin with WorkflowExecutionStarted');
    const definition = this.deps.registry.workflows.get(started.workflowType);
    if (!definition) throw new UnknownWorkflowTypeError(started.workflowType);
    return new WorkflowActivation(definition, started, this.deps.converter, this.deps.logger);
  }

  private async failTask(
    workflowId: string,
    runId: string,
    taskQueue: string,
    fence: number,
    err: unknown,
  ): Promise<void> {
    const { store, dispatcher, logger, settings } = this.deps;
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    const kind =
      err instanceof NonDeterminismError
        ? 'non-determinism error'
        : err instanceof CorruptHistoryError
          ? 'failed on a corrupt history'
          : 'failed';
    const failed = await store.failTask(workflowId, fence, message, settings.taskRetry);
    if (!failed) return;
    logger.error(
      `Workflow task ${kind} for workflow ${workflowId} (run ${runId}), attempt ${failed.attempt}; retrying in ${failed.delayMs}ms: ${message}`,
    );
    // The retry keeps the run's priority (the script read it: the failed task may not have).
    await dispatcher.enqueueTask(workflowId, runId, taskQueue, `retry-${failed.attempt}`, {
      delay: failed.delayMs,
      priority: failed.priority,
    });
  }
}
