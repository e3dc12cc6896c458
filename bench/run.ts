/**
 * `npm run bench`: Redurable against a raw BullMQ job chain, on one private redis-server
 * started here (no persistence; BENCH_AOF=always or --aof=always for appendfsync always).
 *
 * Measures (each warmed up once, each on its own key prefix and its own Nest app / BullMQ
 * queue): time per step of one 200-activity chain, steps/s with 64 ten-step chains in flight,
 * replay cost per history event, Redis memory per finished workflow, timer lateness, and the
 * Redis round trips of one step. Prints a table, then a markdown table for the README.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Redis } from 'ioredis';
import type { HistoryEvent } from 'redurable';
import { startEmbeddedRedis } from '../tools/embedded-redis.js';
import { RawChain } from './raw-chain.js';
import { ChainWorkflow, ParkedWorkflow, SleepWorkflow, TASK_QUEUE, runChain, startBenchApp } from './redurable-chain.js';
import { perStep, roundTrips, scriptNames } from './round-trips.js';
import { closedLoop, columns, fixed, fixedCount, grouped, median, percentile, sleepMs, timeIt } from './stats.js';

const AOF = process.env.BENCH_AOF === 'always' || process.argv.includes('--aof=always');
const SEQ_STEPS = 200;
const SEQ_RUNS = 3;
const TP_SLOTS = 64;
const TP_STEPS = 10;
const TP_MS = Number(process.env.BENCH_SECONDS ?? 5) * 1000;
const REPLAY_ACTIVITIES = 100; // history: started + 100 × (scheduled, completed) + TimerStarted = 202 events
const REPLAY_RUNS = 20;
const MEM_WARM = 150; // fills the 1000-job retention of the activity queue
const MEM_N = 500;
const TIMERS = 200;
const TIMER_MS = 100;

// The whole run must stay bounded even if something hangs.
setTimeout(() => {
  console.error('bench: still running after 5 minutes, giving up');
  process.exit(1);
}, 300_000).unref();

const log = (msg: string) => process.stderr.write(`  … ${msg}\n`);

async function redurableSequential(url: string) {
  const app = await startBenchApp(url, 'bench-seq');
  try {
    await runChain(app.client, 'warm', SEQ_STEPS);
    const times: number[] = [];
    for (let r = 0; r < SEQ_RUNS; r++) times.push(await timeIt(() => runChain(app.client, `seq-${r}`, SEQ_STEPS)));
    return median(times) / SEQ_STEPS;
  } finally {
    await app.close();
  }
}

async function rawSequential(url: string) {
  const raw = await RawChain.start(url, 'bench-raw-seq', TP_SLOTS);
  try {
    await raw.run('warm', SEQ_STEPS);
    const times: number[] = [];
    for (let r = 0; r < SEQ_RUNS; r++) times.push(await timeIt(() => raw.run(`seq-${r}`, SEQ_STEPS)));
    return median(times) / SEQ_STEPS;
  } finally {
    await raw.close();
  }
}

async function redurableThroughput(url: string) {
  const app = await startBenchApp(url, 'bench-tp');
  try {
    await fixedCount(TP_SLOTS, TP_SLOTS, (n) => runChain(app.client, `warm-${n}`, TP_STEPS));
    const { units, elapsedMs } = await closedLoop(TP_SLOTS, TP_MS, (n) => runChain(app.client, `tp-${n}`, TP_STEPS));
    return (units * TP_STEPS) / (elapsedMs / 1000);
  } finally {
    await app.close();
  }
}

async function rawThroughput(url: string) {
  const raw = await RawChain.start(url, 'bench-raw-tp', TP_SLOTS);
  try {
    await fixedCount(TP_SLOTS, TP_SLOTS, (n) => raw.run(`warm-${n}`, TP_STEPS));
    const { units, elapsedMs } = await closedLoop(TP_SLOTS, TP_MS, (n) => raw.run(`tp-${n}`, TP_STEPS));
    return (units * TP_STEPS) / (elapsedMs / 1000);
  } finally {
    await raw.close();
  }
}

/**
 * A workflow parked on a one-hour timer after 100 activities (202 events). Its workflow task is
 * then run directly through the runtime's task path (`runtime.runner.run`, as a timer or
 * activity completion would): cold = after `runtime.cache.clear()` (full history read and
 * replayed, outstanding timer re-dispatched), warm = cached execution (only the lease is taken
 * and released). Replay cost per event = (median cold − median warm) / history length.
 */
