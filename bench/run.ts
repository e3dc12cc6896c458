/**
 * `npm run bench`: Redurable against a raw BullMQ job chain (each job's processor adds the next;
 * the floor, not crash-safe), on private redis-servers started here: once without persistence
 * and once with `appendonly yes` + `appendfsync always` (every write fsync'd before Redis
 * replies, what a durable store does on commit).
 *
 * Headline, in both modes (workload.ts): latency at concurrency 1 of workflows of 1, 10 and 50
 * trivial activities (p50/p95/p99, 200 each after 20 warm-up), the marginal cost of a step,
 * steps/s with 64 lanes (2,000 ten-step workflows after 200 warm-up), and, with AOF, fsync'd
 * writes per step; Redurable with activities (eager, the default, and with eagerActivities: false),
 * with local activities, and the raw chain; then
 * the ratios to the raw chain against the targets. Then, without persistence, the extras
 * (extras.ts), Redis commands per step (round-trips.ts) and the scale-out run (scale-out.ts).
 * BENCH_QUICK=1 runs a tenth of the workload (for trying a change, not for the README).
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Redis } from 'ioredis';
import { startEmbeddedCluster } from '../tools/embedded-cluster.js';
import { startEmbeddedRedis, type EmbeddedRedis } from '../tools/embedded-redis.js';
import { scaleOut } from './scale-out.js';
import { memoryPerWorkflow, replayCost, timerLateness } from './extras.js';
import { RawChain } from './raw-chain.js';
import { runChain, startBenchApp } from './redurable-chain.js';
import { profileRoundTrips } from './round-trips.js';
import { columns, fixed, grouped } from './stats.js';
import { measure, type Chain, type WorkloadResult, type WorkloadSizes } from './workload.js';

const QUICK = process.env.BENCH_QUICK === '1';
const SIZES: WorkloadSizes = QUICK
  ? { lengths: [1, 10, 50], perLength: 20, warmUp: 5, lanes: 64, tpSteps: 10, tpWarmUp: 64, tpTotal: 300 }
  : { lengths: [1, 10, 50], perLength: 200, warmUp: 20, lanes: 64, tpSteps: 10, tpWarmUp: 200, tpTotal: 2000 };
const STEPS = 10;
const SCALE_ROUND_MS = 3000;
const REPLAY_ACTIVITIES: [number, number] = [100, 1000]; // 202- and 2,002-event histories
const REPLAY_RUNS = 20;
const MEM_WARM = 150; // 1,500 activity jobs: fills the 1000-job retention of the activity queue
const MEM_N = 500;
const TIMERS = 200;
const TIMER_MS = 100;
const TIMER_SPACING_MS = 5;

setTimeout(() => {
  console.error('bench: still running after 20 minutes, giving up');
  process.exit(1);
}, 1_200_000).unref();

const progress = (msg: string) => process.stderr.write(`  … ${msg}\n`);

type System = 'Redurable' | 'Redurable, eager off' | 'Redurable, local activities' | 'raw BullMQ chain';
const ALL_SYSTEMS: System[] = ['Redurable', 'Redurable, eager off', 'Redurable, local activities', 'raw BullMQ chain'];
/** BENCH_SYSTEMS=0,3 measures some systems only (by position), for trying a change; the ratios need 0 and 3. */
const SYSTEMS = process.env.BENCH_SYSTEMS
  ? process.env.BENCH_SYSTEMS.split(',').map((i) => ALL_SYSTEMS[Number(i)])
  : ALL_SYSTEMS;
/** BENCH_MODES=aof (or mem) measures one mode only, for trying a change. */
const MODES = (process.env.BENCH_MODES ?? 'mem,aof').split(',');

async function onSystem(
  system: System,
  url: string,
  prefix: string,
  run: (chain: Chain) => Promise<WorkloadResult>,
): Promise<WorkloadResult> {
  if (system === 'raw BullMQ chain') {
    const raw = await RawChain.start(url, prefix, SIZES.lanes);
    try {
      return await run((id, steps) => raw.run(id, steps));
    } finally {
      await raw.close();
    }
  }
  const app = await startBenchApp(url, prefix, system === 'Redurable, eager off' ? { eagerActivities: false } : {});
  const local = system === 'Redurable, local activities';
  try {
    return await run((id, steps) => runChain(app.client, id, steps, local));
  } finally {
    await app.close();
  }
}

interface Mode {
  name: string;
  aof: boolean;
  results: Map<System, WorkloadResult>;
  /** Per system, the worst latency Redis itself saw per event (LATENCY LATEST, events over 5 ms): fsync stalls show here. */
  stalls: Map<System, string>;
}

