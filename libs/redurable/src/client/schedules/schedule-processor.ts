import type { Clock, HistoryReader, Logger, ScheduleRecord, ScheduleRecords } from '../../core/ports/index.js';
import type { StartWorkflowOptions } from '../workflow-starter.js';
import { DurableFailure } from '../../core/errors/temporal-failure.js';
import { WorkflowIdReuseError } from '../../core/errors/id-policy.errors.js';
import { RedisUnavailableError, RedurableError } from '../../core/errors/library.errors.js';
import { InvalidScheduleError, ScheduleBusyError, ScheduleNotFoundError } from '../../core/errors/schedule.errors.js';
import { WorkflowNotRunningError } from '../../core/errors/workflow-control.js';
import type { DataConverter } from '../../core/payload/data-converter.js';
import { workflowIdOf } from './schedule-definition.js';
import type { ScheduleActionRecord, ScheduleOverlapPolicy } from '../../core/schedules/schedule-options.js';
import { fireTimesIn, nextFireTimes } from '../../core/schedules/schedule-spec.js';
import { ScheduleLocks } from './schedule-lock.js';

/** BullMQ may deliver a fire a little before its time (Redis' clock, rounding): it waits for it rather than miss it. */
const MAX_EARLY_MS = 1000;
/** At most this many fire times per wake after downtime (the latest ones; older ones count as missed). */
const MAX_CATCHUP_FIRES = 100;
/** Bounds of the delay between checks of a buffered fire (see checkDelay). */
const MIN_CHECK_MS = 1000;
const MAX_CHECK_MS = 60_000;
/** `backfill()` refuses a range with more fire times than this. */
const MAX_BACKFILL_FIRES = 1000;

/** What a schedule does to its workflows: the client's start, cancel and terminate (ScheduledWorkflowCalls). */
export interface ScheduledWorkflows {
  /** Starts a fire's workflow; returns the run the id has (an existing one under USE_EXISTING). */
  start(workflowType: string, options: StartWorkflowOptions): Promise<{ runId: string }>;
  cancel(workflowId: string, reason: string): Promise<void>;
  terminate(workflowId: string, reason: string): Promise<void>;
}

export interface ScheduleProcessorDeps {
  store: ScheduleRecords;
  histories: Pick<HistoryReader, 'getMeta' | 'getMetas'>;
  converter: DataConverter;
  /** Starts, cancels and terminates the scheduled workflows. */
  workflows: ScheduledWorkflows;
  /** The runtime's clock (a test environment moves it). */
  clock: Clock;
  /** Asks for a wake in `delayMs`, to start a buffered fire once the running workflows close. */
  wakeups: { checkSoon(scheduleId: string, delayMs: number): Promise<void> };
  logger: Logger;
  /** A schedule's lock lasts `leaseTtlMs` past its holder's last renewal. */
  settings: { leaseTtlMs: number };
}

/** How a locked operation waits for the lock, and whether it needs the schedule to exist. */
export interface LockedOptions {
  /** Throw ScheduleNotFoundError for an unknown id (else return undefined). @default true */
  required?: boolean;
  /** Called each time Redis answers that another holds the lock (a client call's timeout counts from then). */
  answered?: () => void;
}

/** One locked operation on a schedule: its record, and the actions taken so far. */
export interface Pass {
  scheduleId: string;
  rec: ScheduleRecord;
  actions: ScheduleActionRecord[];
  /** Set by a delete: nothing is left to save. */
  deleted?: boolean;
  /** The lock this pass holds (each save renews it, and refuses to write once another process took it). */
  owner: string;
  /** Runs once the pass's state is saved (what must not happen unless the state says so, e.g. removing a paused schedule's job scheduler). */
  afterSave?: () => Promise<void>;
}

/**
 * Turns fire times into workflow starts. The cursor in the schedule's state, not BullMQ, says
 * which fire times are handled: a wake starts the fire times after the cursor that are due by
 * now, each with an id made from its fire time, and moves the cursor. A fire delivered twice
 * finds nothing due; a crash between a start and the cursor write is repaired by the next wake,
 * whose start of the same id starts nothing new (REJECT_DUPLICATE, USE_EXISTING).
 */
