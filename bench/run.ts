/**
 * `npm run bench`: Redurable against a raw BullMQ job chain, on one private redis-server
 * started here (no persistence; BENCH_AOF=always or --aof=always for appendfsync always).
 *
 * Headline: time per step of one 200-activity chain, and steps/s with 64 ten-step chains in
 * flight, for both; each warmed up once, then timed several times (median, min–max shown),
 * each on its own key prefix (its own Nest application context / BullMQ queue). Then the
 * Redurable-only figures (extras.ts), the Redis round trips per step (round-trips.ts), and the
 * scale-out run (scale-out.ts: 1, 2 and 3 worker processes on one Redis and on a private
 * 3-master Redis Cluster). Prints a compact table, then a markdown table for the README.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Redis } from 'ioredis';
import { startEmbeddedCluster } from '../tools/embedded-cluster.js';
import { startEmbeddedRedis } from '../tools/embedded-redis.js';
import { scaleOut } from './scale-out.js';
import { memoryPerWorkflow, replayCost, timerLateness } from './extras.js';
import { RawChain } from './raw-chain.js';
import { runChain, startBenchApp } from './redurable-chain.js';
import { profileRoundTrips } from './round-trips.js';
import { closedLoop, columns, fixed, fixedCount, grouped, median, timeIt } from './stats.js';

const AOF = process.env.BENCH_AOF === 'always' || process.argv.includes('--aof=always');
const SEQ_STEPS = 200;
const SEQ_RUNS = 5;
const SLOTS = 64;
const STEPS = 10;
const TP_ROUNDS = 3;
const TP_ROUND_MS = Number(process.env.BENCH_ROUND_SECONDS ?? 3) * 1000;
const REPLAY_ACTIVITIES = 100; // 202-event history
const REPLAY_RUNS = 20;
const MEM_WARM = 150; // 1,500 activity jobs: fills the 1000-job retention of the activity queue
const MEM_N = 500;
const TIMERS = 200;
const TIMER_MS = 100;
const TIMER_SPACING_MS = 5;

setTimeout(() => {
  console.error('bench: still running after 8 minutes, giving up');
  process.exit(1);
}, 480_000).unref();

const progress = (msg: string) => process.stderr.write(`  … ${msg}\n`);

/** Runs one chain of `steps` steps named `id` and resolves when it has finished. */
type Chain = (id: string, steps: number) => Promise<void>;
interface Spread { median: number; min: number; max: number }
const spread = (xs: number[]): Spread => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });

/** ms per step of one SEQ_STEPS-step chain. */
async function sequential(chain: Chain): Promise<Spread> {
  await chain('seq-warm', SEQ_STEPS);
  const perStep: number[] = [];
  for (let r = 0; r < SEQ_RUNS; r++) perStep.push((await timeIt(() => chain(`seq-${r}`, SEQ_STEPS))) / SEQ_STEPS);
  return spread(perStep);
}

/** Steps/s with SLOTS chains of STEPS steps in flight (a new chain starts as soon as one ends). */
async function throughput(chain: Chain): Promise<Spread> {
  await fixedCount(SLOTS, SLOTS, (n) => chain(`tp-warm-${n}`, STEPS));
  const rates: number[] = [];
  for (let r = 0; r < TP_ROUNDS; r++) {
    const { units, elapsedMs } = await closedLoop(SLOTS, TP_ROUND_MS, (n) => chain(`tp-${r}-${n}`, STEPS));
    rates.push((units * STEPS) / (elapsedMs / 1000));
  }
  return spread(rates);
}

async function onRedurable<T>(url: string, prefix: string, measure: (chain: Chain) => Promise<T>): Promise<T> {
  const app = await startBenchApp(url, prefix);
  try {
    return await measure((id, steps) => runChain(app.client, id, steps));
  } finally {
    await app.close();
  }
}

async function onRaw<T>(url: string, prefix: string, measure: (chain: Chain) => Promise<T>): Promise<T> {
  const raw = await RawChain.start(url, prefix, SLOTS);
  try {
    return await measure((id, steps) => raw.run(id, steps));
  } finally {
    await raw.close();
  }
}

