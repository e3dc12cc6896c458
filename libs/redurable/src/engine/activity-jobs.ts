import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { crashPoint } from '../core/crash-points.js';
import { serializeFailure } from '../core/errors/failure-codec.js';
import { TimeoutFailure } from '../core/errors/temporal-failure.js';
import { CancelledFailure } from '../core/errors/workflow-control.js';
import type { NewEvent } from '../core/events.js';
import type { DurableMetrics, HistoryReader, Logger } from '../core/ports/index.js';
import type { TaskTokens } from '../core/task-token.js';
import { inSpan } from '../observability/tracing.js';
import type { ActivityJobData } from '../queues/queue-set.js';
import { AWAIT_COMPLETION, type ActivityRunner, type Effective } from './activity-runner.js';
import { asyncDeadline, ASYNC_RECHECK_MS, beatAtOf } from './async-completion.js';
import { HeartbeatDetails } from './heartbeat-details.js';
import type { SlotTable } from './activity-slots.js';
import { NOTHING_HELD, type ActivityLimits, type HeldLimits } from './activity-limits.js';

/** Records an activity or timer outcome and runs or enqueues the workflow's next task. */
export type CompletionSink = (
  target: { workflowId: string; runId: string; workflowTaskQueue: string; workflowPriority?: number },
  event: Extract<NewEvent, { type: 'ActivityTaskCompleted' | 'ActivityTaskFailed' | 'TimerFired' }>,
) => Promise<void>;

/** A job created this long after its command was recorded was added again, not by the task that recorded it. */
const READDED_AFTER_MS = 1000;

/** The attempt a job runs: BullMQ's count, after the attempts made in process before it was handed over. */
function attemptOf(job: Job<ActivityJobData>): number {
  return job.attemptsMade + 1 + (job.data.attemptBase ?? 0);
}

export interface ActivityJobsDeps {
  activities: ActivityRunner;
  /** Activity slots per task queue, shared with eager activities. */
  slots: SlotTable;
  /** Concurrency and rate limits across every worker (`@Activity({ concurrency, rateLimit })`). */
  limits: ActivityLimits;
  /** Signs the task token of an attempt that calls completeAsync(). */
  tokens: TaskTokens;
  histories: Pick<HistoryReader, 'outcomeState' | 'cancelRequested'>;
  /** Where a final outcome goes. */
  complete: CompletionSink;
  logger: Logger;
  metrics: DurableMetrics;
}

/**
 * Processes activity jobs: runs the attempt (ActivityRunner), lets BullMQ retry it after its
 * backoff, records the final outcome, and parks an attempt that is completed from outside.
 */
export class ActivityJobs {
  private readonly activities: ActivityRunner;
  private readonly store: Pick<HistoryReader, 'outcomeState' | 'cancelRequested'>;
  private readonly complete: CompletionSink;
  private readonly logger: Logger;
  private readonly metrics: DurableMetrics;
  private readonly slots: SlotTable;
  private readonly tokens: TaskTokens;
  private readonly limits: ActivityLimits;

  constructor(deps: ActivityJobsDeps) {
    this.limits = deps.limits;
    this.tokens = deps.tokens;
    this.activities = deps.activities;
    this.slots = deps.slots;
    this.store = deps.histories;
    this.complete = deps.complete;
    this.logger = deps.logger;
    this.metrics = deps.metrics;
  }

  /** BullMQ backoff strategy: the delay after failed attempt number `attemptsMade` of the job (more if it was handed over). */
  backoff(attemptsMade: number, job: { data: ActivityJobData }): number {
    return this.activities.backoff(attemptsMade + (job.data.attemptBase ?? 0), job.data);
  }

  /** Runs a job's attempt in one of its task queue's activity slots (shared with eager activities). */
  async process(job: Job<ActivityJobData>, shutdown: AbortSignal, token?: string): Promise<void> {
    const data = job.data;
    const attributes = {
      'workflow.id': data.workflowId,
      'workflow.run_id': data.runId,
      'activity.type': data.activityType,
      'activity.seq': data.seq,
      'activity.attempt': attemptOf(job),
      'activity.dispatch': 'queue',
    };
    const slots = this.slots.of(data.options.taskQueue);
    await slots?.take();
    const freeSlot = slots ? slots.releaser() : () => undefined;
    try {
      return await inSpan(
        'redurable.activity',
        attributes,
        data.trace,
        () => this.attempt(job, shutdown, token, freeSlot),
        'consumer',
      );
    } finally {
      freeSlot();
    }
  }

