import { decodeMemo } from '../core/payload/memo.js';
import {
  mergeSearchAttributes,
  searchAttributeValues,
  type RecordedSearchAttributes,
} from '../core/search/search-attributes.js';
import { PayloadError, WorkflowNotFoundError } from '../core/errors/library.errors.js';
import { closeFailure } from '../core/close-failure.js';
import type { ActivityTaskScheduled, HistoryEvent } from '../core/events.js';
import type { WorkflowMeta } from '../core/workflow-state.js';
import { DEFAULT_PRIORITY } from '../core/flow/priority.js';
import { activityHolder } from '../core/ports/index.js';
import { activityJobId, timerJobId } from '../queues/dispatcher.js';
import { outstandingOf, type Outstanding } from '../core/outstanding.js';
import type { CompensationRecord, PendingActivity, PendingTimer, WorkflowDescription } from './workflow-description.js';
import type { ClientParts } from './client-parts.js';

/** The parts a description reads. */
export type DescriberParts = Pick<
  ClientParts,
  'histories' | 'queues' | 'claims' | 'converter' | 'registry' | 'flow' | 'builds'
>;

/** What `handle.describe()` reads: the run's meta (or, for an earlier run, what its history says) and its jobs. */
export class WorkflowDescriber {
  constructor(
    private readonly runtime: DescriberParts,
    private readonly workflowId: string,
  ) {}

  /** Describes the current run, or run `runId` (the current one or an earlier one) when given. */
  async describe(runId?: string): Promise<WorkflowDescription> {
    const current = await this.runtime.histories.getMeta(this.workflowId);
    if (!current) throw new WorkflowNotFoundError(this.workflowId);
    const target = runId ?? current.runId;
    // An unreadable entry must not hide the rest: the worker's task failure names it.
    const { events: history } = await this.runtime.histories.readHistoryLeniently(this.workflowId, target);
    if (target !== current.runId && history.length === 0) throw new WorkflowNotFoundError(this.workflowId, target);
    const meta = target === current.runId ? current : pastRunMeta(current, target, history);
    const outstanding = outstandingOf(history);
    const description: WorkflowDescription = {
      workflowId: this.workflowId,
      runId: meta.runId,
      workflowType: meta.type,
      taskQueue: meta.taskQueue,
      jobQueues: {
        activities: (await this.runtime.queues.activityFor(meta.taskQueue, this.workflowId)).name,
        workflows: (await this.runtime.queues.workflowFor(meta.taskQueue, this.workflowId)).name,
      },
      status: meta.status,
      startTime: new Date(meta.startedAt),
      closeTime: meta.closedAt ? new Date(meta.closedAt) : undefined,
      historyLength: meta.historyLength,
      pendingActivities: meta.status === 'running' ? await this.pendingActivities(meta, outstanding.activities) : [],
      pendingTimers: meta.status === 'running' ? await this.pendingTimers(meta, outstanding.timers) : [],
      compensations: compensationsOf(history),
      searchAttributes: searchAttributeValues(meta.searchAttributes),
      priority: meta.priority ?? DEFAULT_PRIORITY,
    };
    if (meta.status === 'running' && meta.flowWait && meta.flow) {
      const { name, key, holder } = meta.flow;
      const at = await this.runtime.flow.position({ name, key }, holder);
      description.waitingFor = { limit: name, key, ...(at.state === 'waiting' ? { ahead: at.ahead } : {}) };
    }
    if (meta.status === 'running' && meta.startAt !== undefined) description.startsAt = new Date(meta.startAt);
    if (meta.taskBuild !== undefined) description.lastTaskBuild = meta.taskBuild;
    if (meta.pinnedBuild !== undefined)
      description.pinnedBuild = {
        build: meta.pinnedBuild,
        live: (await this.runtime.builds.liveBuilds(meta.taskQueue)).has(meta.pinnedBuild),
      };
    const started = history[0]?.type === 'WorkflowExecutionStarted' ? history[0] : undefined;
    if (started?.timeouts?.executionDeadline !== undefined)
      description.executionDeadline = new Date(started.timeouts.executionDeadline);
    if (started?.timeouts?.runDeadline !== undefined) description.runDeadline = new Date(started.timeouts.runDeadline);
    if (started?.resetFrom) description.resetFrom = started.resetFrom;
    if (started?.buildId) description.buildId = started.buildId;
    if (started?.memo) Object.assign(description, decodeMemo(this.runtime.converter, started.memo));
    const unhandled = unhandledSignals(history, this.runtime.registry.workflows.get(meta.type)?.signals);
    if (unhandled) description.unhandledSignals = unhandled;
    if (meta.status === 'completed') {
      try {
        description.result = this.runtime.converter.decode(meta.closeValue ?? '', 'workflow result');
      } catch (err) {
        // A process without the app's codec (an operator's shell) still gets the description.
        if (!(err instanceof PayloadError)) throw err;
        description.undecodableResult = { stored: meta.closeValue ?? '', error: err.message };
      }
    } else if (meta.status !== 'running' && meta.closeValue) description.failure = closeFailure(meta);
    if (meta.taskFailure) {
      description.taskFailure = {
        message: meta.taskFailure,
        attempt: meta.taskAttempt ?? 1,
        retryAt: meta.retryAt ? new Date(meta.retryAt) : undefined,
      };
    }
    return description;
  }

