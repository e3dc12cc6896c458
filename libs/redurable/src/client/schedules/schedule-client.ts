import type { RedisLink } from '../../store/redis-link.js';
import {
  ScheduleAlreadyExistsError,
  ScheduleBusyError,
  ScheduleNotFoundError,
} from '../../core/errors/schedule.errors.js';
import { checkOverlap, checkScheduleId, defineSchedule, type DefinitionDeps } from './schedule-definition.js';
import type {
  BackfillOptions,
  ScheduleActionRecord,
  ScheduleDescription,
  ScheduleOptions,
  ScheduleSpec,
  ScheduleSummary,
  ScheduleUpdate,
  TriggerOptions,
} from '../../core/schedules/schedule-options.js';
import type { ScheduleProcessor } from './schedule-processor.js';
import { nextFireTimes, publicSpec } from '../../core/schedules/schedule-spec.js';
import type {
  Clock,
  HistoryReader,
  ScheduleRecord,
  ScheduleRecords,
  ScheduleState,
  StoredDefinition,
} from '../../core/ports/index.js';
import type { ScheduleWakeups } from '../../queues/schedule-wakeups.js';

/** What the schedule client uses (built by the runtime); `histories` reads the metas of the workflows schedules started. */
export interface ScheduleContext extends DefinitionDeps {
  schedules: ScheduleRecords;
  histories: Pick<HistoryReader, 'getMetas'>;
  processor: ScheduleProcessor;
  wakeups: ScheduleWakeups;
  link: RedisLink;
  clock: Clock;
}

/** How many coming fire times `describe()` lists. */
const NEXT_FIRE_TIMES = 5;

/**
 * Schedules: start a workflow on a cron expression or at an interval (`client.schedule`).
 * Each fire starts its workflow with an id made from the schedule id and the fire time, so a
 * fire handled twice starts one workflow. Fires are woken by BullMQ job schedulers and handled
 * by any process with workers. The calls that change a schedule take its lock (one pass at a
 * time): when another process holds it past `leaseTtl` (a long backfill), they throw
 * ScheduleBusyError and change nothing; a process that died lets go within `leaseTtl`.
 *
 * @example
 * await client.schedule.create({
 *   scheduleId: 'nightly-report',
 *   spec: { cron: '0 0 2 * * *', timezone: 'Europe/Paris' },
 *   action: { workflow: ReportWorkflow, args: [{ kind: 'daily' }] },
 *   policies: { overlap: 'SKIP', catchupWindow: '6h' },
 * });
 */
export class ScheduleClient {
  /** @internal */
  constructor(private readonly ctx: ScheduleContext) {}

  /**
   * Creates a schedule. Throws, writing nothing, on bad input (InvalidScheduleError naming the
   * problem, UnknownWorkflowTypeError) or when the id exists (ScheduleAlreadyExistsError).
   * Fire times before its creation are not started (backfill them).
   */
  async create(options: ScheduleOptions): Promise<ScheduleDescription> {
    const scheduleId = checkScheduleId(options?.scheduleId);
    return this.ctx.link.call(`create schedule '${scheduleId}'`, async (answered) => {
      const def = await defineSchedule(this.ctx, scheduleId, options, 'client');
      await this.ctx.processor.exclusive(
        scheduleId,
        async (owner) => {
          if (await this.ctx.schedules.read(scheduleId)) throw new ScheduleAlreadyExistsError(scheduleId);
          await this.save(scheduleId, def, this.newState(options.paused), owner);
        },
        answered,
      );
      return this.describeNow(scheduleId);
    });
  }

  /** Checks options as `create` does, writing nothing (the `@Schedule` options, before any is written). @internal */
  async check(options: ScheduleOptions): Promise<void> {
    await defineSchedule(this.ctx, checkScheduleId(options?.scheduleId), options, 'decorator');
  }

  /**
   * Creates the schedule, or replaces the definition of the existing one (keeping its state:
   * pause, handled fires, running workflows). How `@Schedule` schedules are kept at boot.
   * @internal
   */
  async upsert(options: ScheduleOptions, origin: StoredDefinition['origin']): Promise<'created' | 'updated'> {
    const scheduleId = checkScheduleId(options?.scheduleId);
    const def = await defineSchedule(this.ctx, scheduleId, options, origin);
    return this.ctx.processor.exclusive(scheduleId, async (owner) => {
      const existing = await this.ctx.schedules.read(scheduleId);
      await this.save(scheduleId, def, existing?.state ?? this.newState(options.paused), owner);
      return existing ? 'updated' : 'created';
    });
  }

