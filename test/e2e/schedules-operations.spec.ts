import { afterEach, describe, expect, test } from '@jest/globals';
import {
  InvalidScheduleError,
  Schedule,
  ScheduleAlreadyExistsError,
  ScheduleNotFoundError,
  UnknownWorkflowTypeError,
  Workflow,
  WorkflowRun,
  type ScheduleActionRecord,
} from 'redurable';
import { TestWorkflowEnvironment } from 'redurable/testing';
import { DurableRuntime } from 'redurable/internal';
import { createTestApp, keyNames, keysUnder, testConnection, type TestApp } from '../support/test-app.js';

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const started = (actions: ScheduleActionRecord[]) =>
  actions
    .filter((a) => a.outcome === 'started')
    .map((a) => a.workflowId!)
    .sort();

@Workflow({ taskQueue: 'sched-ops' })
class ReportWorkflow {
  @WorkflowRun()
  async run(kind: string): Promise<string> {
    return `report ${kind}`;
  }
}

describe('schedules: operations', () => {
  let env: TestWorkflowEnvironment | undefined;
  const apps: TestApp[] = [];
  afterEach(async () => {
    await env?.close();
    env = undefined;
    for (const app of apps.splice(0)) await app.close();
  });

  test("a pass that lost its lock to another process writes nothing (the other's state stands)", async () => {
    const app = await createTestApp([ReportWorkflow]);
    apps.push(app);
    await app.client.schedule.create({
      scheduleId: 'contended',
      spec: { cron: '0 0 * * * *' },
      action: { workflow: ReportWorkflow, args: ['c'] },
    });
    const processor = app.app.get(DurableRuntime).schedules;
    const lock = keyNames(app.prefix).scheduleLock('contended');
    await expect(
      processor.locked('contended', async (pass) => {
        await app.redis.set(lock, 'another-process', 'PX', 30_000); // this pass outlived its lock; another took it
        pass.rec.state.note = 'stale';
      }),
    ).rejects.toThrow(
      "Schedule 'contended': this process lost its lock (it could not renew it within leaseTtl, 2000 ms) and another may have taken it over; nothing more was written",
    );
    expect((await app.client.schedule.describe('contended')).note).toBeUndefined();
    await app.redis.del(lock);
    await app.client.schedule.pause('contended', 'mine');
    expect((await app.client.schedule.describe('contended')).note).toBe('mine');
  });

  test('pause skips the fires while paused, unpause fires again from then on; the note is kept', async () => {
    env = await TestWorkflowEnvironment.create({ connection: testConnection(), providers: [ReportWorkflow] });
    await env.client.schedule.create({
      scheduleId: 'p',
      spec: { cron: '0 0 * * * *' },
      action: { workflow: ReportWorkflow, args: ['p'] },
    });
    const first = Math.ceil((env.now() + 1) / HOUR) * HOUR;
    await env.advanceTime('1 hour');
    await env.client.schedule.pause('p', 'maintenance window');
    let d = await env.client.schedule.describe('p');
    expect(d).toMatchObject({ paused: true, note: 'maintenance window', nextFireTimes: [] });
    await env.advanceTime('3 hours');
    expect(started((await env.client.schedule.describe('p')).recentActions)).toEqual([`p-${iso(first)}`]);
    await env.client.schedule.unpause('p', 'back');
    await env.advanceTime('1 hour');
    d = await env.client.schedule.describe('p');
    expect(d).toMatchObject({ paused: false, note: 'back' });
    expect(started(d.recentActions)).toEqual([`p-${iso(first)}`, `p-${iso(first + 4 * HOUR)}`]);
  });

  test('trigger starts now (even when paused); backfill starts every spec time in the range once', async () => {
    env = await TestWorkflowEnvironment.create({ connection: testConnection(), providers: [ReportWorkflow] });
    await env.client.schedule.create({
      scheduleId: 'tb',
      spec: { cron: '0 0 * * * *' },
      action: { workflow: ReportWorkflow, args: ['t'] },
      paused: 'created paused',
    });
    const before = env.now();
    const action = await env.client.schedule.trigger('tb');
    expect(action).toMatchObject({ cause: 'trigger', outcome: 'started' });
    expect(action.fireTime.getTime()).toBeGreaterThanOrEqual(before);
    expect(await env.client.getHandle(action.workflowId!).result()).toBe('report t');

    const from = new Date('2026-01-01T00:00:00Z');
    const to = new Date('2026-01-01T03:00:00Z');
    const filled = await env.client.schedule.backfill('tb', from, to);
    const ids = ['00', '01', '02', '03'].map((h) => `tb-2026-01-01T${h}:00:00.000Z`);
    expect(filled.map((a) => [a.cause, a.outcome, a.workflowId])).toEqual(ids.map((id) => ['backfill', 'started', id]));
    // A second backfill of the same range starts nothing new.
    await env.client.schedule.backfill('tb', from, to);
    expect(await env.client.count({ type: 'ReportWorkflow' })).toBe(5);
    await expect(env.client.schedule.backfill('tb', to, from)).rejects.toThrow(InvalidScheduleError);
  });

  test('update changes spec, args and policies (handled fires stay handled); describe and list show it; delete removes it', async () => {
    env = await TestWorkflowEnvironment.create({ connection: testConnection(), providers: [ReportWorkflow] });
    await env.client.schedule.create({
      scheduleId: 'u',
      spec: { cron: '0 0 * * * *' },
      action: { workflow: ReportWorkflow, args: ['v1'] },
    });
    await env.client.schedule.create({
      scheduleId: 'other',
      spec: { every: '1d' },
      action: { workflow: 'ReportWorkflow', args: ['o'] },
    });
    await env.advanceTime('1 hour');
    const updated = await env.client.schedule.update('u', {
      spec: { cron: '0 30 * * * *', timezone: 'Asia/Kolkata' },
      action: { workflow: ReportWorkflow, args: ['v2'], workflowId: 'report-{fireTime}' },
      policies: { overlap: 'ALLOW_ALL' },
    });
    expect(updated).toMatchObject({
      spec: { cron: '0 30 * * * *', timezone: 'Asia/Kolkata' },
      action: { workflowType: 'ReportWorkflow', args: ['v2'], workflowId: 'report-{fireTime}' },
      policies: { overlap: 'ALLOW_ALL', catchup: 'ALL', catchupWindowMs: HOUR },
    });
    // Minute 30 in Kolkata (UTC+05:30) is minute 0 in UTC.
    expect(updated.nextFireTimes.every((t) => t.getUTCMinutes() === 0 && t.getUTCSeconds() === 0)).toBe(true);
    await env.advanceTime('1 hour');
    const d = await env.client.schedule.describe('u');
    expect(d.recentActions[0]).toMatchObject({
      outcome: 'started',
      workflowId: expect.stringMatching(/^report-.*T\d\d:00:00\.000Z$/),
    });
    expect(await env.client.getHandle(d.recentActions[0].workflowId!).result()).toBe('report v2');
    expect(d.counts.started).toBe(2);

    const list = await env.client.schedule.list();
    expect(list.map((s) => [s.scheduleId, s.workflowType, s.paused])).toEqual([
      ['other', 'ReportWorkflow', false],
      ['u', 'ReportWorkflow', false],
    ]);
    expect(list[0].spec).toEqual({ everyMs: 24 * HOUR });
    expect(list[1].lastAction?.workflowId).toBe(d.recentActions[0].workflowId);
    // A closed run is not counted as running, in the list as in describe().
    const described = await env.client.schedule.describe('u');
    expect(described.running.map((r) => r.workflowId)).not.toContain(d.recentActions[0].workflowId);
    expect(list[1].running).toBe(described.running.length);

    await env.client.schedule.delete('u');
    await expect(env.client.schedule.describe('u')).rejects.toThrow(ScheduleNotFoundError);
    expect((await env.client.schedule.list()).map((s) => s.scheduleId)).toEqual(['other']);
    await expect(env.client.schedule.delete('u')).rejects.toThrow("Schedule 'u' was not found");
    await expect(env.client.schedule.update('u', { policies: { overlap: 'SKIP' } })).rejects.toThrow(
      ScheduleNotFoundError,
    );
  });

  test('bad input is refused with a typed error that says what to fix, and writes nothing', async () => {
    const app = await createTestApp([ReportWorkflow]);
    apps.push(app);
    const s = app.client.schedule;
    const action = { workflow: ReportWorkflow };
    const cases: [Parameters<typeof s.create>[0], new (...a: never[]) => Error, string][] = [
      [
        { scheduleId: 'b', spec: { cron: '0 61 * * *' }, action },
        InvalidScheduleError,
        "Invalid schedule 'b': cron '0 61 * * *': the hour field '61' is invalid",
      ],
      [
        { scheduleId: 'b', spec: { cron: '70 * * * * *' }, action },
        InvalidScheduleError,
        "the second field '70' is invalid",
      ],
      [{ scheduleId: 'b', spec: { cron: '* * *' }, action }, InvalidScheduleError, "cron '* * *' has 3 fields: use 5"],
      [
        { scheduleId: 'b', spec: { cron: '0 * * * *', timezone: 'Mars/Olympus' }, action },
        InvalidScheduleError,
        "unknown time zone 'Mars/Olympus'",
      ],
      [
        {
          scheduleId: 'b',
          spec: { every: '1h', startAt: new Date('2030-01-02'), endAt: new Date('2030-01-01') },
          action,
        },
        InvalidScheduleError,
        'endAt (2030-01-01T00:00:00.000Z) is not after startAt',
      ],
      [{ scheduleId: 'b', spec: { every: '10ms' }, action }, InvalidScheduleError, 'use at least 1 second'],
      [
        { scheduleId: 'b', spec: { every: '1h' }, action: { workflow: 'NoSuchWorkflow' } },
        UnknownWorkflowTypeError,
        "Unknown workflow type 'NoSuchWorkflow'",
      ],
      [
        { scheduleId: 'b', spec: { every: '1h' }, action: { ...action, workflowId: 'fixed-id' } },
        InvalidScheduleError,
        'must contain {fireTime}',
      ],
      [
        { scheduleId: 'b', spec: { every: '1h' }, action, policies: { overlap: 'SOMETIMES' as never } },
        InvalidScheduleError,
        'overlap policy "SOMETIMES" is not one of SKIP',
      ],
      [
        { scheduleId: 'has space', spec: { every: '1h' }, action },
        InvalidScheduleError,
        'scheduleId must be 1 to 200 letters',
      ],
    ];
    for (const [options, type, message] of cases) {
      const err = await s.create(options).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err).toBeInstanceOf(type);
      expect(err?.message).toContain(message);
    }
    expect(
      await keysUnder(app.redis, app.prefix).then((keys) =>
        keys.filter((k) => k.includes('{sch:') || k.endsWith(':schedules')),
      ),
    ).toEqual([]);
    expect(await s.list()).toEqual([]);

    await s.create({ scheduleId: 'dup', spec: { every: '1h' }, action });
    const dup = await s.create({ scheduleId: 'dup', spec: { every: '2h' }, action }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(dup).toBeInstanceOf(ScheduleAlreadyExistsError);
    expect(dup?.message).toBe(
      "Schedule 'dup' already exists: pick another scheduleId, or change it with schedule.update('dup', ...)",
    );
    expect((await s.describe('dup')).spec).toEqual({ everyMs: HOUR });
    await expect(s.trigger('nope')).rejects.toThrow(ScheduleNotFoundError);
    await expect(s.pause('nope')).rejects.toThrow(ScheduleNotFoundError);
  });
});