export class ScheduleProcessor {
  private readonly locks: ScheduleLocks;

  constructor(private readonly deps: ScheduleProcessorDeps) {
    this.locks = new ScheduleLocks(deps);
  }

  /**
   * Handles what is due: a buffered fire whose blockers closed, then the fire times after the
   * cursor up to now (within the catch-up window). `early`: a BullMQ fire, which may come a
   * little before its time. Returns the actions taken; nothing for an unknown or deleted schedule.
   */
  async wake(scheduleId: string, early = false): Promise<ScheduleActionRecord[]> {
    const done = await this.pass(scheduleId, this.locks.waitMs, { required: false }, (pass) => this.due(pass, early));
    if (done) return done.actions ?? [];
    // Another process held the schedule all along (a long backfill, a slow fire): it may not see
    // this fire's time, so the schedule is woken again once that one had time to finish.
    await this.deps.wakeups.checkSoon(scheduleId, this.deps.settings.leaseTtlMs);
    return [];
  }

  /**
   * The sweep's wake of a schedule whose pass stopped without letting go: one attempt at the
   * lock; undefined when another process holds it (it is tried again at the next sweep).
   */
  async wakeIfFree(scheduleId: string): Promise<ScheduleActionRecord[] | undefined> {
    const done = await this.pass(scheduleId, 0, { required: false }, (pass) => this.due(pass, false));
    return done ? (done.actions ?? []) : undefined;
  }

  /** What a wake does under the lock: see `wake`. */
  private async due(pass: Pass, early: boolean): Promise<void> {
    await this.settle(pass);
    const { def, state } = pass.rec;
    if (state.paused) return;
    let now = this.deps.clock.now();
    const [next] = nextFireTimes(def.spec, state.cursor, 1);
    if (early && next !== undefined && next > now && next - now <= MAX_EARLY_MS) {
      await new Promise((r) => setTimeout(r, next - now));
      now = Math.max(this.deps.clock.now(), next);
    }
    const { times, more } = fireTimesIn(def.spec, state.cursor, now, MAX_CATCHUP_FIRES);
    if (times.length === 0) return;
    const inWindow = times.filter((t) => t >= now - def.policies.catchupWindowMs);
    const chosen = def.policies.catchup === 'LAST' ? inWindow.slice(-1) : inWindow;
    const missed = times.filter((t) => !chosen.includes(t));
    if (missed.length > 0 || more) await this.recordMissed(pass, missed, more);
    for (const fireTime of chosen) {
      const action = await this.fire(pass, fireTime, 'scheduled', def.policies.overlap);
      state.cursor = fireTime;
      await this.save(pass, action);
    }
    state.cursor = Math.max(state.cursor, times.at(-1)!);
  }

  /** Wakes every schedule of the prefix (what a test environment does after moving its clock). */
  async wakeAll(): Promise<ScheduleActionRecord[]> {
    const actions: ScheduleActionRecord[] = [];
    for (const id of await this.deps.store.ids()) actions.push(...(await this.wake(id)));
    return actions;
  }

  /** The earliest fire time after some unpaused schedule's cursor, if it is at most `until`. */
  async earliestDue(until: number): Promise<number | undefined> {
    const records = await this.deps.store.readMany(await this.deps.store.ids());
    let earliest: number | undefined;
    for (const rec of records) {
      if (!rec || rec.state.paused) continue;
      const [next] = nextFireTimes(rec.def.spec, rec.state.cursor, 1);
      if (next !== undefined && next <= until && (earliest === undefined || next < earliest)) earliest = next;
    }
    return earliest;
  }

  /** Fires now, under the schedule's overlap policy (or `overlap`). */
  async trigger(
    scheduleId: string,
    overlap?: ScheduleOverlapPolicy,
    answered?: () => void,
  ): Promise<ScheduleActionRecord> {
    const actions = await this.locked(
      scheduleId,
      async (pass) => {
        await this.save(
          pass,
          await this.fire(pass, this.deps.clock.now(), 'trigger', overlap ?? pass.rec.def.policies.overlap),
        );
      },
      { answered },
    );
    return actions!.at(-1)!;
  }