  /**
   * Changes a schedule: what `changes` gives replaces the spec or the action; policies are
   * merged. Handled fires stay handled. Throws ScheduleNotFoundError, or on bad input as `create`.
   */
  async update(scheduleId: string, changes: ScheduleUpdate): Promise<ScheduleDescription> {
    return this.ctx.link.call(`update schedule '${scheduleId}'`, async (answered) => {
      await this.ctx.processor.locked(
        scheduleId,
        async ({ rec, owner }) => {
          const def = await defineSchedule(
            this.ctx,
            scheduleId,
            {
              spec: changes.spec ?? specOf(rec.def),
              action: changes.action ?? {
                workflow: rec.def.action.workflowType,
                taskQueue: rec.def.action.taskQueue,
                workflowId: rec.def.action.workflowId,
                args: rec.def.action.args.map((a) => this.ctx.converter.decode(a, `schedule '${scheduleId}'`)),
                workflowExecutionTimeout: rec.def.action.timeouts?.executionTimeoutMs,
                workflowRunTimeout: rec.def.action.timeouts?.runTimeoutMs,
              },
              policies: {
                overlap: rec.def.policies.overlap,
                catchupWindow: rec.def.policies.catchupWindowMs,
                catchup: rec.def.policies.catchup,
                ...changes.policies,
              },
            },
            rec.def.origin,
          );
          rec.def = def;
          await this.save(scheduleId, def, rec.state, owner);
        },
        { answered },
      );
      return this.describeNow(scheduleId);
    });
  }

  /** Stops firing until `unpause`; fire times passed meanwhile are not started. */
  async pause(scheduleId: string, note?: string): Promise<void> {
    await this.ctx.link.call(`pause schedule '${scheduleId}'`, (answered) =>
      this.ctx.processor.locked(
        scheduleId,
        async (pass) => {
          pass.rec.state.paused = true;
          pass.rec.state.note = note;
          // Once the state says paused (a wake then does nothing): removed first, a crash or a lost
          // lock before the save would leave an unpaused schedule that never fires.
          pass.afterSave = () => this.ctx.wakeups.remove(scheduleId);
        },
        { answered },
      ),
    );
  }

  /** Fires again from now on (the fire times passed while paused are skipped). */
  async unpause(scheduleId: string, note?: string): Promise<void> {
    await this.ctx.link.call(`unpause schedule '${scheduleId}'`, (answered) =>
      this.ctx.processor.locked(
        scheduleId,
        async ({ rec }) => {
          rec.state.paused = false;
          rec.state.note = note;
          rec.state.cursor = Math.max(rec.state.cursor, this.ctx.clock.now());
          await this.ctx.wakeups.sync(scheduleId, rec.def, false, this.ctx.clock.now());
        },
        { answered },
      ),
    );
  }

  /** Fires now (even when paused), under the schedule's overlap policy unless `options.overlap` says otherwise. */
  async trigger(scheduleId: string, options: TriggerOptions = {}): Promise<ScheduleActionRecord> {
    const overlap = options.overlap === undefined ? undefined : checkOverlap(scheduleId, options.overlap);
    return this.ctx.link.call(`trigger schedule '${scheduleId}'`, (answered) =>
      this.ctx.processor.trigger(scheduleId, overlap, answered),
    );
  }

  /**
   * Fires every spec time from `from` to `to` (both included), oldest first, as if they had
   * come then; ids are those of the fire times, so a fire already started is not started again.
   */
  async backfill(
    scheduleId: string,
    from: Date,
    to: Date,
    options: BackfillOptions = {},
  ): Promise<ScheduleActionRecord[]> {
    const overlap = checkOverlap(scheduleId, options.overlap ?? 'ALLOW_ALL');
    return this.ctx.link.call(`backfill schedule '${scheduleId}'`, (answered) =>
      this.ctx.processor.backfill(scheduleId, from, to, overlap, answered),
    );
  }

  /** Deletes the schedule; workflows it started keep running. Throws ScheduleNotFoundError. */
  async delete(scheduleId: string): Promise<void> {
    await this.ctx.link.call(`delete schedule '${scheduleId}'`, (answered) =>
      this.ctx.processor.locked(
        scheduleId,
        async (pass) => {
          await this.ctx.wakeups.remove(scheduleId);
          await this.ctx.schedules.delete(scheduleId);
          pass.deleted = true;
        },
        { answered },
      ),
    );
  }

  /** Spec, policies, pause, next fire times, recent actions and running workflows. Throws ScheduleNotFoundError. */
  async describe(scheduleId: string): Promise<ScheduleDescription> {
    return this.ctx.link.call(`describe schedule '${scheduleId}'`, () => this.describeNow(scheduleId));
  }