  private async pendingActivities(meta: WorkflowMeta, activities: ActivityTaskScheduled[]): Promise<PendingActivity[]> {
    const claims = activities.length > 0 ? await this.runtime.claims.claimsOf(this.workflowId, meta.runId) : [];
    return Promise.all(
      activities.map(async (e) => {
        const queue = await this.runtime.queues.activityFor(e.options.taskQueue, this.workflowId);
        const jobId = activityJobId(this.workflowId, meta.runId, e.seq);
        const job = await queue.getJob(jobId);
        const claim = claims.find((c) => c.seq === e.seq && !c.taken);
        const state = job ? waitingIfPrioritized(await job.getState()) : claim ? 'running' : 'missing';
        const awaiting = job?.data.awaiting;
        const waiting = job?.data.waitingFor;
        const delayedUntil =
          state === 'delayed' && !awaiting ? await this.runtime.queues.delayedUntil(queue, jobId) : undefined;
        const nextAttemptAt = waiting ? undefined : delayedUntil;
        const waitingFor = waiting && (await this.waitingFor(e, meta.runId, waiting, delayedUntil));
        return {
          seq: e.seq,
          activityType: e.activityType,
          taskQueue: e.options.taskQueue,
          scheduledAt: new Date(e.ts),
          attempt: (job?.attemptsMade ?? 0) + 1 + (job?.data.attemptBase ?? 0),
          lastFailure: job?.failedReason || job?.data.lastFailure || undefined,
          ...(nextAttemptAt !== undefined ? { nextAttemptAt: new Date(nextAttemptAt) } : {}),
          ...(awaiting ? { awaitingCompletion: { since: new Date(awaiting.startedAt) } } : {}),
          ...(waitingFor ? { waitingFor } : {}),
          state,
          ...(claim && !job
            ? {
                eager: {
                  worker: claim.owner,
                  since: new Date(claim.since),
                  claimedUntil: new Date(claim.expiresAt),
                },
              }
            : {}),
          jobId,
          queue: queue.name,
          compensation: e.compensation === true,
        };
      }),
    );
  }

  /**
   * What a pending activity's job waits for: its concurrency limit, with how many wait before it
   * (read now), or its rate limit, with when it asks again. Undefined once it no longer waits.
   */
  private async waitingFor(
    e: ActivityTaskScheduled,
    runId: string,
    waiting: { kind: 'concurrency' | 'rate'; limit: string; key: string },
    delayedUntil: number | undefined,
  ): Promise<PendingActivity['waitingFor']> {
    const { limit, key } = waiting;
    if (waiting.kind === 'rate') return { limit, key, retryAt: new Date(delayedUntil ?? Date.now()) };
    const slot = e.options.flow?.concurrency;
    if (!slot) return undefined;
    const at = await this.runtime.flow.position(slot, activityHolder(this.workflowId, runId, e.seq));
    return at.state === 'waiting' ? { limit, key, ahead: at.ahead } : undefined;
  }

  private async pendingTimers(meta: WorkflowMeta, timers: Outstanding['timers']): Promise<PendingTimer[]> {
    return Promise.all(
      timers.map(async (t) => {
        const jobId = timerJobId(this.workflowId, meta.runId, t.seq);
        const queue = await this.runtime.queues.workflowFor(meta.taskQueue, this.workflowId);
        const job = await queue.getJob(jobId);
        return {
          seq: t.seq,
          startedAt: new Date(t.ts),
          dueAt: new Date(t.dueAt),
          state: job ? waitingIfPrioritized(await job.getState()) : 'missing',
          jobId,
          queue: queue.name,
        };
      }),
    );
  }
}