  private async attempt(
    job: Job<ActivityJobData>,
    shutdown: AbortSignal,
    lockToken: string | undefined,
    freeSlot: () => void,
  ): Promise<void> {
    const data = job.data;
    const attempt = attemptOf(job);
    const step = `activity '${data.activityType}' (seq ${data.seq}) of workflow ${data.workflowId} (run ${data.runId})`;
    const eff = this.activities.effective(data);
    // A job restarted after its worker died, or added again after the first was removed (the
    // recovery sweep or a replay re-adds it later than the command was recorded), may belong to
    // an activity whose outcome is recorded, or to a run that has closed since: look before
    // running it. A first job added with its command skips the round trip (activities run at
    // least once; the idempotency key covers the rest).
    const readded =
      data.attemptBase !== undefined || job.attemptsStarted > 1 || job.timestamp - data.scheduledAt > READDED_AFTER_MS;
    if (readded) {
      const state = await this.store.outcomeState(data.workflowId, data.runId, data.seq);
      if (state !== 'outstanding') {
        // A parked attempt completed from outside may still hold its slot.
        if (data.options.flow) await this.limits.forget(data);
        this.logger.log?.(
          `${step} ${state === 'recorded' ? 'already has a recorded outcome' : 'belongs to a run that is no longer running'}; not running it again`,
        );
        return;
      }
    }
    const held = data.awaiting ? this.limits.resume(data) : await this.takeLimits(job, lockToken, attempt, eff);
    const began = performance.now();
    if (attempt === 1 && !data.awaiting)
      this.metrics.activityScheduleToStart(data.activityType, (Date.now() - data.scheduledAt) / 1000, 'queue');
    // Heartbeat details live in the job's progress, where the next attempt of the job finds them.
    const progress = job.progress as { heartbeat?: unknown } | number | undefined;
    const previous =
      typeof progress === 'object' && typeof progress?.heartbeat === 'string' ? progress.heartbeat : data.heartbeat;
    const details = new HeartbeatDetails((encoded) => job.updateProgress({ heartbeat: encoded }));
    const startedAt = Date.now();
    const tokens = this.tokens;
    const completeAsync = {
      // Signed only if the activity asks for it.
      get token() {
        return tokens.encode({
          workflowId: data.workflowId,
          runId: data.runId,
          seq: data.seq,
          attempt,
          taskQueue: data.options.taskQueue,
        });
      },
      requested: false,
    };
    try {
      // An attempt waiting to be completed from outside woke up: at a deadline, or to look again.
      if (data.awaiting) await this.awaitAgain(job, lockToken, eff, step, held);
      const result = await this.activities.runAttempt(data, attempt, eff, step, shutdown, {
        previous,
        details,
        completeAsync,
      });
      freeSlot();
      if (result === AWAIT_COMPLETION) {
        await details.flush();
        // Completed from outside before the method returned: nothing to wait for.
        if ((await this.store.outcomeState(data.workflowId, data.runId, data.seq)) !== 'outstanding') {
          await held.release();
          return;
        }
        await this.park(job, lockToken, { attempt, startedAt }, eff, held);
      }
      // Freed as the outcome is recorded, without waiting for the reply: the release goes out first
      // (recording may schedule the next activity of this key), and its round trip overlaps the
      // recording's instead of adding to every limited step. It never throws (a slot it could not
      // free lapses by itself).
      const released = held.release();
      details.stop();
      crashPoint('activity.after-run');
      await Promise.all([
        released,
        this.complete(data, { type: 'ActivityTaskCompleted', seq: data.seq, result: result as string, attempt }),
      ]);
      this.metrics.activityAttempt(data.activityType, 'completed', (performance.now() - began) / 1000, 'queue');
    } catch (err) {
      freeSlot();
      if (err instanceof DelayedError) throw err; // waiting for an outside completion (holding its slot), not a failure
      await held.release();
      await details.flush();
      if (shutdown.aborted) throw err; // the job goes back to the queue; not a real failure
      const retryState = this.activities.finalState(err, eff, attempt, data);
      if (!retryState) {
        this.activities.retrying(data, step, attempt, eff, err, began, 'queue');
        throw err;
      }
      const failure = this.activities.finalFailure(data, step, attempt, retryState, err);
      await this.complete(data, {
        type: 'ActivityTaskFailed',
        seq: data.seq,
        failure: serializeFailure(failure),
        attempt,
      });
      this.metrics.activityAttempt(data.activityType, 'failed', (performance.now() - began) / 1000, 'queue');
      // Recorded; now let BullMQ (and Bull Board) show the job as failed, without a retry.
      throw new UnrecoverableError(failure.message);
    }
  }