/** Redis's own latency events over 5 ms since the last call (then reset): e.g. `aof-fsync-always max 38 ms`. */
async function redisStalls(admin: Redis): Promise<string> {
  const latest = (await admin.call('LATENCY', 'LATEST')) as [string, number, number, number][];
  await admin.call('LATENCY', 'RESET');
  return latest.map(([event, , , max]) => `${event} max ${max} ms`).join(', ') || 'none over 5 ms';
}

async function measureMode(aof: boolean): Promise<Mode> {
  const name = aof ? 'AOF, appendfsync always' : 'no persistence';
  const server = await startEmbeddedRedis(aof ? { appendOnly: true, appendFsync: 'always' } : { appendOnly: false });
  const results = new Map<System, WorkloadResult>();
  const stalls = new Map<System, string>();
  const admin = new Redis(server.url);
  try {
    await admin.config('SET', 'latency-monitor-threshold', '5');
    for (const [i, system] of SYSTEMS.entries()) {
      progress(`${name}: ${system}`);
      await admin.call('LATENCY', 'RESET');
      results.set(
        system,
        await onSystem(system, server.url, `bench-${aof ? 'aof' : 'mem'}-${i}`, (chain) =>
          measure(chain, `s${i}`, SIZES, aof ? server.url : undefined),
        ),
      );
      stalls.set(system, await redisStalls(admin));
    }
  } finally {
    await admin.quit();
    await server.stop();
  }
  return { name, aof, results, stalls };
}

const ms = (v: number) => fixed(v, v < 10 ? 2 : 1);
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');

/**
 * The targets, per mode, as ratios to the raw chain in the same run: N=10 p50 at most, steps/s at
 * least, the marginal cost of a step at most (default options); with eager activities off, N=10
 * p50 and steps/s; p99 at most `tail` times p50 at N=50; fsync'd writes per step at most.
 */
const TARGETS = {
  aof: { latency: 1.0, throughput: 1.0, perStep: 0.6, eagerOffLatency: 2.0, eagerOffThroughput: 0.6 },
  mem: { latency: 1.3, throughput: 0.8 },
};
const TAIL = 2.5;
const FSYNCS_PER_STEP = 1.1;

