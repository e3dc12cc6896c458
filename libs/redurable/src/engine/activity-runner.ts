import type { Logger } from '../core/ports/index.js';
import { optionalMs } from '../core/duration.js';
import type { ActivityCallOptions } from '../core/definitions/metadata.js';
import type { ActivityDefinition, DurableRegistry } from '../core/definitions/registry.js';
import { serializeFailure } from '../core/errors/failure-codec.js';
import { PayloadError } from '../core/errors/library.errors.js';
import {
  ActivityFailure,
  ApplicationFailure,
  TimeoutFailure,
  type RetryState,
} from '../core/errors/temporal-failure.js';
import { CancelledFailure } from '../core/errors/workflow-control.js';
import type { DataConverter } from '../core/payload/data-converter.js';
import type { NewEvent } from '../core/events.js';
import { activityJobData, type ActivityJobData } from '../queues/queue-set.js';
import { activityStorage, type ActivityContext } from './activity-context.js';
import { HeartbeatDetails } from './heartbeat-details.js';
import type { ActivityDispatch, DurableMetrics } from '../core/ports/index.js';
import {
  attemptsExhausted,
  mergeRetryPolicies,
  resolveRetryPolicy,
  retryDelayMs,
  type ResolvedRetryPolicy,
} from '../core/retry-policy.js';
import type { LocalActivityRunner, LocalCommand } from './commands.js';
import { asDeclaredTypes } from '../core/payload/declared-types.js';

/** The options in force for an attempt. */
export interface Effective {
  policy: ResolvedRetryPolicy;
  startToCloseMs?: number;
  scheduleToCloseMs?: number;
  heartbeatMs?: number;
}

/** An attempt's heartbeat details: those the previous attempt left (encoded), and where this one's go. */
export interface Beat {
  previous?: string;
  details: HeartbeatDetails;
  /** Set when the attempt called `completeAsync()` (a job's attempt; a local activity's has no token). */
  completeAsync?: { token: string; requested: boolean };
}

/** What runAttempt returns when the attempt will be completed from outside. */
export const AWAIT_COMPLETION = Symbol('await completion');

/** The shutdown signal of a local activity: it ends with its workflow task, which a graceful shutdown waits for. */
const NEVER_ABORTED = new AbortController().signal;

function failureType(err: unknown): string {
  if (err instanceof ApplicationFailure) return err.type;
  if (err instanceof Error) return err.name && err.name !== 'Error' ? err.name : err.constructor.name;
  return 'Error';
}

export interface ActivityRunnerDeps {
  registry: DurableRegistry;
  converter: DataConverter;
  /** The module's `activityDefaults`, below `@Activity` and per-call options. */
  defaults: ActivityCallOptions;
  logger: Logger;
  metrics: DurableMetrics;
}

/**
 * Runs activity attempts, wherever they come from (a job, a local activity): calls the provider
 * method with its context, enforces timeouts and heartbeats, and decides retries from the
 * activity's retry policy. Running attempts are tracked per workflow, so that a cancellation
 * or termination aborts them.
 */
export class ActivityRunner implements LocalActivityRunner {
  private readonly registry: DurableRegistry;
  private readonly converter: DataConverter;
  private readonly defaults: ActivityCallOptions;
  private readonly logger: Logger;
  private readonly metrics: DurableMetrics;

  constructor(deps: ActivityRunnerDeps) {
    this.registry = deps.registry;
    this.converter = deps.converter;
    this.defaults = deps.defaults;
    this.logger = deps.logger;
    this.metrics = deps.metrics;
  }

  /**
   * Whether an activity may run eagerly: the call's `eager` option, else `@Activity`'s, else
   * `activityDefaults`' (the module's `eagerActivities: false` turns eager off before this).
   */
  eagerAllowed(activityType: string, callEager: boolean | undefined): boolean {
    return callEager ?? this.registry.activities.get(activityType)?.options.eager ?? this.defaults.eager ?? true;
  }

