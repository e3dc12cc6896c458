import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { ScheduleActionRecord } from 'redurable';
import { spawnWorker, stop, type Child } from '../support/child-worker.js';
import { until } from '../support/until.js';
import { createTestApp, keyNames, testConnectionEnv, type TestApp } from '../support/test-app.js';

/**
 * A process killed while it holds a schedule's lock (REDURABLE_CRASH_POINT schedule.after-lock:
 * right after taking it). The crash-worker fixture runs with leaseTtl 1s and sweepInterval 300ms;
 * another process must fire the schedule again within leaseTtl + sweepInterval (plus the time a
 * loaded machine takes to start a workflow and write its action; a lock used to last 30 s).
 */
const LEASE_TTL = 1000;
const SWEEP_INTERVAL = 300;
const WITHIN = LEASE_TTL + SWEEP_INTERVAL + 3000;

let client: TestApp;
const prefix = `crash-sched-${randomUUID().slice(0, 8)}`;
const children: Child[] = [];

beforeAll(async () => {
  client = await createTestApp([], { prefix, worker: false });
});
afterEach(async () => {
  await Promise.all(children.splice(0).map(stop));
  // The next test's victim must die on its own schedule, not on this one's.
  for (const { scheduleId } of await client.client.schedule.list()) await client.client.schedule.delete(scheduleId);
});
afterAll(async () => {
  await client.close();
});

function worker(env: Record<string, string> = {}): Child {
  const child = spawnWorker({ ...testConnectionEnv(), PREFIX: prefix, ...env });
  children.push(child);
  return child;
}

const ready = (c: Child) => until('worker ready', () => c.output().includes('ready'));
const startedAfter = (actions: ScheduleActionRecord[], since: number) =>
  actions.filter((a) => a.outcome === 'started' && a.at.getTime() >= since);

describe('a worker killed while it holds a schedule', () => {
  test('an every-second schedule: the other process keeps firing it within leaseTtl + sweepInterval', async () => {
    const survivor = worker();
    await ready(survivor);
    const victim = worker({ REDURABLE_CRASH_POINT: 'schedule.after-lock' });
    await ready(victim);
    await client.client.schedule.create({
      scheduleId: 'every-second',
      spec: { every: '1s' },
      action: { workflow: 'CrashWorkflow', taskQueue: 'crash', args: [0, 0, 0] },
      policies: { overlap: 'ALLOW_ALL' },
    });
    // Both processes take the schedule's wakes; the victim dies at the first it handles.
    expect((await victim.exited).signal).toBe('SIGKILL');
    const killedAt = Date.now();

    const [first] = await until('a fire after the kill', async () => {
      const fired = startedAfter((await client.client.schedule.describe('every-second')).recentActions, killedAt);
      return fired.length > 0 && fired.reverse();
    });
    expect(first.at.getTime() - killedAt).toBeLessThan(WITHIN);
    // And it goes on firing.
    await until(
      'three fires after the kill',
      async () =>
        startedAfter((await client.client.schedule.describe('every-second')).recentActions, killedAt).length >= 3,
    );
  }, 40_000);

  test('an hourly schedule whose due fire the dead process was starting: the sweep of the other process starts it', async () => {
    const survivor = worker();
    await ready(survivor);
    await client.client.schedule.create({
      scheduleId: 'hourly',
      spec: { cron: '0 0 * * * *' },
      action: { workflow: 'CrashWorkflow', taskQueue: 'crash', args: [0, 0, 0] },
    });
    // As after downtime: the fire time of the hour that began is due, and not handled. No BullMQ
    // wake comes for it before the next hour; the victim's boot wakes the schedule and dies
    // holding it, so only a sweep can find it.
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    const stateKey = keyNames(prefix).scheduleState('hourly');
    const state = JSON.parse((await client.redis.hget(stateKey, 'state'))!) as { cursor: number };
    await client.redis.hset(stateKey, 'state', JSON.stringify({ ...state, cursor: hour - 1 }));
    const victim = worker({ REDURABLE_CRASH_POINT: 'schedule.after-lock' });
    expect((await victim.exited).signal).toBe('SIGKILL');
    const killedAt = Date.now();

    const started = await until(
      'the due fire to start',
      async () =>
        (await client.client.schedule.describe('hourly')).recentActions.find(
          (a) => a.outcome === 'started' && a.fireTime.getTime() === hour,
        ),
      15_000,
    );
    expect(started.at.getTime() - killedAt).toBeLessThan(WITHIN);
    expect(started.workflowId).toBe(`hourly-${new Date(hour).toISOString()}`);
  }, 40_000);
});