function headline(mode: Mode): { table: string[][]; markdown: string[] } {
  const lat = (r: WorkloadResult, n: number) => {
    const p = r.latency.get(n)!;
    return `${ms(p.p50)} / ${ms(p.p95)} / ${ms(p.p99)}`;
  };
  const fs = (v?: number) => (v === undefined ? (mode.aof ? 'n/a' : '') : fixed(v, 2));
  const head = [
    '',
    ...SIZES.lengths.map((n) => `N=${n} p50/p95/p99 ms`),
    'ms per extra step',
    `steps/s, ${SIZES.lanes} lanes`,
    ...(mode.aof ? ['fsyncs per step', `per ${SIZES.tpSteps}-step workflow`] : []),
  ];
  const rows = SYSTEMS.map((s) => {
    const r = mode.results.get(s)!;
    return [
      s,
      ...SIZES.lengths.map((n) => lat(r, n)),
      fixed(r.perStepMs, 3),
      grouped(r.stepsPerSecond),
      ...(mode.aof ? [fs(r.fsyncsPerStep), fs(r.fsyncsPerWorkflow)] : []),
    ];
  });
  const raw = mode.results.get('raw BullMQ chain')!;
  const ours = mode.results.get('Redurable')!;
  const off = mode.results.get('Redurable, eager off');
  const p50At10 = (r: WorkloadResult) => r.latency.get(10)!.p50;
  const ratio = (r: WorkloadResult) => ({
    lat: p50At10(r) / p50At10(raw),
    tp: r.stepsPerSecond / raw.stepsPerSecond,
  });
  const tail = (r: WorkloadResult) => r.latency.get(50)!.p99 / r.latency.get(50)!.p50;
  const x = (v: number) => `${fixed(v, 2)}x`;
  const pct = (v: number) => `${fixed(v * 100, 0)}%`;
  const d = ratio(ours);
  const verdicts: string[] = [];
  if (mode.aof) {
    const t = TARGETS.aof;
    const perStep = ours.perStepMs / raw.perStepMs;
    verdicts.push(
      `Redurable / raw: N=10 p50 ${x(d.lat)} (target <= ${t.latency}x: ${verdict(d.lat <= t.latency)}), steps/s ${pct(d.tp)} (target >= ${pct(t.throughput)}: ${verdict(d.tp >= t.throughput)}), ms per extra step ${x(perStep)} (target <= ${t.perStep}x: ${verdict(perStep <= t.perStep)})`,
      `Redurable: ${fs(ours.fsyncsPerStep)} fsync'd writes per step (target <= ${FSYNCS_PER_STEP}: ${ours.fsyncsPerStep === undefined ? 'not counted' : verdict(ours.fsyncsPerStep <= FSYNCS_PER_STEP)})`,
    );
    if (off) {
      const o = ratio(off);
      verdicts.push(
        `eager off / raw: N=10 p50 ${x(o.lat)} (target <= ${t.eagerOffLatency}x: ${verdict(o.lat <= t.eagerOffLatency)}), steps/s ${pct(o.tp)} (target >= ${pct(t.eagerOffThroughput)}: ${verdict(o.tp >= t.eagerOffThroughput)})`,
      );
    }
  } else {
    const t = TARGETS.mem;
    verdicts.push(
      `Redurable / raw: N=10 p50 ${x(d.lat)} (target <= ${t.latency}x: ${verdict(d.lat <= t.latency)}), steps/s ${pct(d.tp)} (target >= ${pct(t.throughput)}: ${verdict(d.tp >= t.throughput)})`,
    );
  }
  verdicts.push(
    `Redis's own stalls (LATENCY LATEST): ${SYSTEMS.map((sys) => `${sys}: ${mode.stalls.get(sys)}`).join('; ')}`,
  );
  verdicts.push(
    `tail: N=50 p99 / p50 ${x(tail(ours))} for Redurable (target <= ${TAIL}x: ${verdict(tail(ours) <= TAIL)})${off ? `, ${x(tail(off))} eager off` : ''}, ${x(tail(raw))} raw`,
  );
  const md = [
    `| ${head.join(' | ')} |`,
    `| ${head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    ...verdicts.map((v) => `- ${v}`),
  ];
  return { table: [head, ...rows], markdown: [`**${mode.name}**`, '', ...md, ''] };
}

async function extras(server: EmbeddedRedis) {
  const admin = new Redis(server.url);
  try {
    progress('replay cost');
    const replay = await replayCost(server.url, REPLAY_ACTIVITIES, REPLAY_RUNS);
    progress('memory per workflow');
    const mem = await memoryPerWorkflow(server.url, admin, MEM_WARM, MEM_N, STEPS);
    progress('timer lateness');
    const timers = await timerLateness(server.url, TIMERS, TIMER_MS, TIMER_SPACING_MS);
    progress('round trips per step (MONITOR)');
    const rt = await profileRoundTrips(server.url, SIZES.lanes, STEPS);
    return { replay, mem, timers, rt };
  } finally {
    await admin.quit();
  }
}

async function scale(url: string) {
  const scaled: { target: string; rates: number[] }[] = [];
  const cluster = await startEmbeddedCluster(3);
  try {
    for (const [target, connection] of [
      ['one Redis', url],
      ['Redis Cluster, 3 masters', { cluster: cluster.nodes }],
    ] as const) {
      const rates: number[] = [];
      for (const workers of [1, 2, 3]) {
        progress(`scale-out: ${target}, ${workers} worker process(es)`);
        rates.push(await scaleOut(connection, `bench-scale-${scaled.length}-${workers}`, workers, SCALE_ROUND_MS));
      }
      scaled.push({ target, rates });
    }
  } finally {
    await cluster.stop();
  }
  return scaled;
}

const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
const breakdown = (m: Map<string, number>) => [...m].map(([k, v]) => `${k} ${fixed(v, 2)}`).join(', ');

async function main() {
  const modes: Mode[] = [];
  const onlyHeadline = process.env.BENCH_EXTRAS === '0';
  if (MODES.includes('mem')) modes.push(await measureMode(false));
  if (MODES.includes('aof')) modes.push(await measureMode(true));
  const server = await startEmbeddedRedis({ appendOnly: false });
  const probe = new Redis(server.url);
  const redisVersion = /redis_version:(\S+)/.exec(await probe.info('server'))![1];
  await probe.quit();
  let more: Awaited<ReturnType<typeof extras>> | undefined;
  let scaled: Awaited<ReturnType<typeof scale>> = [];
  try {
    if (!onlyHeadline) more = await extras(server);
    if (!QUICK && !onlyHeadline) scaled = await scale(server.url);
  } finally {
    await server.stop();
  }
  const bullmq = JSON.parse(
    readFileSync(new URL('../../node_modules/bullmq/package.json', import.meta.url), 'utf8'),
  ) as { version: string };
  const cpu = cpus();
  const env = `Node ${process.version}, Redis ${redisVersion}, BullMQ ${bullmq.version}, ${cpu.length} cores (${cpu[0]?.model.trim()})${QUICK ? ', QUICK (a tenth of the workload)' : ''}`;

  const memTarget = 6.8 * 1024;

  console.log(`\nRedurable benchmark: ${env}`);
  const headlines = modes.map(headline);
  for (const [i, mode] of modes.entries()) {
    console.log(
      `\n${mode.name} (latency: ${SIZES.perLength} workflows per N at concurrency 1; throughput: ${SIZES.tpTotal} x ${SIZES.tpSteps}-step workflows)`,
    );
    console.log(columns(headlines[i].table));
    console.log(
      headlines[i].markdown
        .filter((l) => l.startsWith('- '))
        .map((l) => l.slice(2))
        .join('\n'),
    );
  }
  if (!more) return;
  const { replay, mem, timers, rt } = more;
  const replayRate = 1e6 / replay.perEventUs;
  const extrasRows = [
    [
      `replay, per event (${replay.short.events}- and ${replay.long.events}-event histories)`,
      `${fixed(replay.perEventUs, 1)} us per event = ${grouped(replayRate)} events/s (target >= 100,000: ${verdict(replayRate >= 100_000)})`,
      `cold task (cache cleared) ${fixed(replay.short.coldMs, 2)} / ${fixed(replay.long.coldMs, 2)} ms, warm task ${fixed(replay.short.warmMs, 2)} ms`,
    ],
    [
      `Redis memory per finished ${STEPS}-step workflow`,
      `${grouped(mem.perWorkflow)} B (target <= ${grouped(memTarget)}: ${verdict(mem.perWorkflow <= memTarget)})`,
      `used_memory delta / ${MEM_N}; its own keys (meta, history, done): ${grouped(mem.ownKeys)} B`,
    ],
    [
      `timer lateness, ${TIMERS} x sleep(${TIMER_MS})`,
      `p50 ${fixed(timers.vsStarted.p50, 0)} ms, p99 ${fixed(timers.vsStarted.p99, 0)} ms`,
      `raw BullMQ delayed jobs: p50 ${fixed(timers.raw.p50, 0)} ms, p99 ${fixed(timers.raw.p99, 0)} ms`,
    ],
    ['Redis commands per step, sequential: Redurable', fixed(total(rt.redurable), 2), breakdown(rt.redurable)],
    ['  raw BullMQ', fixed(total(rt.raw), 2), breakdown(rt.raw)],
    [
      `  ${SIZES.lanes} in flight (start and end included): Redurable`,
      fixed(total(rt.redurableLoaded), 2),
      breakdown(rt.redurableLoaded),
    ],
    ['  raw BullMQ', fixed(total(rt.rawLoaded), 2), breakdown(rt.rawLoaded)],
  ];
  console.log('\nno persistence:');
  console.log(columns(extrasRows));
  if (scaled.length > 0) {
    console.log(
      `\nScale-out: steps/s, ${SIZES.lanes} x ${STEPS}-step workflows in flight from a client-only process, run by 1 / 2 / 3 worker processes (${cpu.length} cores in all)`,
    );
    console.log(
      columns([
        ['', '1 worker', '2 workers', '3 workers'],
        ...scaled.map((s) => [s.target, ...s.rates.map((r) => grouped(r))]),
        ['Cluster / one Redis', ...scaled[1].rates.map((r, i) => `${fixed((r / scaled[0].rates[i]) * 100, 0)}%`)],
      ]),
    );
  }

  console.log(`\nMarkdown for the README:\n`);
  console.log(
    [
      `\`npm run bench\` — ${env}.`,
      '',
      ...headlines.flatMap((h) => h.markdown),
      '| Also measured (no persistence) | |',
      '| --- | --- |',
      `| Replay, per event (cold task of a ${replay.short.events}- and a ${replay.long.events}-event history: ${fixed(replay.short.coldMs, 1)} / ${fixed(replay.long.coldMs, 1)} ms) | ${fixed(replay.perEventUs, 1)} µs (${grouped(replayRate)} events/s) |`,
      `| Redis memory per finished ${STEPS}-step workflow | ${grouped(mem.perWorkflow)} B |`,
      `| Timer lateness, ${TIMERS} × sleep(${TIMER_MS} ms), p50 / p99 | ${fixed(timers.vsStarted.p50, 0)} / ${fixed(timers.vsStarted.p99, 0)} ms (BullMQ delayed jobs: ${fixed(timers.raw.p50, 0)} / ${fixed(timers.raw.p99, 0)} ms) |`,
      `| Redis commands per step, sequential / ${SIZES.lanes} in flight | ${fixed(total(rt.redurable), 1)} / ${fixed(total(rt.redurableLoaded), 1)} (raw chain: ${fixed(total(rt.raw), 1)} / ${fixed(total(rt.rawLoaded), 1)}) |`,
      ...(scaled.length > 0
        ? [
            '',
            `Scale-out, steps/s (${SIZES.lanes} × ${STEPS}-step workflows in flight, client-only process + worker processes, ${cpu.length} cores in all):`,
            '',
            '| Redis | 1 worker process | 2 | 3 |',
            '| --- | ---: | ---: | ---: |',
            ...scaled.map((s) => `| ${s.target} | ${s.rates.map((r) => grouped(r)).join(' | ')} |`),
          ]
        : []),
    ].join('\n'),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