  /** Options in force: module defaults, then `@Activity`, then the call's options. */
  effective(data: ActivityJobData): Effective {
    const decorator: ActivityCallOptions = this.registry.activities.get(data.activityType)?.options ?? {};
    const call = data.options;
    return {
      policy: resolveRetryPolicy(mergeRetryPolicies(this.defaults.retry, decorator.retry, call.retry)),
      startToCloseMs:
        call.startToCloseTimeoutMs ?? optionalMs(decorator.startToCloseTimeout ?? this.defaults.startToCloseTimeout),
      scheduleToCloseMs:
        call.scheduleToCloseTimeoutMs ??
        optionalMs(decorator.scheduleToCloseTimeout ?? this.defaults.scheduleToCloseTimeout),
      heartbeatMs: call.heartbeatTimeoutMs ?? optionalMs(decorator.heartbeatTimeout ?? this.defaults.heartbeatTimeout),
    };
  }

  /** The delay after failed attempt number `attempt` of an activity. */
  backoff(attempt: number, data: ActivityJobData): number {
    return retryDelayMs(this.effective(data).policy, attempt);
  }

  /** Running attempts by workflow id, so a cancellation or termination can abort them. */
  private readonly running = new Map<string, Map<AbortController, { nonCancellable: boolean }>>();

  /**
   * Aborts a workflow's running activities: on `terminate` all of them; on `cancel` only those
   * not scheduled inside `nonCancellable()` (a shielded step, such as a compensation, finishes).
   */
  abortWorkflow(workflowId: string, why: 'cancel' | 'terminate'): void {
    for (const [controller, { nonCancellable }] of this.running.get(workflowId) ?? []) {
      if (why === 'cancel' && nonCancellable) continue;
      controller.abort(
        new CancelledFailure(`Workflow '${workflowId}' was ${why === 'cancel' ? 'cancelled' : 'terminated'}`),
      );
    }
  }

  /**
   * Runs a local activity inside the workflow task that scheduled it, from the attempt its
   * command names. A failed attempt is retried here, after its backoff, while that backoff is at
   * most the call's `localRetryThreshold`. Returns the outcome to record with the task's
   * commit: completed, failed for good, or failed with `backoffMs` (the workflow then waits on
   * a durable timer and schedules the next attempt).
   */
  async runLocal(
    workflow: { workflowId: string; runId: string; taskQueue: string },
    cmd: LocalCommand,
  ): Promise<Extract<NewEvent, { type: 'ActivityTaskCompleted' | 'ActivityTaskFailed' }>> {
    const data = activityJobData(workflow, cmd, cmd.local.firstScheduledAt);
    const step = `local activity '${data.activityType}' (seq ${data.seq}) of workflow ${data.workflowId} (run ${data.runId})`;
    const eff = this.effective(data);
    const threshold = cmd.options.localRetryThresholdMs ?? 0;
    // Heartbeat details pass from one in-task attempt to the next in memory.
    let previous: string | undefined;
    for (let attempt = cmd.local.attempt; ; attempt++) {
      const began = performance.now();
      const details = new HeartbeatDetails(async (encoded) => {
        previous = encoded;
      });
      try {
        const result = await this.runAttempt(data, attempt, eff, step, NEVER_ABORTED, { previous, details });
        details.stop();
        this.metrics.activityAttempt(data.activityType, 'completed', (performance.now() - began) / 1000, 'local');
        return { type: 'ActivityTaskCompleted', seq: data.seq, result: result as string, attempt };
      } catch (err) {
        await details.flush();
        const retryState = this.finalState(err, eff, attempt, data);
        if (retryState) {
          const failure = this.finalFailure(data, step, attempt, retryState, err);
          this.metrics.activityAttempt(data.activityType, 'failed', (performance.now() - began) / 1000, 'local');
          return { type: 'ActivityTaskFailed', seq: data.seq, failure: serializeFailure(failure), attempt };
        }
        const delayMs = this.retrying(data, step, attempt, eff, err, began, 'local');
        if (delayMs > threshold) {
          // Not a final failure: the attempt's error, and how long the workflow waits before the next.
          const failure = serializeFailure(err instanceof Error ? err : new Error(String(err)));
          return { type: 'ActivityTaskFailed', seq: data.seq, failure, attempt, backoffMs: delayMs };
        }
        await new Promise((r) => setTimeout(r, delayMs));
      }
    }
  }

