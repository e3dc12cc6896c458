import { crashPoint } from '../core/crash-points.js';
import type { HistoryEvent, NewEvent, StoredEvent } from '../core/events.js';
import type {
  Clock,
  CommitRequest,
  CommitResult,
  JobDispatcher,
  Lease,
  WorkflowTaskStore,
} from '../core/ports/index.js';
import type { NewCommand, WorkflowActivation } from '../workflow/activation.js';
import { versioningOf } from '../core/definitions/versioning.js';
import type { WorkflowVersioning } from '../core/definitions/metadata.js';
import { isLocal, jobCommands, schedulesChild, withScheduleTime, type LocalActivityRunner } from './commands.js';

export type { LocalActivityRunner };
import { closeSpec, type RunCloser } from './run-close.js';
import type { StepDispatch, StepOwner } from './step-dispatch.js';
import type { EagerActivities, EagerSink } from './eager-activities.js';

/**
 * A commit that records local outcomes was refused: other events arrived since the task's view.
 * Carries the whole history, read under the same lease (which the refusal renewed).
 */
export class HistoryMovedOn extends Error {
  constructor(readonly history: StoredEvent[]) {
    super('events arrived while local activities ran');
  }
}

/** A commit's result, or HistoryMovedOn when it was refused for that reason. */
export function movedOn<T extends { kind: string }>(res: T | { kind: 'changed'; lease: Lease }): T {
  if (res.kind === 'changed') throw new HistoryMovedOn((res as { lease: Lease }).lease.events);
  return res as T;
}

export interface TaskCommitsDeps {
  store: WorkflowTaskStore;
  /** Enqueues the task a commit hands to the run's new build (see CommitResult's `handoff`). */
  tasks: Pick<JobDispatcher, 'enqueueTask'>;
  steps: StepDispatch;
  local: LocalActivityRunner;
  /** Runs a round's activities here, claimed by its commit, when it can. */
  eager: EagerActivities;
  /** Where the outcomes of a run's eager activities go. */
  outcomes: (owner: StepOwner) => EagerSink;
  closer: RunCloser;
  /** Time given to local activities' outcomes and continued runs (what workflow code sees). */
  clock: Clock;
  settings: { leaseTtlMs: number; retentionMs: number; buildId?: string; defaultVersioning?: WorkflowVersioning };
}

/** Whether a commit of `activation`'s task pins its run to this process's build (a pinned type). */
export function pinsRun(activation: WorkflowActivation, settings: { defaultVersioning?: WorkflowVersioning }): boolean {
  return versioningOf(activation.definition, settings.defaultVersioning) === 'pinned';
}

/** How a workflow task records what its code did: a round's commands, local activities, the close. */
export class TaskCommits {
  constructor(private readonly deps: TaskCommitsDeps) {}

  /** Commits one round of commands; returns events that arrived meanwhile, if any. */
  async commitRound(
    activation: WorkflowActivation,
    taskQueue: string,
    replayed: boolean,
    pending: NewCommand[],
  ): Promise<StoredEvent[] | undefined> {
    const { store, steps, closer, settings } = this.deps;
    const { workflowId, runId } = activation.info;
    const { commands, events, ranLocal } = await this.withLocalActivities(activation, [
      ...pending,
      ...activation.takeCommands(),
    ]);
    // Local outcomes are recorded only if no other event arrived since this task's view (clean).
    const clean = ranLocal;
    const closing = activation.takeClosing();
    if (closing) {
      const close = closeSpec(activation, closing, this.deps.clock.now(), settings.buildId);
      events.push(close.event);
      if (schedulesChild(commands)) await store.markHasChildren(workflowId);
      movedOn(
        await store.commit({
          workflowId,
          runId,
          fence: activation.fence,
          lastId: activation.lastId,
          events,
          release: true,
          clean,
          leaseTtlMs: settings.leaseTtlMs,
          close: close.spec,
          retentionMs: settings.retentionMs,
          pin: pinsRun(activation, settings),
        }),
      );
      await closer.closed(activation, close.spec, taskQueue, commands);
      return undefined;
    }
    const toDispatch = jobCommands(commands);
    const owner = { workflowId, runId, taskQueue, trace: activation.trace, priority: activation.startEvent.priority };
    const base = {
      workflowId,
      runId,
      fence: activation.fence,
      lastId: activation.lastId,
      leaseTtlMs: settings.leaseTtlMs,
      clean,
      pin: pinsRun(activation, settings),
    };
    let appendedLastId: string;
    let result: CommitResult;
    // Activities that run eagerly under a claim get no job here (see EagerActivities.unclaimed).
    const outstanding = replayed
      ? await this.deps.eager.unclaimed(workflowId, runId, activation.outstandingRecorded())
      : [];
    if (outstanding.length > 0) {
      // A rebuilt execution re-dispatches everything outstanding while it holds the lease,
      // and only then clears the dispatch mark (job ids make re-dispatching idempotent).
      appendedLastId =
        events.length > 0 ? movedOn(await store.commit({ ...base, events, release: false })).lastId : activation.lastId;
      crashPoint('task.after-commit');
      await steps.dispatch(owner, [...toDispatch, ...outstanding], activation.now);
      crashPoint('task.after-dispatch');
      result = movedOn(
        await store.commit({
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
      // Activities this worker runs itself are claimed by the same script instead of queued.
      const plan = this.deps.eager.plan(toDispatch, owner);
      const mark: CommitRequest['dispatchMark'] = plan.queued.length > 0 ? 'set' : replayed ? 'clear' : undefined;
      const request = Object.assign({ events, release: true, dispatchMark: mark, claims: plan.claims }, base);
      try {
        result = movedOn(await store.commit(request));
      } catch (err) {
        plan.cancel();
        throw err;
      }
      appendedLastId = result.lastId;
      crashPoint('task.after-commit');
      plan.start(owner, activation.now, this.deps.outcomes(owner));
      if (plan.queued.length > 0) await steps.dispatch(owner, plan.queued, activation.now);
      crashPoint('task.after-dispatch');
    }
    if (result.kind === 'more') return result.events;
    activation.lastId = appendedLastId;
    if (result.handoff)
      await this.deps.tasks.enqueueTask(workflowId, runId, taskQueue, `handoff-${appendedLastId}`, {
        priority: activation.startEvent.priority,
        build: result.handoff,
      });
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
    const { store, local: runner, clock, settings } = this.deps;
    const commands = [...first];
    const { workflowId, runId, taskQueue } = activation.info;
    const every = settings.leaseTtlMs / 3;
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
          await store.commit({
            workflowId,
            runId,
            fence: activation.fence,
            lastId: activation.lastId,
            events,
            release: false,
            clean: true,
            leaseTtlMs: settings.leaseTtlMs,
            dispatchMark: jobs ? 'set' : undefined,
          }),
        );
        activation.lastId = res.lastId;
        crashPoint('local.after-checkpoint');
        events = [];
        since = performance.now();
      }
      const renew = setInterval(() => {
        void store
          .renewLease(workflowId, runId, activation.fence, activation.lastId, settings.leaseTtlMs)
          .catch(() => undefined); // a lost lease shows at the commit
      }, every);
      let outcomes: (NewEvent & { ts: number })[];
      try {
        outcomes = await Promise.all(
          local.map(async (cmd) => ({
            ...(await runner.runLocal({ workflowId, runId, taskQueue }, cmd)),
            ts: clock.now(),
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
}