  /** Every schedule of the prefix, by id. */
  async list(): Promise<ScheduleSummary[]> {
    return this.ctx.link.call('list schedules', async () => {
      const ids = await this.ctx.schedules.ids();
      const records = await this.ctx.schedules.readMany(ids);
      const running = await this.stillRunning(records.map((rec) => rec?.state.running ?? []));
      const now = this.ctx.clock.now();
      return Promise.all(
        ids.flatMap((scheduleId, i) => {
          const rec = records[i];
          if (!rec) return [];
          return [
            (async (): Promise<ScheduleSummary> => {
              const [lastAction] = await this.ctx.schedules.recentActions(scheduleId, 1);
              const [next] = rec.state.paused ? [] : nextFireTimes(rec.def.spec, Math.max(now, rec.state.cursor), 1);
              return {
                scheduleId,
                workflowType: rec.def.action.workflowType,
                spec: publicSpec(rec.def.spec),
                paused: rec.state.paused,
                ...(rec.state.note !== undefined ? { note: rec.state.note } : {}),
                ...(next !== undefined ? { nextFireTime: new Date(next) } : {}),
                ...(lastAction ? { lastAction } : {}),
                running: running[i].length,
              };
            })(),
          ];
        }),
      );
    });
  }

  private newState(paused: ScheduleOptions['paused']): ScheduleState {
    const now = this.ctx.clock.now();
    return {
      paused: Boolean(paused),
      ...(typeof paused === 'string' ? { note: paused } : {}),
      cursor: now,
      running: [],
      counts: { started: 0, skipped: 0, missed: 0, failed: 0 },
      createdAt: now,
      updatedAt: now,
    };
  }

  /**
   * Writes the record while `owner` holds the lock, then makes BullMQ's job scheduler match it
   * (a crash between is repaired by the next save or boot).
   */
  private async save(scheduleId: string, def: StoredDefinition, state: ScheduleState, owner: string): Promise<void> {
    const record: ScheduleRecord = { def, state: { ...state, updatedAt: this.ctx.clock.now() } };
    if (!(await this.ctx.schedules.write(scheduleId, record, owner)))
      throw new ScheduleBusyError(
        scheduleId,
        `Schedule '${scheduleId}': this process lost its lock before writing (it stalled for over leaseTtl) and another may have taken it over; nothing was written: try again`,
      );
    await this.ctx.wakeups.sync(scheduleId, def, state.paused, this.ctx.clock.now());
  }

  /**
   * Of each schedule's started runs, those that still run (a record lists them until its next
   * pass looks), with one read of the metas for all: describe() and list() show the same.
   */
  private async stillRunning(lists: ScheduleState['running'][]): Promise<ScheduleState['running'][]> {
    const all = lists.flat();
    if (all.length === 0) return lists.map(() => []);
    const metas = await this.ctx.histories.getMetas(all.map((r) => r.workflowId));
    const live = new Set(all.filter((r, i) => metas[i]?.status === 'running' && metas[i]?.runId === r.runId));
    return lists.map((list) => list.filter((r) => live.has(r)));
  }

  private async describeNow(scheduleId: string): Promise<ScheduleDescription> {
    const rec = await this.ctx.schedules.read(scheduleId);
    if (!rec) throw new ScheduleNotFoundError(scheduleId);
    const { def, state } = rec;
    const [running] = await this.stillRunning([state.running]);
    return {
      scheduleId,
      spec: publicSpec(def.spec),
      action: {
        workflowType: def.action.workflowType,
        ...(def.action.taskQueue !== undefined ? { taskQueue: def.action.taskQueue } : {}),
        workflowId: def.action.workflowId,
        args: def.action.args.map((a) => this.ctx.converter.decode(a, `schedule '${scheduleId}'`)),
        ...(def.action.timeouts?.executionTimeoutMs !== undefined
          ? { workflowExecutionTimeout: def.action.timeouts.executionTimeoutMs }
          : {}),
        ...(def.action.timeouts?.runTimeoutMs !== undefined
          ? { workflowRunTimeout: def.action.timeouts.runTimeoutMs }
          : {}),
      },
      policies: { ...def.policies },
      paused: state.paused,
      ...(state.note !== undefined ? { note: state.note } : {}),
      origin: def.origin,
      nextFireTimes: state.paused
        ? []
        : nextFireTimes(def.spec, Math.max(this.ctx.clock.now(), state.cursor), NEXT_FIRE_TIMES).map(
            (t) => new Date(t),
          ),
      lastFireTime: new Date(state.cursor),
      ...(state.buffered ? { bufferedFireTime: new Date(state.buffered.fireTime) } : {}),
      recentActions: await this.ctx.schedules.recentActions(scheduleId),
      running,
      counts: { ...state.counts },
      createdAt: new Date(state.createdAt),
      updatedAt: new Date(state.updatedAt),
    };
  }
}

/** The stored spec in the form `create` takes. */
function specOf(def: StoredDefinition): ScheduleSpec {
  const { cron, timezone, everyMs, startAt, endAt } = def.spec;
  const dates = {
    ...(startAt !== undefined ? { startAt: new Date(startAt) } : {}),
    ...(endAt !== undefined ? { endAt: new Date(endAt) } : {}),
  };
  return cron !== undefined ? { cron, ...(timezone ? { timezone } : {}), ...dates } : { every: everyMs!, ...dates };
}