  /** One attempt: checks the schedule-to-close deadline, decodes the input, calls the method, encodes its result. */
  async runAttempt(
    data: ActivityJobData,
    attempt: number,
    eff: Effective,
    step: string,
    shutdown: AbortSignal,
    beat: Beat,
  ): Promise<string | typeof AWAIT_COMPLETION> {
    const deadline = eff.scheduleToCloseMs === undefined ? undefined : data.scheduledAt + eff.scheduleToCloseMs;
    if (deadline !== undefined && Date.now() >= deadline) {
      throw new TimeoutFailure(
        `${step} passed its scheduleToCloseTimeout of ${eff.scheduleToCloseMs}ms`,
        'SCHEDULE_TO_CLOSE',
      );
    }
    const def = this.registry.activities.get(data.activityType);
    if (!def)
      throw ApplicationFailure.retryable(
        `Activity type '${data.activityType}' is not registered on this worker: add its @Activities class to the module's providers`,
        'ActivityNotRegistered',
      );
    // Arguments declared as classes arrive as instances of them.
    const args = asDeclaredTypes(def.instance, def.methodName, this.converter.decodeAll(data.input, step));
    const value = await this.invoke(def, args, data, attempt, eff, deadline, shutdown, beat, step);
    if (beat.completeAsync?.requested) return AWAIT_COMPLETION;
    return this.converter.encode(value, `result of ${step}`);
  }

  /** Logs and counts an attempt that will be retried; returns its backoff. */
  retrying(
    data: ActivityJobData,
    step: string,
    attempt: number,
    eff: Effective,
    err: unknown,
    began: number,
    dispatch: ActivityDispatch,
  ): number {
    const delayMs = retryDelayMs(eff.policy, attempt);
    this.metrics.activityAttempt(data.activityType, 'retried', (performance.now() - began) / 1000, dispatch);
    this.logger.warn?.(
      `${step} attempt ${attempt} failed, retrying in ${delayMs}ms: ${(err as Error)?.message ?? err}`,
    );
    return delayMs;
  }

  /** The failure recorded when an activity fails for good (logged). */
  finalFailure(
    data: ActivityJobData,
    step: string,
    attempt: number,
    retryState: RetryState,
    err: unknown,
  ): ActivityFailure {
    const cause = err instanceof Error ? err : new Error(String(err));
    this.logger.warn?.(`${step} failed for good after attempt ${attempt} (${retryState}): ${cause.message}`);
    return new ActivityFailure(
      `Activity '${data.activityType}' failed (${retryState}, attempt ${attempt}): ${cause.message}`,
      data.activityType,
      data.seq,
      retryState,
      attempt,
      cause,
    );
  }

  /** Undefined when the attempt should be retried; otherwise why it should not. */
  finalState(err: unknown, eff: Effective, attempt: number, data: ActivityJobData): RetryState | undefined {
    if (err instanceof TimeoutFailure && err.timeoutType === 'SCHEDULE_TO_CLOSE') return 'TIMEOUT';
    if (err instanceof CancelledFailure) return 'NON_RETRYABLE_FAILURE';
    if (err instanceof PayloadError) return 'NON_RETRYABLE_FAILURE';
    if (err instanceof ApplicationFailure && err.nonRetryable) return 'NON_RETRYABLE_FAILURE';
    if (eff.policy.nonRetryableErrorTypes.includes(failureType(err))) return 'NON_RETRYABLE_FAILURE';
    if (attemptsExhausted(eff.policy, attempt)) return 'MAXIMUM_ATTEMPTS_REACHED';
    if (
      eff.scheduleToCloseMs !== undefined &&
      Date.now() + retryDelayMs(eff.policy, attempt) >= data.scheduledAt + eff.scheduleToCloseMs
    )
      return 'TIMEOUT';
    return undefined;
  }

