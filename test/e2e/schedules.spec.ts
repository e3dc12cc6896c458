import { afterEach, describe, expect, test } from '@jest/globals';
import { ScheduleBusyError, Workflow, WorkflowRun, type ScheduleActionRecord } from 'redurable';
import { TestWorkflowEnvironment } from 'redurable/testing';
import { DurableRuntime } from 'redurable/internal';
import { createTestApp, keyNames, testConnection, type TestApp } from '../support/test-app.js';
import { until } from '../support/until.js';

const HOUR = 3_600_000;

@Workflow({ taskQueue: 'sched-basics' })
class TickWorkflow {
  @WorkflowRun()
  async run(label: string): Promise<string> {
    return `tick ${label}`;
  }
}

const iso = (ms: number) => new Date(ms).toISOString();
const started = (actions: ScheduleActionRecord[]) =>
  actions
    .filter((a) => a.outcome === 'started')
    .map((a) => a.workflowId!)
    .sort();

describe('schedules: fires over moved time, real BullMQ wakes, duplicates, catch-up', () => {
  let env: TestWorkflowEnvironment | undefined;
  const apps: TestApp[] = [];
  afterEach(async () => {
    await env?.close();
    env = undefined;
    for (const app of apps.splice(0)) await app.close();
  });

  test('an hourly cron moved across three hours starts exactly three workflows, one per fire time, with deterministic ids', async () => {
    env = await TestWorkflowEnvironment.create({ connection: testConnection(), providers: [TickWorkflow] });
    const created = await env.client.schedule.create({
      scheduleId: 'hourly',
      spec: { cron: '0 0 * * * *', timezone: 'UTC' },
      action: { workflow: TickWorkflow, args: ['h'] },
    });
    const firstFire = Math.ceil((env.now() + 1) / HOUR) * HOUR;
    expect(created.nextFireTimes.slice(0, 3).map((d) => d.getTime())).toEqual([
      firstFire,
      firstFire + HOUR,
      firstFire + 2 * HOUR,
    ]);

    await env.advanceTime('3 hours');

    const expected = [0, 1, 2].map((i) => `hourly-${iso(firstFire + i * HOUR)}`);
    const d = await env.client.schedule.describe('hourly');
    expect(started(d.recentActions)).toEqual(expected);
    expect(d.counts).toEqual({ started: 3, skipped: 0, missed: 0, failed: 0 });
    for (const id of expected) expect(await env.client.getHandle(id).result()).toBe('tick h');
    expect(await env.client.count({ type: 'TickWorkflow' })).toBe(3);
    expect(d.lastFireTime.getTime()).toBe(firstFire + 2 * HOUR);
    expect(d.nextFireTimes[0].getTime()).toBe(firstFire + 3 * HOUR);

    // Up to just before the next fire time: no fire.
    await env.advanceTime(d.nextFireTimes[0].getTime() - env.now() - 1000);
    expect(await env.client.count({ type: 'TickWorkflow' })).toBe(3);
  });

  test('an interval schedule with a start date and an end date fires only between them', async () => {
    env = await TestWorkflowEnvironment.create({ connection: testConnection(), providers: [TickWorkflow] });
    const base = Math.ceil(env.now() / (10 * 60_000)) * 10 * 60_000; // a 10-minute boundary
    await env.client.schedule.create({
      scheduleId: 'bounded',
      spec: { every: '10m', startAt: new Date(base + 20 * 60_000), endAt: new Date(base + 40 * 60_000) },
      action: { workflow: TickWorkflow, args: ['b'], workflowId: 'job-{fireTime}' },
    });
    await env.advanceTime('2 hours');
    const d = await env.client.schedule.describe('bounded');
    expect(started(d.recentActions)).toEqual([20, 30, 40].map((m) => `job-${iso(base + m * 60_000)}`));
    expect(d.nextFireTimes).toEqual([]);
  });

  test('a 1s interval fires on real time through the BullMQ job scheduler', async () => {
    const app = await createTestApp([TickWorkflow]);
    apps.push(app);
    await app.client.schedule.create({
      scheduleId: 'every-second',
      spec: { every: '1s' },
      action: { workflow: TickWorkflow, args: ['rt'] },
    });
    const ids = await until(
      'two fires',
      async () => {
        const d = await app.client.schedule.describe('every-second');
        const s = started(d.recentActions);
        return s.length >= 2 ? s : undefined;
      },
      15_000,
    );
    for (const id of ids) {
      expect(id).toMatch(/^every-second-\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
      expect(await app.client.getHandle(id).result()).toBe('tick rt');
    }
    // A 1 s schedule's fires hold its lock most of the time: under load a delete may find it busy
    // for its whole wait, and says so (ScheduleBusyError, nothing changed): it is tried again.
    await until('the schedule deleted', () =>
      app.client.schedule.delete('every-second').then(
        () => true,
        (err: Error) => {
          if (!(err instanceof ScheduleBusyError)) throw err;
          return false;
        },
      ),
    );
  });

  test('a fire delivered twice, or handled again after a crash before the cursor moved, starts one workflow', async () => {
    const app = await createTestApp([TickWorkflow]);
    apps.push(app);
    const runtime = app.app.get(DurableRuntime);
    let now = Date.parse('2030-01-01T00:00:00Z');
    runtime.clock = { now: () => now };
    await app.client.schedule.create({
      scheduleId: 'dup',
      spec: { every: '1h' },
      action: { workflow: TickWorkflow, args: ['d'] },
    });
    now += HOUR;
    // The same BullMQ fire job, delivered twice.
    const queue = runtime.queues.schedules();
    await queue.add('fire', { scheduleId: 'dup' });
    await queue.add('fire', { scheduleId: 'dup' });
    const id = 'dup-2030-01-01T01:00:00.000Z';
    await until('the fire', async () => (await app.client.schedule.describe('dup')).counts.started === 1);
    // Both copies handled (the second may come late under load; it must not land after the rollback below).
    await until('both fire jobs handled', async () => {
      const counts = await queue.getJobCounts('waiting', 'active');
      return counts.waiting + counts.active === 0;
    });
    const first = await app.client.getHandle(id).describe();
    expect(await runtime.schedules.wake('dup')).toEqual([]); // handled: nothing due

    // A crash after the start but before the cursor moved: the next wake handles the fire time again.
    const key = keyNames(app.prefix).scheduleState('dup');
    const state = JSON.parse((await app.redis.hget(key, 'state'))!) as { cursor: number };
    await app.redis.hset(key, 'state', JSON.stringify({ ...state, cursor: now - HOUR }));
    await app.client.getHandle(id).result();
    const again = await runtime.schedules.wake('dup');
    expect(again.map((a) => [a.outcome, a.workflowId, a.runId])).toEqual([['started', id, first.runId]]);
    expect(await app.client.count({ type: 'TickWorkflow' })).toBe(1);
  });

  test('after downtime, catch-up ALL starts the missed fires within the window (a second app takes over), LAST only the latest', async () => {
    const T0 = Date.parse('2030-01-01T00:00:00Z');
    const first = await createTestApp([TickWorkflow]);
    apps.push(first);
    first.app.get(DurableRuntime).clock = { now: () => T0 };
    for (const catchup of ['ALL', 'LAST'] as const) {
      await first.client.schedule.create({
        scheduleId: `down-${catchup}`,
        spec: { every: '1h' },
        action: { workflow: TickWorkflow, args: [catchup] },
        policies: { catchupWindow: '90m', catchup },
      });
    }
    await first.close();
    apps.splice(0);

    // Workers were down from 00:00 to 05:10; another app starts on the same prefix.
    const second = await createTestApp([TickWorkflow], { prefix: first.prefix });
    apps.push(second);
    const runtime = second.app.get(DurableRuntime);
    runtime.clock = { now: () => T0 + 5 * HOUR + 10 * 60_000 };
    for (const id of ['down-ALL', 'down-LAST']) await runtime.queues.schedules().add('fire', { scheduleId: id });

    const all = await until('catch-up ALL', async () => {
      const d = await second.client.schedule.describe('down-ALL');
      return d.counts.started + d.counts.missed === 5 ? d : undefined;
    });
    expect(started(all.recentActions)).toEqual([
      'down-ALL-2030-01-01T04:00:00.000Z',
      'down-ALL-2030-01-01T05:00:00.000Z',
    ]);
    expect(all.counts.missed).toBe(3);
    const missed = all.recentActions.find((a) => a.outcome === 'missed')!;
    expect(missed.reason).toContain('3 fire time(s) from 2030-01-01T01:00:00.000Z to 2030-01-01T03:00:00.000Z');

    const last = await until('catch-up LAST', async () => {
      const d = await second.client.schedule.describe('down-LAST');
      return d.counts.started + d.counts.missed === 5 ? d : undefined;
    });
    expect(started(last.recentActions)).toEqual(['down-LAST-2030-01-01T05:00:00.000Z']);
    expect(last.counts.missed).toBe(4);
    expect(last.lastFireTime.toISOString()).toBe('2030-01-01T05:00:00.000Z');
  });
});

describe('schedules: a worker booting after downtime', () => {
  test('re-creates a job scheduler removed from the queue, and catches up the fires missed while no worker ran', async () => {
    const first = await createTestApp([TickWorkflow]);
    const runtime = first.app.get(DurableRuntime);
    // Created two and a half hours before the latest hour, then no worker ran: three fire times passed.
    const latest = Math.floor(Date.now() / HOUR) * HOUR;
    const created = latest - 2 * HOUR - 30 * 60_000;
    runtime.clock = { now: () => created };
    await first.client.schedule.create({
      scheduleId: 'boot',
      spec: { every: '1h' },
      action: { workflow: TickWorkflow, args: ['boot'] },
    });
    await runtime.queues.schedules().removeJobScheduler('boot'); // as an operator could, in Bull Board
    await first.close();

    const second = await createTestApp([TickWorkflow], { prefix: first.prefix });
    try {
      const d = await until('the catch-up at boot', async () => {
        const now = await second.client.schedule.describe('boot');
        return now.counts.started + now.counts.missed === 3 ? now : undefined;
      });
      // The default catch-up window is an hour: only the latest of the three is within it.
      expect(started(d.recentActions)).toEqual([`boot-${iso(latest)}`]);
      expect(d.counts.missed).toBe(2);
      expect(await second.app.get(DurableRuntime).queues.schedules().getJobScheduler('boot')).toBeDefined();
    } finally {
      await second.close();
    }
  });
});
