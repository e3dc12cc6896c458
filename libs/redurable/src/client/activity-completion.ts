import type { Job } from 'bullmq';
import type { TaskTokenFields } from '../core/task-token.js';
import { ActivityNotAwaitingError } from '../core/errors/library.errors.js';

export { ActivityNotAwaitingError };
import { serializeFailure } from '../core/errors/failure-codec.js';
import { ActivityFailure } from '../core/errors/temporal-failure.js';
import { activityJobId } from '../queues/dispatcher.js';
import { releaseActivitySlot } from '../queues/activity-flow-slots.js';
import type { ActivityJobData } from '../queues/queue-set.js';
import type { ClientParts } from './client-parts.js';

/** The parts the activity completion client uses. */
export type CompletionParts = Pick<
  ClientParts,
  'histories' | 'queues' | 'writes' | 'converter' | 'link' | 'claims' | 'tokens' | 'flow'
>;

/**
 * The attempt a token names, in progress: its job, or none while it runs eagerly (claimed by the
 * worker running it, which hands it to its queue once the method returns); the task queue of
 * its workflow (where the outcome goes) and its type.
 */
interface AwaitingAttempt {
  job?: Job<ActivityJobData>;
  workflowTaskQueue: string;
  activityType(): Promise<string>;
}

/**
 * Finishes activities that said they would be completed later (`activityContext().completeAsync()`),
 * from any process: an approval screen, a webhook handler, a script. Reached as `client.activity`.
 *
 * @example
 * // in the activity: await this.mailer.askForApproval(activityContext().completeAsync()); return;
 * // in the controller that receives the answer:
 * await this.workflows.activity.complete(token, { approvedBy: 'ada' });
 */
export class ActivityCompletionClient {
  /** @internal */
  constructor(private readonly ctx: CompletionParts) {}

  /** Completes the attempt with `result`, which the workflow's call returns. */
  async complete(taskToken: string, result?: unknown): Promise<void> {
    const token = await this.ctx.tokens.decode(taskToken);
    const encoded = this.ctx.converter.encode(
      result,
      `result of activity seq ${token.seq} of workflow '${token.workflowId}'`,
    );
    await this.ctx.link.call(`complete activity seq ${token.seq} of workflow '${token.workflowId}'`, async () => {
      const attempt = await this.awaiting(token);
      await this.record(token, attempt, {
        type: 'ActivityTaskCompleted',
        seq: token.seq,
        result: encoded,
        attempt: token.attempt,
      });
    });
  }

  /**
   * Fails the activity for good with `error` (no retry: whoever calls this decided); the
   * workflow's call rejects with an ActivityFailure whose `cause` is it.
   */
  async fail(taskToken: string, error: Error | string): Promise<void> {
    const token = await this.ctx.tokens.decode(taskToken);
    const cause = typeof error === 'string' ? new Error(error) : error;
    await this.ctx.link.call(`fail activity seq ${token.seq} of workflow '${token.workflowId}'`, async () => {
      const attempt = await this.awaiting(token);
      const activityType = await attempt.activityType();
      const failure = new ActivityFailure(
        `Activity '${activityType}' failed (NON_RETRYABLE_FAILURE, attempt ${token.attempt}): ${cause.message}`,
        activityType,
        token.seq,
        'NON_RETRYABLE_FAILURE',
        token.attempt,
        cause,
      );
      await this.record(token, attempt, {
        type: 'ActivityTaskFailed',
        seq: token.seq,
        failure: serializeFailure(failure),
        attempt: token.attempt,
      });
    });
  }