describe('schedules: @Schedule on a workflow class', () => {
  test('a bad @Schedule fails the boot with the error, and writes no schedule', async () => {
    @Schedule({ scheduleId: 'good', every: '1h' })
    @Schedule({ scheduleId: 'bad', cron: '0 0 25 * * *' })
    @Workflow({ name: 'BadlyScheduled', taskQueue: 'sched-decl-bad' })
    class BadlyScheduled {
      @WorkflowRun() async run() {
        return 'never';
      }
    }
    const prefix = `t-${Math.random().toString(36).slice(2, 10)}`;
    const err = await createTestApp([BadlyScheduled], { prefix }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(InvalidScheduleError);
    expect(err?.message).toBe(
      "Invalid schedule 'bad': cron '0 0 25 * * *': the hour field '25' is invalid (Constraint error, got value 25 expected range 0-23)",
    );
    const reader = await createTestApp([], { prefix, worker: false });
    try {
      expect(await reader.client.schedule.list()).toEqual([]);
    } finally {
      await reader.close();
    }
  });

  test('is created at boot, and updated (keeping its state) on a later boot with changed options', async () => {
    @Schedule({ scheduleId: 'nightly', cron: '0 0 2 * * *', timezone: 'Europe/Paris', args: ['nightly'] })
    @Workflow({ name: 'NightlyReport', taskQueue: 'sched-decl' })
    class NightlyV1 {
      @WorkflowRun() async run(kind: string) {
        return kind;
      }
    }
    @Schedule({
      scheduleId: 'nightly',
      cron: '0 0 3 * * *',
      timezone: 'Europe/Paris',
      args: ['nightly-v2'],
      policies: { overlap: 'BUFFER_ONE' },
    })
    @Workflow({ name: 'NightlyReport', taskQueue: 'sched-decl' })
    class NightlyV2 {
      @WorkflowRun() async run(kind: string) {
        return kind;
      }
    }
    const v1 = await createTestApp([NightlyV1]);
    let d = await v1.client.schedule.describe('nightly');
    expect(d).toMatchObject({
      origin: 'decorator',
      spec: { cron: '0 0 2 * * *', timezone: 'Europe/Paris' },
      action: { workflowType: 'NightlyReport', args: ['nightly'] },
    });
    // 02:00 in Paris is 01:00 UTC in winter, 00:00 UTC in summer.
    expect(d.nextFireTimes.every((t) => [0, 1].includes(t.getUTCHours()))).toBe(true);
    await v1.client.schedule.pause('nightly', 'paused by an operator');
    await v1.close();

    const v2 = await createTestApp([NightlyV2], { prefix: v1.prefix });
    try {
      d = await v2.client.schedule.describe('nightly');
      expect(d).toMatchObject({
        spec: { cron: '0 0 3 * * *' },
        action: { args: ['nightly-v2'] },
        policies: { overlap: 'BUFFER_ONE' },
        paused: true,
        note: 'paused by an operator',
      });
      expect((await v2.client.schedule.list()).map((s) => s.scheduleId)).toEqual(['nightly']);
    } finally {
      await v2.close();
    }
  });
});