  /** Fires every spec time in [from, to], oldest first; the cursor does not move. */
  async backfill(
    scheduleId: string,
    from: Date,
    to: Date,
    overlap: ScheduleOverlapPolicy,
    answered?: () => void,
  ): Promise<ScheduleActionRecord[]> {
    if (!(to.getTime() >= from.getTime()))
      throw new InvalidScheduleError(
        scheduleId,
        `backfill: 'to' (${to.toISOString()}) is before 'from' (${from.toISOString()})`,
      );
    return (await this.locked(
      scheduleId,
      async (pass) => {
        const { times, more } = fireTimesIn(pass.rec.def.spec, from.getTime() - 1, to.getTime(), MAX_BACKFILL_FIRES);
        if (more)
          throw new InvalidScheduleError(
            scheduleId,
            `backfill: more than ${MAX_BACKFILL_FIRES} fire times from ${from.toISOString()} to ${to.toISOString()}: split the range`,
          );
        for (const fireTime of times) await this.save(pass, await this.fire(pass, fireTime, 'backfill', overlap));
      },
      { answered },
    ))!;
  }

  /**
   * Runs `body` holding the schedule's lock, on its current record, and writes the state it
   * leaves. Throws ScheduleNotFoundError for an unknown id (or, with `required` false, returns
   * undefined), and ScheduleBusyError when another process held the lock for the whole wait.
   */
  async locked(
    scheduleId: string,
    body: (pass: Pass) => Promise<void>,
    options: LockedOptions = {},
  ): Promise<ScheduleActionRecord[] | undefined> {
    const done = await this.pass(scheduleId, this.locks.waitMs, options, body);
    if (!done) throw this.busy(scheduleId);
    return done.actions;
  }

  /**
   * Runs `work` holding the schedule's lock, waiting for another holder at most a little over
   * `leaseTtl` (longer than a dead holder's lock lasts); ScheduleBusyError after that.
   */
  async exclusive<T>(scheduleId: string, work: (owner: string) => Promise<T>, answered?: () => void): Promise<T> {
    const done = await this.held(scheduleId, this.locks.waitMs, answered, work);
    if (!done) throw this.busy(scheduleId);
    return done.value;
  }

  /** `locked`'s pass, waiting at most `waitMs` for the lock; undefined when another held it all along. */
  private pass(
    scheduleId: string,
    waitMs: number,
    { required = true, answered }: LockedOptions,
    body: (pass: Pass) => Promise<void>,
  ): Promise<{ actions: ScheduleActionRecord[] | undefined } | undefined> {
    return this.held(scheduleId, waitMs, answered, async (owner) => {
      const rec = await this.deps.store.read(scheduleId);
      if (!rec) {
        if (required) throw new ScheduleNotFoundError(scheduleId);
        return undefined;
      }
      const pass: Pass = { scheduleId, rec, actions: [], owner };
      await body(pass);
      if (pass.deleted) return pass.actions;
      await this.save(pass);
      await pass.afterSave?.();
      if (rec.state.buffered) await this.deps.wakeups.checkSoon(scheduleId, checkDelay(rec.state.buffered.since));
      return pass.actions;
    }).then((done) => done && { actions: done.value });
  }

  /** Runs `work` holding the lock (renewed meanwhile); undefined when another owner held it for `waitMs`. */
  private async held<T>(
    scheduleId: string,
    waitMs: number,
    answered: (() => void) | undefined,
    work: (owner: string) => Promise<T>,
  ): Promise<{ value: T } | undefined> {
    const lock = await this.locks.take(scheduleId, waitMs, answered);
    if (!lock) return undefined;
    try {
      return { value: await work(lock.owner) };
    } catch (err) {
      // A write refused (ScheduleBusyError inside a pass): the lock was lost before the renewal
      // noticed it. The pass stays listed, for the sweep to finish what it left (see HeldLock.release).
      if (err instanceof ScheduleBusyError) lock.lost = true;
      throw err;
    } finally {
      await lock.release();
    }
  }