async function replayCost(url: string) {
  const app = await startBenchApp(url, 'bench-replay');
  try {
    const { client, runtime } = app;
    const handle = await client.start(ParkedWorkflow, { workflowId: 'parked', args: [REPLAY_ACTIVITIES] });
    const events = 2 * REPLAY_ACTIVITIES + 2;
    for (const deadline = Date.now() + 30_000; ;) {
      const meta = await runtime.store.getMeta('parked');
      if (meta && meta.historyLength === events && !meta.lease) break;
      if (Date.now() > deadline) throw new Error(`parked workflow did not reach ${events} events: ${JSON.stringify(meta)}`);
      await sleepMs(20);
    }
    const task = () => runtime.runner.run('parked', handle.runId!, TASK_QUEUE);
    runtime.cache.clear();
    await task(); // warm-up (cold)
    await task(); // warm-up (warm)
    const cold: number[] = [];
    const warm: number[] = [];
    for (let i = 0; i < REPLAY_RUNS; i++) {
      runtime.cache.clear();
      cold.push(await timeIt(task));
      warm.push(await timeIt(task));
    }
    const meta = await runtime.store.getMeta('parked');
    if (!meta || meta.status !== 'running' || meta.taskFailure || meta.historyLength !== events) {
      throw new Error(`replay changed the parked workflow: ${JSON.stringify(meta)}`);
    }
    return { events, coldMs: median(cold), warmMs: median(warm), perEventUs: ((median(cold) - median(warm)) / events) * 1000 };
  } finally {
    await app.close();
  }
}

async function usedMemory(admin: Redis): Promise<number> {
  const info = await admin.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)![1]);
}

/**
 * used_memory before/after MEM_N finished 10-step workflows, once the activity queue's job
 * retention is full; plus MEMORY USAGE of the workflow's own keys (meta, history, done set),
 * the part that no retention setting trims.
 */
