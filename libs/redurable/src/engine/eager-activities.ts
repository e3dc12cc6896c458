import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { crashPoint } from '../core/crash-points.js';
import { serializeFailure } from '../core/errors/failure-codec.js';
import type { CommandEvent, NewEvent } from '../core/events.js';
import type {
  ActivityClaims,
  ActivityHandover,
  ClaimRequest,
  DurableMetrics,
  HistoryReader,
  JobDispatcher,
  Logger,
} from '../core/ports/index.js';
import type { TaskTokens } from '../core/task-token.js';
import { inSpan } from '../observability/tracing.js';
import { activityJobData, type ActivityJobData } from '../queues/queue-set.js';
import type { NewCommand } from '../workflow/activation.js';
import type { SlotTable } from './activity-slots.js';
import { NOTHING_HELD, type ActivityLimits, type HeldLimits, type LimitWait } from './activity-limits.js';
import { AWAIT_COMPLETION, type ActivityRunner } from './activity-runner.js';
import { asyncDeadline, ASYNC_RECHECK_MS } from './async-completion.js';
import { HeartbeatDetails } from './heartbeat-details.js';
import type { ServedQueues } from './served-queues.js';
import type { StepOwner } from './step-dispatch.js';

/** An activity command a step schedules. */
export type ScheduledActivity = Extract<NewCommand, { type: 'ActivityTaskScheduled' }>;

/** An eager activity's outcome, for the task runner to record with the workflow's next step. */
export type EagerOutcome = Extract<NewEvent, { type: 'ActivityTaskCompleted' | 'ActivityTaskFailed' }>;

/** Where an eager activity's outcome goes (the task runner's `complete`). */
export type EagerSink = (outcome: EagerOutcome) => Promise<void>;