  private busy(scheduleId: string): ScheduleBusyError {
    const { leaseTtlMs } = this.deps.settings;
    return new ScheduleBusyError(
      scheduleId,
      `Schedule '${scheduleId}' is busy: another process has been handling it for over ${this.locks.waitMs} ms ` +
        `(a long backfill, or a slow fire; a process that died lets go within leaseTtl, ${leaseTtlMs} ms). Nothing was changed: try again`,
    );
  }

  /** Writes the state, with the action just taken, if this pass still holds the lock. */
  private async save(pass: Pass, action?: ScheduleActionRecord): Promise<void> {
    pass.rec.state.updatedAt = this.deps.clock.now();
    // A pass that outlived its lock (a stalled process) must not overwrite the state another
    // process has written since: the store writes only while the lock is this pass's.
    if (!(await this.deps.store.writeState(pass.scheduleId, pass.rec.state, action ? [action] : [], pass.owner))) {
      throw new ScheduleBusyError(
        pass.scheduleId,
        `Schedule '${pass.scheduleId}': this process lost its lock (it could not renew it within leaseTtl, ${this.deps.settings.leaseTtlMs} ms) and another may have taken it over; nothing more was written (the other's state stands): try again`,
      );
    }
    if (action) pass.actions.push(action);
  }

  private async recordMissed(pass: Pass, missed: number[], more: boolean): Promise<void> {
    const { state, def } = pass.rec;
    state.counts.missed += missed.length;
    const first = missed[0];
    const span =
      first === undefined ? '' : ` from ${new Date(first).toISOString()} to ${new Date(missed.at(-1)!).toISOString()}`;
    const why =
      def.policies.catchup === 'LAST'
        ? 'catchup is LAST (only the latest due fire starts)'
        : `older than the catch-up window (${def.policies.catchupWindowMs} ms)`;
    await this.save(pass, {
      fireTime: new Date(first ?? state.cursor),
      at: new Date(this.deps.clock.now()),
      cause: 'scheduled',
      outcome: 'missed',
      reason: `${missed.length}${more ? '+' : ''} fire time(s)${span}${more ? ' and earlier' : ''} not started: ${why}`,
    });
  }

  /**
   * Forgets the runs that closed, then starts the buffered fire if nothing the schedule started
   * is running. Before every fire too: a run may close while a pass handles a later fire (waiting
   * for its time), and the buffered fire, older, goes first.
   */
  private async settle(pass: Pass): Promise<void> {
    const { state } = pass.rec;
    await this.refreshRunning(pass);
    if (!state.buffered || state.running.length > 0) return;
    const { fireTime, cause } = state.buffered;
    state.buffered = undefined;
    await this.save(pass, await this.start(pass, fireTime, cause));
  }

  /** Forgets started workflows that are no longer running (or whose id runs another run now). */
  private async refreshRunning(pass: Pass): Promise<void> {
    const { state } = pass.rec;
    if (state.running.length === 0) return;
    const metas = await this.deps.histories.getMetas(state.running.map((r) => r.workflowId));
    state.running = state.running.filter((r, i) => metas[i]?.status === 'running' && metas[i]?.runId === r.runId);
  }