async function memoryPerWorkflow(url: string, admin: Redis) {
  const app = await startBenchApp(url, 'bench-mem', { sweepInterval: '200ms' });
  try {
    const runIds = new Map<string, string>();
    const run = async (id: string) => {
      const handle = await app.client.start(ChainWorkflow, { workflowId: id, args: [TP_STEPS] });
      runIds.set(id, handle.runId!);
      await handle.result();
    };
    await fixedCount(TP_SLOTS, MEM_WARM, (n) => run(`warm-${n}`));
    await sleepMs(500); // lets the recovery sweep drop finished workflows from the open index
    const before = await usedMemory(admin);
    await fixedCount(TP_SLOTS, MEM_N, (n) => run(`mem-${n}`));
    await sleepMs(500);
    const after = await usedMemory(admin);
    const { keys } = app.runtime;
    let ownBytes = 0;
    const sample = [...runIds].filter(([id]) => id.startsWith('mem-')).slice(0, 50);
    for (const [id, runId] of sample) {
      for (const key of [keys.meta(id), keys.history(id, runId), keys.done(id, runId)]) {
        ownBytes += Number((await admin.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
      }
    }
    return { perWorkflow: (after - before) / MEM_N, ownKeys: ownBytes / sample.length };
  } finally {
    await app.close();
  }
}

/** TIMERS workflows each sleep(100), started together; lateness from history timestamps. */
async function timerLateness(url: string) {
  const app = await startBenchApp(url, 'bench-timer');
  try {
    const runMany = async (tag: string, n: number) => {
      const handles = await Promise.all(Array.from({ length: n }, (_, i) => app.client.start(SleepWorkflow, { workflowId: `${tag}-${i}`, args: [TIMER_MS] })));
      await Promise.all(handles.map((h) => h.result()));
      return Promise.all(handles.map((h) => h.fetchHistory()));
    };
    await runMany('warm', 16);
    const histories = await runMany('timer', TIMERS);
    const vsStarted: number[] = [];
    const vsCall: number[] = [];
    for (const history of histories) {
      const i = history.findIndex((e) => e.type === 'TimerStarted');
      const started = history[i] as Extract<HistoryEvent, { type: 'TimerStarted' }>;
      const fired = history.find((e) => e.type === 'TimerFired')!;
      vsStarted.push(fired.ts - (started.ts + started.durationMs));
      // The workflow's clock when it called sleep(): the time of the last event it had seen.
      vsCall.push(fired.ts - (history[i - 1].ts + started.durationMs));
    }
    return {
      p50: percentile(vsStarted, 50), p99: percentile(vsStarted, 99),
      callP50: percentile(vsCall, 50), callP99: percentile(vsCall, 99),
    };
  } finally {
    await app.close();
  }
}

/** Commands per step, from a 20-step and a 60-step chain (start and end costs cancel). */
async function profile(url: string) {
  const app = await startBenchApp(url, 'bench-prof', { sweepInterval: '1h' });
  const raw = await RawChain.start(url, 'bench-raw-prof', TP_SLOTS);
  try {
    await runChain(app.client, 'warm', 20);
    await raw.run('warm', 20);
    const names = scriptNames(app.runtime.redis, raw.connection);
    const d1 = await roundTrips(url, names, () => runChain(app.client, 'p20', 20));
    const d2 = await roundTrips(url, names, () => runChain(app.client, 'p60', 60));
    const r1 = await roundTrips(url, names, () => raw.run('p20', 20));
    const r2 = await roundTrips(url, names, () => raw.run('p60', 60));
    return { redurable: perStep(d1, d2, 40), raw: perStep(r1, r2, 40) };
  } finally {
    await raw.close();
    await app.close();
  }
}

const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
const describe = (m: Map<string, number>) => [...m].map(([k, v]) => `${k} ${fixed(v, 2)}`).join(', ');

async function main() {
  const server = await startEmbeddedRedis(AOF ? { appendOnly: true, appendFsync: 'always' } : { appendOnly: false });
  const admin = new Redis(server.url);
  try {
    const redisVersion = /redis_version:(\S+)/.exec(await admin.info('server'))![1];
    const bullmqVersion = (JSON.parse(readFileSync(new URL('../../node_modules/bullmq/package.json', import.meta.url), 'utf8')) as { version: string }).version;
    const cpu = cpus();
    const persistence = AOF ? 'AOF, appendfsync always' : 'none';
    const env = `Node ${process.version}, Redis ${redisVersion} (persistence: ${persistence}), BullMQ ${bullmqVersion}, ${cpu.length} cores (${cpu[0]?.model.trim()})`;

    log('sequential chain, Redurable'); const seqD = await redurableSequential(server.url);
    log('sequential chain, raw BullMQ'); const seqR = await rawSequential(server.url);
    log('throughput, Redurable'); const tpD = await redurableThroughput(server.url);
    log('throughput, raw BullMQ'); const tpR = await rawThroughput(server.url);
    log('replay cost'); const replay = await replayCost(server.url);
    log('memory per workflow'); const mem = await memoryPerWorkflow(server.url, admin);
    log('timer lateness'); const timers = await timerLateness(server.url);
    log('round trips per step (MONITOR)'); const prof = await profile(server.url);

    const timeRatio = seqD / seqR;
    const tpRatio = tpD / tpR;
    const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
    console.log(`\nRedurable benchmark: ${env}\n`);
    console.log(columns([
      ['', 'Redurable', 'raw BullMQ', 'ratio', 'target'],
      [`time per step, 1 workflow x ${SEQ_STEPS} sequential activities`, `${fixed(seqD, 3)} ms`, `${fixed(seqR, 3)} ms`, `${fixed(timeRatio, 2)}x`, `<= 2x: ${verdict(timeRatio <= 2)}`],
      [`throughput, ${TP_SLOTS} workflows x ${TP_STEPS} activities in flight`, `${grouped(tpD)} steps/s`, `${grouped(tpR)} steps/s`, `${fixed(tpRatio * 100, 0)}%`, `>= 40%: ${verdict(tpRatio >= 0.4)}`],
    ]));
    console.log(columns([
      [''],
      [`replay cost per event (${replay.events}-event history)`, `${fixed(replay.perEventUs, 1)} us`, `(cold task ${fixed(replay.coldMs, 2)} ms, warm task ${fixed(replay.warmMs, 2)} ms)`],
      [`Redis memory per finished ${TP_STEPS}-step workflow`, `${grouped(mem.perWorkflow)} B`, `(used_memory delta / ${MEM_N}; its own keys: ${grouped(mem.ownKeys)} B)`],
      [`timer lateness, ${TIMERS} x sleep(${TIMER_MS})`, `p50 ${fixed(timers.p50, 0)} ms, p99 ${fixed(timers.p99, 0)} ms`, `(vs workflow clock at sleep(): p50 ${fixed(timers.callP50, 0)} ms, p99 ${fixed(timers.callP99, 0)} ms)`],
      [`Redis round trips per step, Redurable`, fixed(total(prof.redurable), 2), describe(prof.redurable)],
      [`Redis round trips per step, raw BullMQ`, fixed(total(prof.raw), 2), describe(prof.raw)],
    ]).slice(1));

    const cmd = `npm run bench${AOF ? ' (BENCH_AOF=always)' : ''}`;
    console.log(`\nMarkdown (\`${cmd}\`; ${env}):\n`);
    console.log([
      '| Measurement | Redurable | Raw BullMQ chain | Ratio | Target |',
      '| --- | ---: | ---: | ---: | --- |',
      `| Time per step, 1 workflow × ${SEQ_STEPS} sequential activities | ${fixed(seqD, 3)} ms | ${fixed(seqR, 3)} ms | ${fixed(timeRatio, 2)}× | ≤ 2× (${verdict(timeRatio <= 2)}) |`,
      `| Throughput, ${TP_SLOTS} workflows × ${TP_STEPS} activities in flight | ${grouped(tpD)} steps/s | ${grouped(tpR)} steps/s | ${fixed(tpRatio * 100, 0)}% | ≥ 40% (${verdict(tpRatio >= 0.4)}) |`,
      `| Redis round trips per step | ${fixed(total(prof.redurable), 1)} | ${fixed(total(prof.raw), 1)} | | |`,
      `| Replay cost per history event (${replay.events}-event history, cache cleared) | ${fixed(replay.perEventUs, 1)} µs | | | |`,
      `| Redis memory per finished ${TP_STEPS}-step workflow | ${grouped(mem.perWorkflow)} B (own keys ${grouped(mem.ownKeys)} B) | | | |`,
      `| Timer lateness, ${TIMERS} × sleep(${TIMER_MS}ms), p50 / p99 | ${fixed(timers.p50, 0)} / ${fixed(timers.p99, 0)} ms | | | |`,
    ].join('\n'));
  } finally {
    await admin.quit();
    await server.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
