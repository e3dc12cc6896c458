import { afterEach, describe, expect, test } from '@jest/globals';
import { ScheduleBusyError, Workflow, WorkflowRun } from 'redurable';
import { DurableRuntime } from 'redurable/internal';
import { createTestApp, keyNames, type TestApp } from '../support/test-app.js';
import { until } from '../support/until.js';

/** createTestApp's leaseTtl: a schedule's lock lasts this long past its holder's last renewal. */
const LEASE_TTL = 2000;

@Workflow({ taskQueue: 'sched-lock' })
class TickWorkflow {
  @WorkflowRun()
  async run(): Promise<string> {
    return 'tick';
  }
}

describe("schedules: a schedule's lock", () => {
  const apps: TestApp[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });

  async function app(options: Parameters<typeof createTestApp>[1] = {}): Promise<TestApp> {
    const created = await createTestApp([TickWorkflow], options);
    apps.push(created);
    return created;
  }

  async function hourly(t: TestApp, scheduleId: string): Promise<void> {
    await t.client.schedule.create({ scheduleId, spec: { cron: '0 0 * * * *' }, action: { workflow: TickWorkflow } });
  }

  test('held by a live process: pause() from another fails with ScheduleBusyError naming the schedule, in bounded time, and changes nothing', async () => {
    const holder = await app();
    const caller = await app({ prefix: holder.prefix, worker: false });
    await hourly(holder, 'busy');
    // A pass in the holder's process that does not end until told (a long backfill, say).
    let finish!: () => void;
    const holding = holder.app
      .get(DurableRuntime)
      .schedules.exclusive('busy', () => new Promise<void>((resolve) => (finish = resolve)));
    await until('the holder to take the lock', () => holder.redis.get(keyNames(holder.prefix).scheduleLock('busy')));

    const began = Date.now();
    const err = await caller.client.schedule.pause('busy', 'maintenance').catch((e: unknown) => e);
    const waited = Date.now() - began;
    expect(err).toBeInstanceOf(ScheduleBusyError);
    expect((err as ScheduleBusyError).scheduleId).toBe('busy');
    expect((err as Error).message).toMatch(
      /^Schedule 'busy' is busy: another process has been handling it for over \d+ ms \(.*\)\. Nothing was changed: try again$/,
    );
    // A little over leaseTtl: longer than a dead holder's lock lasts, well before connectTimeout (10 s).
    expect(waited).toBeGreaterThanOrEqual(LEASE_TTL);
    expect(waited).toBeLessThan(LEASE_TTL + 3000);
    expect((await caller.client.schedule.describe('busy')).paused).toBe(false);

    finish();
    await holding;
    await caller.client.schedule.pause('busy', 'maintenance');
    expect((await caller.client.schedule.describe('busy')).paused).toBe(true);
  }, 30_000);

  test('a pass longer than leaseTtl keeps the lock: renewed, each time for leaseTtl, and its writes stand', async () => {
    const t = await app();
    await hourly(t, 'long');
    const lock = keyNames(t.prefix).scheduleLock('long');
    const seen: { owner: string | null; ttl: number }[] = [];
    await t.app.get(DurableRuntime).schedules.locked('long', async (pass) => {
      // The long operation: three lease ttls, watching the lock from Redis meanwhile.
      const end = Date.now() + 3 * LEASE_TTL;
      while (Date.now() < end) {
        const [owner, ttl] = await Promise.all([t.redis.get(lock), t.redis.pttl(lock)]);
        seen.push({ owner, ttl });
        await new Promise((r) => setTimeout(r, 100));
      }
      pass.rec.state.note = 'after a long pass';
    });
    expect(seen.length).toBeGreaterThan(10);
    expect(seen[0].owner).not.toBeNull();
    expect(seen.filter((s) => s.owner !== seen[0].owner)).toEqual([]); // never lost, never another's
    expect(Math.max(...seen.map((s) => s.ttl))).toBeLessThanOrEqual(LEASE_TTL);
    expect((await t.client.schedule.describe('long')).note).toBe('after a long pass');
    expect(await t.redis.exists(lock)).toBe(0); // let go at the end
  }, 30_000);
});