  /**
   * Parks an attempt that waits to be completed from outside: its job is delayed until the
   * attempt's first deadline (or an hour, to look again), and BullMQ is told it is not done.
   */
  private async park(
    job: Job<ActivityJobData>,
    lockToken: string | undefined,
    awaiting: { attempt: number; startedAt: number },
    eff: Effective,
    held: HeldLimits,
  ): Promise<never> {
    const data = { ...job.data, awaiting };
    await job.updateData(data);
    const due = asyncDeadline(eff, data, awaiting, beatAtOf(job.progress));
    const back = Math.min(due?.at ?? Infinity, Date.now() + ASYNC_RECHECK_MS);
    // The work is in flight: the attempt keeps its slot until its job comes back.
    await held.keepUntil(back);
    await job.moveToDelayed(back, lockToken);
    throw new DelayedError();
  }

  /**
   * Takes the attempt's limits (see ActivityLimits). Refused, the job waits without using an
   * attempt: delayed until it asks again (BullMQ is told it is not done). Past the activity's
   * scheduleToCloseTimeout it waits no more: it gives its place up and the attempt fails with
   * that timeout.
   */
  private async takeLimits(
    job: Job<ActivityJobData>,
    lockToken: string | undefined,
    attempt: number,
    eff: Effective,
  ): Promise<HeldLimits> {
    const entry = await this.limits.enter(job.data, attempt);
    const { waitingFor: was, ...rest } = job.data;
    if ('held' in entry) {
      if (was) await job.updateData(rest);
      return entry.held;
    }
    const deadline = eff.scheduleToCloseMs === undefined ? Infinity : job.data.scheduledAt + eff.scheduleToCloseMs;
    if (Date.now() >= deadline) {
      await this.limits.forget(job.data);
      return NOTHING_HELD; // runAttempt fails it with SCHEDULE_TO_CLOSE
    }
    const w = entry.waitingFor;
    if (was?.kind !== w.kind || was.limit !== w.limit || was.key !== w.key)
      await job.updateData({ ...rest, waitingFor: w });
    await job.moveToDelayed(Math.min(Date.now() + entry.delayMs, deadline), lockToken);
    throw new DelayedError();
  }

  /**
   * A parked attempt's job came back: parked again when its deadline is still ahead (a heartbeat
   * moved it, or it came back to look); otherwise the attempt failed with that timeout.
   */
  private async awaitAgain(
    job: Job<ActivityJobData>,
    lockToken: string | undefined,
    eff: Effective,
    step: string,
    held: HeldLimits,
  ): Promise<void> {
    const awaiting = job.data.awaiting!;
    // A cancelled workflow's attempt ends here, as a running one is aborted: not retried, no new token.
    if (!job.data.nonCancellable && (await this.store.cancelRequested(job.data.workflowId, job.data.runId))) {
      throw new CancelledFailure(
        `Workflow '${job.data.workflowId}' was cancelled while ${step} waited to be completed`,
      );
    }
    const due = asyncDeadline(eff, job.data, awaiting, beatAtOf(job.progress));
    if (!due || Date.now() < due.at) await this.park(job, lockToken, awaiting, eff, held);
    const { awaiting: _, ...rest } = job.data;
    await job.updateData(rest); // the retry, if any, runs the activity again
    throw new TimeoutFailure(
      `${step} attempt ${awaiting.attempt} was not completed in time (${due!.type} timeout while waiting for completeAsync)`,
      due!.type,
    );
  }
}