/**
 * An earlier run of the id (its meta is the current run's now), told from its history: its status
 * from how it ended (`continued_as_new` and `reset` for a run that handed over to the next one).
 */
function pastRunMeta(current: WorkflowMeta, runId: string, history: HistoryEvent[]): WorkflowMeta {
  const started = history[0]?.type === 'WorkflowExecutionStarted' ? history[0] : undefined;
  const last = history[history.length - 1];
  let searchAttributes: RecordedSearchAttributes = started?.searchAttributes ?? {};
  for (const e of history)
    if (e.type === 'UpsertWorkflowSearchAttributes')
      searchAttributes = mergeSearchAttributes(searchAttributes, e.searchAttributes);
  const base = {
    workflowId: current.workflowId,
    runId,
    type: started?.workflowType ?? current.type,
    taskQueue: started?.taskQueue ?? current.taskQueue,
    startedAt: started?.ts ?? last.ts,
    closedAt: last.ts,
    historyLength: history.length,
    dirty: false,
    leaseExp: 0,
    fence: 0,
    searchAttributes,
    flowWait: false,
    ...(started?.priority !== undefined ? { priority: started.priority } : {}),
  };
  const ended = pastRunEnding(last);
  return { ...base, ...ended, status: ended.status as WorkflowMeta['status'] };
}

function pastRunEnding(last: HistoryEvent): { status: string; closeValue?: string } {
  switch (last.type) {
    case 'WorkflowExecutionCompleted':
      return { status: 'completed', closeValue: last.result };
    case 'WorkflowExecutionFailed':
      return {
        status: last.failure.kind === 'compensation' ? 'compensation_failed' : 'failed',
        closeValue: JSON.stringify(last.failure),
      };
    case 'WorkflowExecutionCanceled':
      return { status: 'canceled', closeValue: JSON.stringify(last.failure) };
    case 'WorkflowExecutionTerminated':
    case 'WorkflowExecutionTimedOut':
      return {
        status: last.type === 'WorkflowExecutionTerminated' ? 'terminated' : 'timed_out',
        closeValue: JSON.stringify(last),
      };
    case 'WorkflowExecutionContinuedAsNew':
      return { status: 'continued_as_new' };
    case 'WorkflowExecutionReset':
      return { status: 'reset' };
    default:
      // An earlier run that never recorded its end (it was replaced by a start with TERMINATE_EXISTING).
      return { status: 'terminated', closeValue: JSON.stringify({ reason: 'replaced by a newer run' }) };
  }
}

/**
 * Signals recorded for which the workflow's class (when this process has it) has no handler:
 * sent by a process without the class, kept in the history (a later version of the workflow
 * with the handler gets them on replay), by name with how many were received.
 */
function unhandledSignals(
  history: HistoryEvent[],
  handlers: Record<string, string> | undefined,
): { name: string; count: number }[] | undefined {
  if (!handlers) return undefined;
  const counts = new Map<string, number>();
  for (const e of history)
    if (e.type === 'SignalReceived' && !(e.signalName in handlers))
      counts.set(e.signalName, (counts.get(e.signalName) ?? 0) + 1);
  return [...counts].map(([name, count]) => ({ name, count }));
}

function compensationsOf(history: HistoryEvent[]): CompensationRecord[] {
  const bySeq = new Map<number, CompensationRecord>();
  for (const e of history) {
    if (e.type === 'ActivityTaskScheduled' && e.compensation)
      bySeq.set(e.seq, { seq: e.seq, activityType: e.activityType, status: 'pending' });
    // A local compensation's attempt waiting on a durable backoff goes on as a later seq.
    else if (e.type === 'ActivityTaskFailed' && e.backoffMs !== undefined) bySeq.delete(e.seq);
    else if ((e.type === 'ActivityTaskCompleted' || e.type === 'ActivityTaskFailed') && bySeq.has(e.seq)) {
      bySeq.get(e.seq)!.status = e.type === 'ActivityTaskCompleted' ? 'completed' : 'failed';
    }
  }
  return [...bySeq.values()];
}

/**
 * A job's state as describe() reports it: BullMQ's `prioritized` is `waiting` (every job of a
 * workflow carries its priority, the default one too, so every waiting job is `prioritized` in
 * BullMQ, and in Bull Board's Prioritized tab).
 */
function waitingIfPrioritized(state: string): string {
  return state === 'prioritized' ? 'waiting' : state;
}