  private async invoke(
    def: ActivityDefinition,
    args: unknown[],
    data: ActivityJobData,
    attempt: number,
    eff: Effective,
    deadline: number | undefined,
    shutdown: AbortSignal,
    beat: Beat,
    step: string,
  ): Promise<unknown> {
    const { converter } = this;
    const controller = new AbortController();
    const onShutdown = () => controller.abort(new Error('worker is shutting down'));
    const registered = this.running.get(data.workflowId) ?? new Map<AbortController, { nonCancellable: boolean }>();
    registered.set(controller, { nonCancellable: data.nonCancellable === true });
    this.running.set(data.workflowId, registered);
    controller.signal.addEventListener(
      'abort',
      () => {
        if (controller.signal.reason instanceof CancelledFailure) fail(controller.signal.reason);
      },
      { once: true },
    );
    shutdown.addEventListener('abort', onShutdown, { once: true });
    const timers: NodeJS.Timeout[] = [];
    let fail!: (err: Error) => void;
    const failed = new Promise<never>((_, reject) => (fail = reject));
    failed.catch(() => undefined);
    const timeout = (ms: number, err: () => TimeoutFailure) => {
      const t = setTimeout(
        () => {
          const e = err();
          controller.abort(e);
          fail(e);
        },
        Math.max(0, ms),
      );
      timers.push(t);
      return t;
    };
    if (eff.startToCloseMs !== undefined) {
      timeout(
        eff.startToCloseMs,
        () =>
          new TimeoutFailure(
            `activity '${data.activityType}' attempt ${attempt} exceeded its startToCloseTimeout of ${eff.startToCloseMs}ms`,
            'START_TO_CLOSE',
          ),
      );
    }
    if (deadline !== undefined) {
      timeout(
        deadline - Date.now(),
        () =>
          new TimeoutFailure(
            `activity '${data.activityType}' exceeded its scheduleToCloseTimeout of ${eff.scheduleToCloseMs}ms`,
            'SCHEDULE_TO_CLOSE',
          ),
      );
    }
    let heartbeatTimer: NodeJS.Timeout | undefined;
    const armHeartbeat = () => {
      if (eff.heartbeatMs === undefined) return;
      if (heartbeatTimer) clearTimeout(heartbeatTimer);
      heartbeatTimer = timeout(
        eff.heartbeatMs,
        () =>
          new TimeoutFailure(
            `activity '${data.activityType}' attempt ${attempt} sent no heartbeat for ${eff.heartbeatMs}ms`,
            'HEARTBEAT',
          ),
      );
    };
    armHeartbeat();
    const ctx: ActivityContext = {
      workflowId: data.workflowId,
      runId: data.runId,
      activityId: data.seq,
      activityType: data.activityType,
      attempt,
      idempotencyKey: `${data.workflowId}/${data.runId}/${data.seq}`,
      signal: controller.signal,
      heartbeat: (details?: unknown) => {
        armHeartbeat();
        if (details !== undefined) beat.details.record(this.converter.encode(details, `heartbeat details of ${step}`));
      },
      get heartbeatDetails() {
        return beat.previous === undefined
          ? undefined
          : converter.decode(beat.previous, `heartbeat details of ${step}`);
      },
      completeAsync: () => {
        if (!beat.completeAsync)
          throw ApplicationFailure.nonRetryable(
            `${step} called completeAsync(), which a local activity cannot: call it through proxyActivities`,
            'AsyncCompletionNotSupported',
          );
        beat.completeAsync.requested = true;
        return beat.completeAsync.token;
      },
    };
    try {
      const method = (def.instance as Record<string, (...a: unknown[]) => unknown>)[def.methodName];
      const run = activityStorage.run(ctx, () => Promise.resolve().then(() => method.apply(def.instance, args)));
      return await Promise.race([run, failed]);
    } finally {
      registered.delete(controller);
      if (registered.size === 0) this.running.delete(data.workflowId);
      timers.forEach(clearTimeout);
      if (heartbeatTimer) clearTimeout(heartbeatTimer);
      shutdown.removeEventListener('abort', onShutdown);
    }
  }
}