  /** One fire under an overlap policy (after the buffered fire, if what blocked it has closed). */
  private async fire(
    pass: Pass,
    fireTime: number,
    cause: ScheduleActionRecord['cause'],
    overlap: ScheduleOverlapPolicy,
  ): Promise<ScheduleActionRecord> {
    const { state } = pass.rec;
    await this.settle(pass);
    if (state.running.length === 0 || overlap === 'ALLOW_ALL') return this.start(pass, fireTime, cause);
    const blockers = state.running.map((r) => r.workflowId).join(', ');
    const record = (outcome: ScheduleActionRecord['outcome'], reason: string): ScheduleActionRecord => ({
      fireTime: new Date(fireTime),
      at: new Date(this.deps.clock.now()),
      cause,
      outcome,
      reason,
    });
    const { workflows } = this.deps;
    switch (overlap) {
      case 'SKIP':
        state.counts.skipped++;
        return record('skipped', `overlap policy SKIP: ${blockers} still running`);
      case 'BUFFER_ONE':
        if (state.buffered) {
          state.counts.skipped++;
          return record(
            'skipped',
            `overlap policy BUFFER_ONE: the fire of ${new Date(state.buffered.fireTime).toISOString()} is already buffered behind ${blockers}`,
          );
        }
        state.buffered = { fireTime, cause, since: Date.now() };
        return record('buffered', `overlap policy BUFFER_ONE: starts when ${blockers} closes`);
      case 'CANCEL_OTHER':
        for (const r of state.running)
          await ignoreNotRunning(
            workflows.cancel(r.workflowId, `cancelled by schedule '${pass.scheduleId}' (overlap policy CANCEL_OTHER)`),
          );
        if (state.buffered) state.counts.skipped++; // replaced by this newer fire
        state.buffered = { fireTime, cause, since: Date.now() };
        return record(
          'buffered',
          `overlap policy CANCEL_OTHER: cancellation of ${blockers} requested; starts when it has closed`,
        );
      case 'TERMINATE_OTHER':
        for (const r of state.running)
          await ignoreNotRunning(
            workflows.terminate(
              r.workflowId,
              `terminated by schedule '${pass.scheduleId}' (overlap policy TERMINATE_OTHER)`,
            ),
          );
        state.running = [];
        return this.start(pass, fireTime, cause);
    }
  }

  /** Starts the fire's workflow; the same fire time started again finds its workflow and starts nothing. */
  private async start(
    pass: Pass,
    fireTime: number,
    cause: ScheduleActionRecord['cause'],
  ): Promise<ScheduleActionRecord> {
    const { def, state } = pass.rec;
    const workflowId = workflowIdOf(def.action.workflowId, pass.scheduleId, fireTime);
    const base = { fireTime: new Date(fireTime), at: new Date(this.deps.clock.now()), cause, workflowId };
    try {
      const args = def.action.args.map((a) => this.deps.converter.decode(a, `schedule '${pass.scheduleId}'`));
      const started = await this.deps.workflows.start(def.action.workflowType, {
        workflowId,
        args,
        taskQueue: def.action.taskQueue,
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowExecutionTimeout: def.action.timeouts?.executionTimeoutMs,
        workflowRunTimeout: def.action.timeouts?.runTimeoutMs,
      });
      const runId = started.runId;
      if (!state.running.some((r) => r.workflowId === workflowId)) state.running.push({ workflowId, runId });
      state.counts.started++;
      return { ...base, outcome: 'started', runId };
    } catch (err) {
      if (err instanceof WorkflowIdReuseError) {
        // Started by an earlier handling of this fire, and already closed.
        const meta = await this.deps.histories.getMeta(workflowId);
        return {
          ...base,
          outcome: 'started',
          runId: meta?.runId,
          reason: 'already started by an earlier handling of this fire',
        };
      }
      if (err instanceof RedisUnavailableError || !(err instanceof RedurableError || err instanceof DurableFailure))
        throw err;
      // A start that can never work (type gone, arguments no longer valid) must not block later fires.
      state.counts.failed++;
      this.deps.logger.error?.(
        `Schedule '${pass.scheduleId}': the fire of ${base.fireTime.toISOString()} could not start ${workflowId}: ${err.message}`,
      );
      return { ...base, outcome: 'failed', reason: err.message };
    }
  }
}

/**
 * How soon a buffered fire is checked again: every second at first, then a tenth of the real
 * time it has waited (a fire behind a run of days is checked every minute, not every second).
 */
function checkDelay(since = Date.now()): number {
  return Math.min(MAX_CHECK_MS, Math.max(MIN_CHECK_MS, Math.round((Date.now() - since) / 10)));
}

async function ignoreNotRunning(work: Promise<void>): Promise<void> {
  try {
    await work;
  } catch (err) {
    if (!(err instanceof WorkflowNotRunningError)) throw err;
  }
}