/** This process's name as an eager activity's owner (describe() shows it): host, pid and a random part. */
export function workerIdentity(): string {
  return `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
}

/**
 * A step's commands split before its commit: the activities this process runs (claimed by the
 * commit) and the commands that still become jobs or children.
 */
export interface EagerPlan {
  queued: NewCommand[];
  /** What the commit claims; undefined when nothing runs here. */
  claims?: ClaimRequest;
  /**
   * After the commit: runs the claimed activities (not awaited; `settled()` waits); a limited one
   * whose limits refused it goes to its queue instead.
   */
  start(owner: StepOwner, recordedAt: number, sink: EagerSink): void;
  /**
   * The commit was not made: gives their slots back, the flow limits' too (they are scheduled
   * again by a later task).
   */
  cancel(): void;
}

/** What taking a limited activity's limits came to: held, refused (waiting), or unknown (Redis failed). */
type FlowEntry = { held: HeldLimits } | LimitWait | { failed: Error };

/** What runAttempt's race returns when a forced shutdown hands the attempt over. */
const SHUT_DOWN = Symbol('shut down');
const NONE: ScheduledActivity[] = [];
const nothing = (): void => undefined;

export interface EagerActivitiesDeps {
  activities: ActivityRunner;
  /** Whether an attempt parked for completeAsync() was completed from outside before its method returned. */
  histories: Pick<HistoryReader, 'outcomeState'>;
  claims: ActivityClaims;
  /** Concurrency and rate limits (`@Activity({ concurrency, rateLimit })`), taken as a job takes them. */
  limits: Pick<ActivityLimits, 'enter' | 'forget'>;
  /** Signs the task token of an attempt that calls completeAsync(). */
  tokens: TaskTokens;
  jobs: Pick<JobDispatcher, 'handOver'>;
  served: ServedQueues;
  slots: SlotTable;
  logger: Logger;
  metrics: DurableMetrics;
  settings: {
    /** The module's `eagerActivities`. */
    enabled: boolean;
    /** A claim's ttl (the lease ttl); renewed every third of it. */
    leaseTtlMs: number;
    /** This process's id, the claims' owner. */
    owner: string;
  };
}

/**
 * Eager activities: the activity commands of a step that this process runs itself, at once,
 * with no BullMQ job. `plan` chooses them before the step's commit (this process serves their
 * task queue, a slot of its `concurrency` is free, eager is allowed for them) and the commit
 * claims them (`EagerPlan.claims`); `EagerPlan.start` then runs each attempt in process,
 * renewing its claim, and hands the outcome to the task runner, which records it together with the next step. A retry
 * (after its backoff), an attempt parked for `completeAsync()`, and an attempt still running at
 * a forced shutdown go to the activity's queue as a job (with `attemptBase`), and the claim is dropped.
 * A worker that dies loses its claims: the recovery sweep adds their jobs once they expire.
 *
 * A limited activity (`@Activity({ concurrency, rateLimit })`) is eager too when its limits let
 * it start: its slot lives under another hash tag than the commit, so `plan` sends the request
 * for it (ActivityLimits.enter, for the activity's own holder id, as its job would) while the
 * commit that claims the activity is in flight, with no added round trip. Granted, the attempt
 * runs here holding its slot (renewed, and freed as its outcome is recorded); refused, the
 * claimed activity is handed to its queue (keeping its place among the waiters) and the claim
 * dropped. A worker that dies in between holds nothing for long: the slot lapses within
 * `leaseTtl`, the claim too, and the job the sweep adds asks for the slot under the same holder
 * id (granted again if it still holds it: never a second slot).
 */
export class EagerActivities {
  private readonly running = new Set<Promise<void>>();
  /** Aborted by a forced shutdown: running attempts are handed to their queues at once. */
  private readonly stop = new AbortController();
  private readonly stopped: Promise<typeof SHUT_DOWN>;

  constructor(private readonly deps: EagerActivitiesDeps) {
    // Every running eager attempt listens for a forced shutdown: as many listeners as slots, by design.
    setMaxListeners(0, this.stop.signal);
    this.stopped = new Promise((resolve) =>
      this.stop.signal.addEventListener('abort', () => resolve(SHUT_DOWN), { once: true }),
    );
  }

  /**
   * Splits the job commands (`jobCommands`) of a step of `run`: with `allowed` false (a closing
   * run), all are queued. The limits of a limited activity picked are asked for at once.
   */
  plan(jobs: NewCommand[], run: StepOwner, allowed = true): EagerPlan {
    const picked = allowed ? this.pick(jobs) : NONE;
    if (picked.length === 0) return { queued: jobs, start: nothing, cancel: nothing };
    const { owner, leaseTtlMs } = this.deps.settings;
    const entries = new Map<number, Promise<FlowEntry>>();
    for (const c of picked) if (c.options.flow) entries.set(c.seq, this.enter(run, c));
    return {
      queued: jobs.filter((c) => !picked.includes(c as ScheduledActivity)),
      claims: { seqs: picked.map((c) => c.seq), owner, ttlMs: leaseTtlMs },
      start: (run, recordedAt, sink) => {
        for (const cmd of picked) {
          const done: Promise<void> = this.run(run, cmd, recordedAt, sink, entries.get(cmd.seq)).finally(() =>
            this.running.delete(done),
          );
          this.running.add(done);
        }
      },
      cancel: () => {
        for (const c of picked) this.deps.slots.of(c.options.taskQueue)?.release();
        // Once the request has landed (it may have queued the activity as a waiter): nothing is left held.
        for (const [seq, entry] of entries) {
          const cmd = picked.find((c) => c.seq === seq)!;
          void entry.then((e) =>
            'held' in e ? e.held.release() : this.deps.limits.forget(activityJobData(run, cmd, 0)),
          );
        }
      },
    };
  }

  /** Takes a limited activity's limits for its first attempt (never rejects: a failure is an entry). */
  private enter(run: StepOwner, cmd: ScheduledActivity): Promise<FlowEntry> {
    return this.deps.limits.enter(activityJobData(run, cmd, Date.now()), 1).then(
      (entry) => {
        if ('held' in entry) crashPoint('eager.after-acquire');
        return entry;
      },
      (err: Error) => ({ failed: err }),
    );
  }

  /** The activity commands among `commands` that run here; each takes a slot. */
  private pick(commands: NewCommand[]): ScheduledActivity[] {
    const { settings, served, slots, activities } = this.deps;
    if (!settings.enabled || served.draining || this.stop.signal.aborted) return NONE;
    let picked: ScheduledActivity[] | undefined;
    for (const c of commands) {
      if (c.type !== 'ActivityTaskScheduled' || c.local !== undefined) continue;
      const tq = c.options.taskQueue;
      if (!served.has(tq) || !activities.eagerAllowed(c.activityType, c.options.eager)) continue;
      if (!slots.of(tq)?.tryTake()) continue;
      (picked ??= []).push(c);
    }
    return picked ?? NONE;
  }

  /**
   * Of the outstanding commands a replay re-dispatches, those whose jobs it adds: an activity
   * under a claim runs in its worker's process (which hands it over, or records its outcome), and
   * the recovery sweep adds its job once the claim expires, so a job now would run it twice.
   */
  async unclaimed(workflowId: string, runId: string, outstanding: CommandEvent[]): Promise<CommandEvent[]> {
    if (!outstanding.some((c) => c.type === 'ActivityTaskScheduled')) return outstanding;
    const claims = await this.deps.claims.claimsOf(workflowId, runId);
    const claimed = new Set(claims.filter((c) => !c.taken).map((c) => c.seq));
    if (claimed.size === 0) return outstanding;
    return outstanding.filter((c) => c.type !== 'ActivityTaskScheduled' || !claimed.has(c.seq));
  }

  /** Resolves once every eager activity started here has finished (and its outcome was passed on, or it was handed over). */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
  }

  /** Forced shutdown: every running attempt is aborted and handed to its queue at once (no new one starts). */
  async handOverAll(): Promise<void> {
    this.stop.abort();
    await this.settled();
  }

  private run(
    owner: StepOwner,
    cmd: ScheduledActivity,
    recordedAt: number,
    sink: EagerSink,
    entering: Promise<FlowEntry> | undefined,
  ): Promise<void> {
    const attributes = {
      'workflow.id': owner.workflowId,
      'workflow.run_id': owner.runId,
      'activity.type': cmd.activityType,
      'activity.seq': cmd.seq,
      'activity.attempt': 1,
      'activity.dispatch': 'eager',
    };
    return inSpan('redurable.activity', attributes, owner.trace, async () => {
      const entry = await entering;
      if (entry && !('held' in entry)) return this.refused(owner, cmd, recordedAt, entry);
      return this.attempt(owner, cmd, recordedAt, sink, entry?.held ?? NOTHING_HELD);
    });
  }

  /**
   * A limited activity its limits refused (or whose request failed: its job asks again, under the
   * same holder id): its claimed activity goes to its queue, delayed as a refused job's is and
   * showing what it waits for, then the claim is dropped. A crash before the job exists leaves
   * the claim to expire: the recovery sweep adds the job.
   */
  private async refused(
    owner: StepOwner,
    cmd: ScheduledActivity,
    recordedAt: number,
    entry: LimitWait | { failed: Error },
  ): Promise<void> {
    const { activities, claims, jobs, logger, settings } = this.deps;
    const { workflowId, runId } = owner;
    this.deps.slots.of(cmd.options.taskQueue)!.release(); // taken by plan()
    const step = `activity '${cmd.activityType}' (seq ${cmd.seq}) of workflow ${workflowId} (run ${runId})`;
    let handover: ActivityHandover = { delayMs: 0 };
    if ('waitingFor' in entry) {
      // scheduleToCloseTimeout counts the wait: the job asks again by then, to fail with it.
      const eff = activities.effective(activityJobData(owner, cmd, recordedAt));
      const deadline = eff.scheduleToCloseMs === undefined ? Infinity : recordedAt + eff.scheduleToCloseMs;
      handover = { delayMs: Math.min(entry.delayMs, deadline - Date.now()), waitingFor: entry.waitingFor };
    } else {
      logger.warn(`${step}: asking for its limits failed (${entry.failed.message}); its job asks again`);
    }
    try {
      crashPoint('eager.before-handover');
      await jobs.handOver(owner, { ...cmd, id: 0, ts: recordedAt } as CommandEvent & ScheduledActivity, handover);
      crashPoint('eager.after-handover');
      await claims.releaseClaim(workflowId, runId, cmd.seq, settings.owner);
    } catch (err) {
      logger.warn(
        `${step}: handing it to its queue failed (${(err as Error).message}); the recovery sweep adds its job once its claim expires`,
      );
    }
  }

  private async attempt(
    owner: StepOwner,
    cmd: ScheduledActivity,
    recordedAt: number,
    sink: EagerSink,
    held: HeldLimits,
  ): Promise<void> {
    const { activities, metrics, logger, settings } = this.deps;
    const { workflowId, runId } = owner;
    const data = activityJobData(owner, cmd, recordedAt);
    const step = `activity '${cmd.activityType}' (seq ${cmd.seq}) of workflow ${workflowId} (run ${runId})`;
    const freeSlot = this.deps.slots.of(cmd.options.taskQueue)!.releaser(); // taken by plan()
    const eff = activities.effective(data);
    const began = performance.now();
    const startedAt = Date.now();
    metrics.activityScheduleToStart(cmd.activityType, (startedAt - recordedAt) / 1000, 'eager');
    let heartbeat: string | undefined;
    const details = new HeartbeatDetails(async (encoded) => {
      heartbeat = encoded;
    });
    const taskQueue = cmd.options.taskQueue;
    const tokens = this.deps.tokens;
    const completeAsync = {
      // Encoded only if the activity asks for it.
      get token() {
        return tokens.encode({ workflowId, runId, seq: cmd.seq, attempt: 1, taskQueue });
      },
      requested: false,
    };
    // Renewed until the outcome is recorded or the job added (recording may wait for a task of the
    // same workflow running here); a refusal once the attempt has ended is expected, not logged.
    const state = { ended: false };
    const renewal = setInterval(() => this.renew(data, step, state), settings.leaseTtlMs / 3);
    // A forced shutdown stops renewing at once: the attempt is handed over (or, Redis gone, its claim expires).
    const stopRenewing = () => clearInterval(renewal);
    this.stop.signal.addEventListener('abort', stopRenewing, { once: true });
    let outcome: EagerOutcome | undefined;
    let handover: ActivityHandover | undefined;
    try {
      const result = await Promise.race([
        activities.runAttempt(data, 1, eff, step, this.stop.signal, { details, completeAsync }),
        this.stopped,
      ]);
      freeSlot();
      details.stop();
      if (result === SHUT_DOWN) {
        handover = { attemptBase: 0, delayMs: 0, heartbeat };
      } else if (result === AWAIT_COMPLETION) {
        await details.flush();
        const awaiting = { attempt: 1, startedAt };
        const due = asyncDeadline(eff, data, awaiting, undefined);
        const at = Math.min(due?.at ?? Infinity, Date.now() + ASYNC_RECHECK_MS);
        handover = { attemptBase: 0, delayMs: at - Date.now(), awaiting, heartbeat };
      } else {
        outcome = { type: 'ActivityTaskCompleted', seq: cmd.seq, result, attempt: 1 };
      }
    } catch (err) {
      freeSlot();
      await details.flush();
      if (this.stop.signal.aborted) {
        handover = { attemptBase: 0, delayMs: 0, heartbeat };
      } else {
        const retryState = activities.finalState(err, eff, 1, data);
        if (!retryState) {
          const delayMs = activities.retrying(data, step, 1, eff, err, began, 'eager');
          handover = { attemptBase: 1, delayMs, heartbeat, lastFailure: (err as Error)?.message ?? String(err) };
        } else {
          const failure = activities.finalFailure(data, step, 1, retryState, err);
          outcome = { type: 'ActivityTaskFailed', seq: cmd.seq, failure: serializeFailure(failure), attempt: 1 };
        }
      }
    } finally {
      state.ended = true;
      freeSlot();
    }
    // Errors from here on are logged: the claim expires and the recovery sweep adds the job.
    try {
      if (handover?.awaiting) {
        // Completed from outside before the method returned (completeAsync): nothing to wait for.
        if ((await this.deps.histories.outcomeState(workflowId, runId, cmd.seq)) !== 'outstanding') return;
        // The work is in flight: the parked attempt keeps its slot until its job comes back (as a job's does).
        await held.keepUntil(Date.now() + handover.delayMs);
      }
      if (handover) {
        // A retry or a shutdown gives its slot back: the job's attempt asks again.
        await held.release();
        await this.deps.jobs.handOver(
          owner,
          { ...cmd, id: 0, ts: recordedAt } as CommandEvent & ScheduledActivity,
          handover,
        );
        crashPoint('eager.after-handover');
        await this.deps.claims.releaseClaim(workflowId, runId, cmd.seq, settings.owner);
        return;
      }
      // Freed as the outcome is recorded (the job path's overlap: no added round trip); never throws.
      const released = held.release();
      crashPoint('eager.after-run');
      await Promise.all([released, sink(outcome!)]);
      const seconds = (performance.now() - began) / 1000;
      metrics.activityAttempt(
        cmd.activityType,
        outcome!.type === 'ActivityTaskCompleted' ? 'completed' : 'failed',
        seconds,
        'eager',
      );
    } catch (err) {
      logger.warn(
        `${step}: ${handover ? 'handing it to its queue' : 'recording its outcome'} failed (${(err as Error).message}); the recovery sweep adds its job once its claim expires`,
      );
    } finally {
      clearInterval(renewal);
      this.stop.signal.removeEventListener('abort', stopRenewing);
      // Not freed above (an error, or an outcome recorded from outside): freed now; a kept slot stays kept.
      void held.release();
    }
  }

  /** Extends the claim of a running attempt (every third of its ttl). */
  private renew(data: ActivityJobData, step: string, attempt: { ended: boolean }): void {
    const { claims, logger, settings } = this.deps;
    crashPoint('eager.before-renew');
    void claims.renewClaim(data.workflowId, data.runId, data.seq, settings.owner, settings.leaseTtlMs).then(
      (held) => {
        if (!held && !attempt.ended)
          logger.warn(
            `${step}: its claim was taken over (this worker could not renew it in time); its job may run it again on another worker`,
          );
      },
      () => undefined, // Redis unreachable: the next renewal tries again
    );
  }
}