  /**
   * Reports that the work goes on: resets the attempt's heartbeat timeout, and keeps `details`
   * for the next attempt (`activityContext().heartbeatDetails`) should this one time out. An
   * eager attempt whose method has not returned yet is running: the call is accepted and its
   * details are not kept (the attempt's own heartbeats are).
   */
  async heartbeat(taskToken: string, details?: unknown): Promise<void> {
    const token = await this.ctx.tokens.decode(taskToken);
    const encoded =
      details === undefined
        ? undefined
        : this.ctx.converter.encode(
            details,
            `heartbeat details of activity seq ${token.seq} of workflow '${token.workflowId}'`,
          );
    await this.ctx.link.call(`heartbeat activity seq ${token.seq} of workflow '${token.workflowId}'`, async () => {
      const { job } = await this.awaiting(token);
      if (!job) return;
      const previous =
        typeof job.progress === 'object' && job.progress !== null
          ? (job.progress as { heartbeat?: string }).heartbeat
          : undefined;
      await job.updateProgress({ heartbeat: encoded ?? previous, beatAt: Date.now() });
    });
  }

  /** The attempt, if the token's attempt is the one in progress and its outcome is not recorded. */
  private async awaiting(token: TaskTokenFields): Promise<AwaitingAttempt> {
    const { histories, queues, claims } = this.ctx;
    const state = await histories.outcomeState(token.workflowId, token.runId, token.seq);
    if (state === 'recorded') throw new ActivityNotAwaitingError(token, 'its outcome is already recorded');
    if (state === 'closed') throw new ActivityNotAwaitingError(token, 'its workflow run is no longer running');
    const queue = await queues.activityFor(token.taskQueue, token.workflowId);
    const job = await queue.getJob(activityJobId(token.workflowId, token.runId, token.seq));
    if (!job) {
      // No job yet: an eager attempt (always attempt 1) whose method has not returned.
      const claim = (await claims.claimsOf(token.workflowId, token.runId)).find((c) => c.seq === token.seq);
      if (!claim || claim.taken) throw new ActivityNotAwaitingError(token, 'its job is gone');
      if (token.attempt !== 1)
        throw new ActivityNotAwaitingError(token, `attempt ${token.attempt} timed out; attempt 1 is the current one`);
      const meta = await histories.getMeta(token.workflowId);
      if (meta?.runId !== token.runId || meta.status !== 'running')
        throw new ActivityNotAwaitingError(token, 'its workflow run is no longer running');
      return {
        workflowTaskQueue: meta.taskQueue,
        activityType: async () => {
          const scheduled = (await histories.readHistory(token.workflowId, token.runId)).find(
            (e) => e.type === 'ActivityTaskScheduled' && e.seq === token.seq,
          );
          return scheduled?.type === 'ActivityTaskScheduled' ? scheduled.activityType : 'unknown';
        },
      };
    }
    const current = job.data.awaiting?.attempt ?? job.attemptsMade + 1 + (job.data.attemptBase ?? 0);
    if (current !== token.attempt)
      throw new ActivityNotAwaitingError(
        token,
        `attempt ${token.attempt} timed out; attempt ${current} is the current one`,
      );
    return { job, workflowTaskQueue: job.data.workflowTaskQueue, activityType: async () => job.data.activityType };
  }

  /** Records the outcome (the first one recorded wins), wakes the workflow, and removes the parked job. */
  private async record(
    token: TaskTokenFields,
    attempt: AwaitingAttempt,
    event: Parameters<ClientParts['writes']['recordOutcome']>[1],
  ): Promise<void> {
    const target = { workflowId: token.workflowId, runId: token.runId, taskQueue: attempt.workflowTaskQueue };
    const res = await this.ctx.writes.recordOutcome(target, event, 'completion.after-append');
    if (res.kind === 'ignored')
      throw new ActivityNotAwaitingError(token, 'its outcome was recorded meanwhile, or its run closed');
    // A parked job is removed; one still running (the method has not returned yet) sees the outcome and
    // ends, as does an eager attempt (it hands nothing to its queue).
    await attempt.job?.remove().catch(() => undefined);
    // A parked attempt held its concurrency slot (the work was in flight): free it for the next waiter.
    if (attempt.job?.data.options.flow)
      // Not freed now (Redis failed after the outcome was recorded): the slot lapses at the parked attempt's deadline.
      await releaseActivitySlot(this.ctx.flow, this.ctx.queues, attempt.job.data).catch(() => undefined);
  }
}
