/**
 * ScheduleProcessor (client/schedules/schedule-processor.ts) over an in-memory schedule store
 * and workflow metas: what a wake starts, in which order, when runs close between its reads.
 */
import { describe, expect, test } from '@jest/globals';
import { ScheduleProcessor } from '../../libs/redurable/src/client/schedules/schedule-processor.js';
import type { StoredDefinition } from '../../libs/redurable/src/core/ports/index.js';
import { DataConverter } from '../../libs/redurable/src/core/payload/data-converter.js';
import type { WorkflowMeta } from '../../libs/redurable/src/core/workflow-state.js';
import { FakeClock } from './support/clock.js';
import { MemorySchedules } from './support/memory-schedules.js';
import { RecordingLogger } from './support/recorders.js';

const HOUR = 3_600_000;
const H = 1000 * HOUR; // a fire time

function harness() {
  const clock = new FakeClock(H);
  const store = new MemorySchedules();
  /** Workflow id → status; `closing` ids read as running once, then as completed. */
  const statuses = new Map<string, string>();
  const closing = new Set<string>();
  const started: string[] = [];
  /** Runs before each start (a test simulates a stall there). */
  const hooks = { beforeStart: () => {} };
  const processor = new ScheduleProcessor({
    store,
    histories: {
      async getMeta(id: string) {
        return (await this.getMetas([id]))[0];
      },
      async getMetas(ids: string[]) {
        return ids.map((id) => {
          const status = statuses.get(id);
          if (status === undefined) return undefined;
          if (closing.delete(id)) statuses.set(id, 'completed');
          return { workflowId: id, runId: `run-${id}`, status } as WorkflowMeta;
        });
      },
    },
    converter: new DataConverter(1 << 20),
    workflows: {
      async start(_type, options) {
        hooks.beforeStart();
        started.push(options.workflowId!);
        statuses.set(options.workflowId!, 'running');
        return { runId: `run-${options.workflowId}` };
      },
      async cancel() {},
      async terminate() {},
    },
    clock,
    wakeups: { async checkSoon() {} },
    logger: new RecordingLogger(),
    settings: { leaseTtlMs: 30_000 },
  });
  return { clock, store, statuses, closing, started, hooks, processor };
}

const def: StoredDefinition = {
  spec: { everyMs: HOUR },
  action: { workflowType: 'Report', args: [], workflowId: '{scheduleId}-{fireTime}' },
  policies: { overlap: 'BUFFER_ONE', catchupWindowMs: HOUR, catchup: 'ALL' },
  origin: 'client',
};
const idOf = (fireTime: number) => `s-${new Date(fireTime).toISOString()}`;

describe('schedules: BUFFER_ONE', () => {
  test('the run blocking a buffered fire closes while a later fire is handled: the buffered fire starts first, the later one is buffered behind it', async () => {
    const h = harness();
    // The fire of H - 2h runs; the fire of H - 1h is buffered behind it; the fire of H is due.
    h.statuses.set(idOf(H - 2 * HOUR), 'running');
    h.store.records.set('s', {
      def,
      state: {
        paused: false,
        cursor: H - HOUR,
        buffered: { fireTime: H - HOUR, cause: 'scheduled', since: 0 },
        running: [{ workflowId: idOf(H - 2 * HOUR), runId: `run-${idOf(H - 2 * HOUR)}` }],
        counts: { started: 1, skipped: 0, missed: 0, failed: 0 },
        createdAt: 0,
        updatedAt: 0,
      },
    });
    // The wake sees it running first; it closes before the fire of H is handled (as while a wake
    // that came a little early waits for the fire's time).
    h.closing.add(idOf(H - 2 * HOUR));

    const actions = await h.processor.wake('s');

    expect(h.started).toEqual([idOf(H - HOUR)]);
    expect(actions.map((a) => [a.outcome, a.fireTime.getTime()])).toEqual([
      ['started', H - HOUR],
      ['buffered', H],
    ]);
    const { state } = (await h.store.read('s'))!;
    expect(state.buffered?.fireTime).toBe(H);
    expect(state.running.map((r) => r.workflowId)).toEqual([idOf(H - HOUR)]);
    expect(state.cursor).toBe(H);
  });
});

describe('schedules: a pass that lost its lock', () => {
  test('stays listed in the holds, so the sweep wakes the schedule and handles the fire it left', async () => {
    const h = harness();
    h.store.records.set('s', {
      def: { ...def, policies: { ...def.policies, overlap: 'ALLOW_ALL' } },
      state: {
        paused: false,
        cursor: H - HOUR,
        running: [],
        counts: { started: 0, skipped: 0, missed: 0, failed: 0 },
        createdAt: 0,
        updatedAt: 0,
      },
    });
    // The process stalls past leaseTtl while it starts the fire's workflow: its lock expires (and
    // nobody else took it yet), so its write of the handled fire is refused.
    h.hooks.beforeStart = () => h.store.locks.delete('s');

    await expect(h.processor.wake('s')).rejects.toThrow(/lost its lock/);

    // The cursor did not move: the fire of H is unhandled. Only the sweep (which reads the
    // holds) wakes the schedule before its next BullMQ fire, an hour later.
    expect((await h.store.read('s'))!.state.cursor).toBe(H - HOUR);
    expect([...h.store.holds].map((m) => m.slice(0, m.indexOf(':')))).toEqual(['s']);
  });
});
