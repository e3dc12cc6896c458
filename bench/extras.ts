/**
 * The Redurable-only measurements: replay cost per history event, Redis memory per finished
 * workflow, and timer lateness (with plain BullMQ delayed jobs as the baseline). Each runs in
 * its own Nest application context on its own key prefix, warmed up once.
 */
import { Redis } from 'ioredis';
import type { HistoryEvent, WorkflowHandle } from 'redurable';
import { rawDelayLateness } from './raw-chain.js';
import { ChainWorkflow, ParkedWorkflow, SleepWorkflow, TASK_QUEUE, startBenchApp } from './redurable-chain.js';
import { fixedCount, median, percentile, sleepMs, timeIt } from './stats.js';

/**
 * Replay cost: a workflow parked on a one-hour timer after `activities` activities (2 ×
 * activities + 2 events) has its workflow task run through the runtime's task path
 * (`runtime.runner.run`, what a timer or activity completion triggers): cold = after
 * `runtime.cache.clear()` (whole history read and replayed, the pending timer re-dispatched,
 * which BullMQ dedupes by job id), warm = cached execution (lease taken and released, nothing
 * to replay). Median of `runs` each.
 */
async function parkedTasks(url: string, workflowId: string, activities: number, runs: number) {
  const app = await startBenchApp(url, `bench-replay-${workflowId}`);
  try {
    const { client, runtime } = app;
    const handle = await client.start(ParkedWorkflow, { workflowId, args: [activities] });
    const events = 2 * activities + 2;
    for (const deadline = Date.now() + 120_000; ;) {
      const meta = await runtime.histories.getMeta(workflowId);
      if (meta && meta.historyLength === events && !meta.lease) break;
      if (Date.now() > deadline)
        throw new Error(`parked workflow did not reach ${events} events: ${JSON.stringify(meta)}`);
      await sleepMs(20);
    }
    const task = () => runtime.runner.run(workflowId, handle.runId!, TASK_QUEUE);
    runtime.cache.clear();
    await task(); // warm-up, cold
    await task(); // warm-up, warm
    const cold: number[] = [];
    const warm: number[] = [];
    for (let i = 0; i < runs; i++) {
      runtime.cache.clear();
      cold.push(await timeIt(task));
      warm.push(await timeIt(task));
    }
    const meta = await runtime.histories.getMeta(workflowId);
    if (!meta || meta.status !== 'running' || meta.taskFailure || meta.historyLength !== events) {
      throw new Error(`replay changed the parked workflow: ${JSON.stringify(meta)}`);
    }
    return { events, coldMs: median(cold), warmMs: median(warm) };
  } finally {
    await app.close();
  }
}

/**
 * Replay cost per history event: the cold task of a short and of a long history; the
 * difference over the events between them is what one more event costs (reading it from Redis,
 * decoding it, feeding it to the code), without a task's fixed costs (lease, commit, re-adding
 * the timer job), as the marginal step cost is measured.
 */
export async function replayCost(url: string, activities: [number, number], runs: number) {
  const short = await parkedTasks(url, 'parked-short', activities[0], runs);
  const long = await parkedTasks(url, 'parked-long', activities[1], runs);
  return { short, long, perEventUs: ((long.coldMs - short.coldMs) / (long.events - short.events)) * 1000 };
}

async function usedMemory(admin: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]);
}

/**
 * INFO used_memory before/after `count` finished `steps`-step workflows (64 at a time), after a
 * warm-up of `warm` workflows that fills the activity queue's 1000-job retention; plus MEMORY
 * USAGE of a workflow's own keys (meta hash, history stream, done set), which nothing trims.
 */
export async function memoryPerWorkflow(url: string, admin: Redis, warm: number, count: number, steps: number) {
  const app = await startBenchApp(url, 'bench-mem', { sweepInterval: '200ms' });
  try {
    const runIds = new Map<string, string>();
    const run = async (id: string) => {
      const handle = await app.client.start(ChainWorkflow, { workflowId: id, args: [steps] });
      runIds.set(id, handle.runId!);
      await handle.result();
    };
    await fixedCount(64, warm, (n) => run(`warm-${n}`));
    await sleepMs(500); // the recovery sweep drops finished workflows from the open index
    const before = await usedMemory(admin);
    await fixedCount(64, count, (n) => run(`mem-${n}`));
    await sleepMs(500);
    const after = await usedMemory(admin);
    const { keys } = app.runtime;
    const sample = [...runIds].filter(([id]) => id.startsWith('mem-')).slice(0, 50);
    let own = 0;
    for (const [id, runId] of sample) {
      for (const key of [keys.meta(id), keys.history(id, runId), keys.done(id, runId)]) {
        own += Number(await admin.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
      }
    }
    return { perWorkflow: (after - before) / count, ownKeys: own / sample.length };
  } finally {
    await app.close();
  }
}

/**
 * `count` workflows each doing sleep(delayMs), started `spacingMs` apart so their due times
 * spread over Redis' 100 ms cron tick. Lateness = TimerFired.ts − (TimerStarted.ts + durationMs);
 * also against the workflow's clock when it called sleep() (the time of the event before
 * TimerStarted), which is what the dispatcher computes the job delay from. Baseline: the same
 * number of plain BullMQ delayed jobs.
 */
export async function timerLateness(url: string, count: number, delayMs: number, spacingMs: number) {
  const app = await startBenchApp(url, 'bench-timer');
  try {
    const runMany = async (tag: string, n: number) => {
      const starting: Promise<WorkflowHandle<void>>[] = [];
      for (let i = 0; i < n; i++) {
        starting.push(app.client.start(SleepWorkflow, { workflowId: `${tag}-${i}`, args: [delayMs] }));
        await sleepMs(spacingMs);
      }
      const handles = await Promise.all(starting);
      await Promise.all(handles.map((h) => h.result()));
      return Promise.all(handles.map((h) => h.fetchHistory()));
    };
    await runMany('warm', 16);
    const vsStarted: number[] = [];
    const vsCall: number[] = [];
    for (const history of await runMany('timer', count)) {
      const i = history.findIndex((e) => e.type === 'TimerStarted');
      const started = history[i] as Extract<HistoryEvent, { type: 'TimerStarted' }>;
      const fired = history.find((e) => e.type === 'TimerFired')!;
      vsStarted.push(fired.ts - (started.ts + started.durationMs));
      vsCall.push(fired.ts - (history[i - 1].ts + started.durationMs));
    }
    const raw = await rawDelayLateness(url, 'bench-raw-timer', count, delayMs, spacingMs);
    const p = (xs: number[]) => ({ p50: percentile(xs, 50), p99: percentile(xs, 99) });
    return { vsStarted: p(vsStarted), vsCall: p(vsCall), raw: p(raw) };
  } finally {
    await app.close();
  }
}