const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
const breakdown = (m: Map<string, number>) => [...m].map(([k, v]) => `${k} ${fixed(v, 2)}`).join(', ');
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');

async function main() {
  const server = await startEmbeddedRedis(AOF ? { appendOnly: true, appendFsync: 'always' } : { appendOnly: false });
  const admin = new Redis(server.url);
  try {
    const redisVersion = /redis_version:(\S+)/.exec(await admin.info('server'))![1];
    const bullmq = JSON.parse(readFileSync(new URL('../../node_modules/bullmq/package.json', import.meta.url), 'utf8')) as { version: string };
    const cpu = cpus();
    const env = `Node ${process.version}, Redis ${redisVersion} (persistence: ${AOF ? 'AOF, appendfsync always' : 'none'}), BullMQ ${bullmq.version}, ${cpu.length} cores (${cpu[0]?.model.trim()})`;
    const url = server.url;

    progress('time per step, Redurable'); const seqD = await onRedurable(url, 'bench-seq', sequential);
    progress('time per step, raw BullMQ'); const seqR = await onRaw(url, 'bench-raw-seq', sequential);
    progress('throughput, Redurable'); const tpD = await onRedurable(url, 'bench-tp', throughput);
    progress('throughput, raw BullMQ'); const tpR = await onRaw(url, 'bench-raw-tp', throughput);
    progress('replay cost'); const replay = await replayCost(url, REPLAY_ACTIVITIES, REPLAY_RUNS);
    progress('memory per workflow'); const mem = await memoryPerWorkflow(url, admin, MEM_WARM, MEM_N, STEPS);
    progress('timer lateness'); const timers = await timerLateness(url, TIMERS, TIMER_MS, TIMER_SPACING_MS);
    progress('round trips per step (MONITOR)'); const rt = await profileRoundTrips(url, SLOTS, STEPS);
    const scale: { target: string; rates: number[] }[] = [];
    const cluster = await startEmbeddedCluster(3);
    try {
      for (const [target, connection] of [['one Redis', url], ['Redis Cluster, 3 masters', { cluster: cluster.nodes }]] as const) {
        const rates: number[] = [];
        for (const workers of [1, 2, 3]) {
          progress(`scale-out: ${target}, ${workers} worker process(es)`);
          rates.push(await scaleOut(connection, `bench-scale-${scale.length}-${workers}`, workers, TP_ROUND_MS));
        }
        scale.push({ target, rates });
      }
    } finally {
      await cluster.stop();
    }

    const timeRatio = seqD.median / seqR.median;
    const tpRatio = tpD.median / tpR.median;
    const ms = (s: Spread) => `${fixed(s.median, 3)} ms (${fixed(s.min, 3)}-${fixed(s.max, 3)})`;
    const rate = (s: Spread) => `${grouped(s.median)} steps/s (${grouped(s.min)}-${grouped(s.max)})`;
    console.log(`\nRedurable benchmark: ${env}\n`);
    console.log(columns([
      ['', 'Redurable', 'raw BullMQ chain', 'ratio', 'target'],
      [`time per step, 1 workflow x ${SEQ_STEPS} sequential activities`, ms(seqD), ms(seqR), `${fixed(timeRatio, 2)}x`, `<= 2x: ${verdict(timeRatio <= 2)}`],
      [`throughput, ${SLOTS} workflows x ${STEPS} activities in flight`, rate(tpD), rate(tpR), `${fixed(tpRatio * 100, 0)}%`, `>= 40%: ${verdict(tpRatio >= 0.4)}`],
    ]));
    console.log(`(median of ${SEQ_RUNS} chains / ${TP_ROUNDS} rounds of ${TP_ROUND_MS / 1000} s, min-max in parentheses)\n`);
    console.log(columns([
      [`replay cost per event, ${replay.events}-event history`, `${fixed(replay.perEventUs, 1)} us`, `cold task ${fixed(replay.coldMs, 2)} ms (cache cleared), warm task ${fixed(replay.warmMs, 2)} ms`],
      [`Redis memory per finished ${STEPS}-step workflow`, `${grouped(mem.perWorkflow)} B`, `used_memory delta / ${MEM_N}; its own keys (meta, history, done): ${grouped(mem.ownKeys)} B`],
      [`timer lateness, ${TIMERS} x sleep(${TIMER_MS})`, `p50 ${fixed(timers.vsStarted.p50, 0)} ms, p99 ${fixed(timers.vsStarted.p99, 0)} ms`, `TimerFired.ts - (TimerStarted.ts + ${TIMER_MS}); vs the workflow clock at sleep(): p50 ${fixed(timers.vsCall.p50, 0)}, p99 ${fixed(timers.vsCall.p99, 0)} ms`],
      [`  raw BullMQ, ${TIMERS} delayed jobs of ${TIMER_MS} ms`, `p50 ${fixed(timers.raw.p50, 0)} ms, p99 ${fixed(timers.raw.p99, 0)} ms`, `processor start - (job.timestamp + delay); both started ${TIMER_SPACING_MS} ms apart`],
      ['Redis commands per step, sequential: Redurable', fixed(total(rt.redurable), 2), breakdown(rt.redurable)],
      ['  raw BullMQ', fixed(total(rt.raw), 2), breakdown(rt.raw)],
      [`  ${SLOTS} in flight (start and end included): Redurable`, fixed(total(rt.redurableLoaded), 2), breakdown(rt.redurableLoaded)],
      ['  raw BullMQ', fixed(total(rt.rawLoaded), 2), breakdown(rt.rawLoaded)],
    ]));
    console.log(`\nScale-out: steps/s, ${SLOTS} x ${STEPS}-step workflows in flight from a client-only process, run by 1 / 2 / 3 worker processes (${cpu.length} cores in all)`);
    console.log(columns([
      ['', '1 worker', '2 workers', '3 workers'],
      ...scale.map((s) => [s.target, ...s.rates.map((r) => grouped(r))]),
      ['Cluster / one Redis', ...scale[1].rates.map((r, i) => `${fixed((r / scale[0].rates[i]) * 100, 0)}%`)],
    ]));

    const cmd = AOF ? 'BENCH_AOF=always npm run bench' : 'npm run bench';
    console.log(`\nMarkdown for the README:\n`);
    console.log([
      `\`${cmd}\` — ${env}.`,
      '',
      '| Measurement | Redurable | Raw BullMQ chain | Ratio | Target |',
      '| --- | ---: | ---: | ---: | --- |',
      `| Time per step, 1 workflow × ${SEQ_STEPS} sequential activities | ${fixed(seqD.median, 3)} ms | ${fixed(seqR.median, 3)} ms | ${fixed(timeRatio, 2)}× | ≤ 2× (${verdict(timeRatio <= 2)}) |`,
      `| Throughput, ${SLOTS} workflows × ${STEPS} activities in flight | ${grouped(tpD.median)} steps/s | ${grouped(tpR.median)} steps/s | ${fixed(tpRatio * 100, 0)}% | ≥ 40% (${verdict(tpRatio >= 0.4)}) |`,
      `| Redis commands per step, sequential / ${SLOTS} in flight | ${fixed(total(rt.redurable), 1)} / ${fixed(total(rt.redurableLoaded), 1)} | ${fixed(total(rt.raw), 1)} / ${fixed(total(rt.rawLoaded), 1)} | | |`,
      `| Replay cost per history event (${replay.events} events, cache cleared) | ${fixed(replay.perEventUs, 1)} µs | | | |`,
      `| Redis memory per finished ${STEPS}-step workflow | ${grouped(mem.perWorkflow)} B | | | |`,
      `| Timer lateness, ${TIMERS} × sleep(${TIMER_MS} ms) / delayed jobs, p50 / p99 | ${fixed(timers.vsStarted.p50, 0)} / ${fixed(timers.vsStarted.p99, 0)} ms | ${fixed(timers.raw.p50, 0)} / ${fixed(timers.raw.p99, 0)} ms | | |`,
      '',
      `Scale-out, steps/s (${SLOTS} × ${STEPS}-step workflows in flight, client-only process + worker processes, ${cpu.length} cores in all):`,
      '',
      '| Redis | 1 worker process | 2 | 3 |',
      '| --- | ---: | ---: | ---: |',
      ...scale.map((s) => `| ${s.target} | ${s.rates.map((r) => grouped(r)).join(' | ')} |`),
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
