/**
 * `npm run bench:flow`: what flow control costs (issue 24), on a private redis-server without
 * persistence (BENCH_FLOW_AOF=1: `appendfsync always`), each part on its own key prefix.
 *
 * - overhead: the cost of one more step of a concurrency-limited activity (a limit never
 *   reached: it runs eagerly) against the same activity unlimited, eager (the default) and with
 *   eager off (the queued path), and the limited one with eager off: ms per extra step at
 *   concurrency 1 and steps/s with 64 lanes (workload.ts). Target: the limited step within 10%
 *   of the unlimited one.
 * - fairness: a workflow of one key limited to one at once, on an idle system, then with another
 *   key holding 10,000 waiting workflows (its slot held), then while that line drains: start to
 *   result of the one-step workflow. Target: at most 2x its idle time.
 * - rate: an activity limited to 50 starts per second, with 2,000 calls waiting: starts per second
 *   over 10 s, and the most in any 1 s window. Target: within 2% of the limit (never above).
 *
 * BENCH_FLOW=overhead,fairness,rate picks parts (default all).
 */
import { Redis } from 'ioredis';
import { startEmbeddedRedis } from '../tools/embedded-redis.js';
import {
  NEVER_REACHED,
  OnePerKeyWorkflow,
  RATE,
  RatedWorkflow,
  StepsWorkflow,
  rateStarts,
  startFlowBenchApp,
  type FlowBenchApp,
} from './flow-bench-app.js';
import { columns, fixed, fixedCount, grouped, percentile, sleepMs, timeIt } from './stats.js';
import { perStep, roundTrips, scriptNames } from './round-trips.js';
import { measure, type WorkloadResult, type WorkloadSizes } from './workload.js';

const PARTS = (process.env.BENCH_FLOW ?? 'overhead,fairness,rate').split(',');
const AOF = process.env.BENCH_FLOW_AOF === '1';
const SIZES: WorkloadSizes = {
  lengths: [1, 50],
  perLength: 60,
  warmUp: 10,
  lanes: 64,
  tpSteps: 10,
  tpWarmUp: 64,
  tpTotal: 600,
};
const WAITING = 10_000;
const FAIR_SAMPLES = 30;
const RATE_WORKFLOWS = 20;
const RATE_CALLS = 100;
const RATE_WINDOW_MS = 10_000;

const progress = (msg: string) => process.stderr.write(`  … ${msg}\n`);
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
const pct = (v: number) => `${v >= 0 ? '+' : ''}${fixed(v * 100, 1)}%`;

const server = await startEmbeddedRedis(AOF ? { appendOnly: true, appendFsync: 'always' } : { appendOnly: false });
const lines: string[] = [];
const markdown: string[] = [];

async function withApp<T>(
  prefix: string,
  options: Parameters<typeof startFlowBenchApp>[2],
  fn: (app: FlowBenchApp) => Promise<T>,
): Promise<T> {
  const app = await startFlowBenchApp(server.url, prefix, options);
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

async function overhead(): Promise<void> {
  const systems = [
    { name: 'unlimited, eager (default)', eager: true, limited: false },
    { name: 'unlimited, eager off', eager: false, limited: false },
    { name: `limited (limit ${grouped(NEVER_REACHED)}, never reached)`, eager: true, limited: true },
    { name: 'limited, eager off', eager: false, limited: true },
  ];
  const results: WorkloadResult[] = [];
  const commands: Map<string, number>[] = [];
  for (const [i, s] of systems.entries()) {
    progress(`overhead: ${s.name}`);
    await withApp(`flowbench-over-${i}`, { eagerActivities: s.eager }, async ({ client, runtime }) => {
      const chain = async (id: string, steps: number) => {
        const handle = await client.start(StepsWorkflow, { workflowId: id, args: [steps, s.limited] });
        if ((await handle.result()) !== steps) throw new Error(`workflow ${id} returned a wrong count`);
      };
      results.push(await measure(chain, `o${i}`, SIZES));
      // Redis commands per step (MONITOR slows Redis: after the timed part), from a 20- and a 60-step chain.
      const names = scriptNames(runtime.redis);
      const count = (id: string, steps: number) => roundTrips(server.url, names, () => chain(id, steps));
      commands.push(perStep(await count(`o${i}-rt20`, 20), await count(`o${i}-rt60`, 60), 40));
    });
  }
  const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  const [eager, queued, limited, limitedQueued] = results;
  const rows = [
    ['', 'ms per extra step', 'N=1 p50 ms', 'N=50 p50 ms', `steps/s, ${SIZES.lanes} lanes`, 'Redis commands per step'],
    ...systems.map((s, i) => [
      s.name,
      fixed(results[i].perStepMs, 3),
      fixed(results[i].latency.get(1)!.p50, 2),
      fixed(results[i].latency.get(50)!.p50, 1),
      grouped(results[i].stepsPerSecond),
      `${fixed(total(commands[i]), 2)}: ${[...commands[i]].map(([k, v]) => `${k} ${fixed(v, 2)}`).join(', ')}`,
    ]),
  ];
  const vsEager = limited.perStepMs / eager.perStepMs - 1;
  const tpVsEager = limited.stepsPerSecond / eager.stepsPerSecond - 1;
  const queuedVsQueued = limitedQueued.perStepMs / queued.perStepMs - 1;
  const tpQueuedVsQueued = limitedQueued.stepsPerSecond / queued.stepsPerSecond - 1;
  lines.push(
    `Overhead of a concurrency-limited activity per step (concurrency 1; throughput ${SIZES.tpTotal} x ${SIZES.tpSteps}-step workflows):`,
    columns(rows),
    `limited vs unlimited, both eager: ms per step ${pct(vsEager)} (target <= +10%: ${verdict(vsEager <= 0.1)}), steps/s ${pct(tpVsEager)}; eager off, limited vs unlimited (both queued): ms per step ${pct(queuedVsQueued)}, steps/s ${pct(tpQueuedVsQueued)}`,
    '',
  );
  markdown.push(
    '| Activity (one more step) | ms per step | steps/s, 64 lanes |',
    '| --- | ---: | ---: |',
    ...systems.map(
      (s, i) => `| ${s.name} | ${fixed(results[i].perStepMs, 3)} | ${grouped(results[i].stepsPerSecond)} |`,
    ),
    '',
  );
}

async function fairness(): Promise<void> {
  await withApp('flowbench-fair', {}, async ({ client }) => {
    let n = 0;
    const runB = () =>
      timeIt(async () => {
        const key = `b-${n}`;
        await (await client.start(OnePerKeyWorkflow, { workflowId: `b-${n++}`, args: [key, false] })).result();
      });
    const sample = async () => {
      const times: number[] = [];
      for (let i = 0; i < FAIR_SAMPLES; i++) times.push(await runB());
      return { p50: percentile(times, 50), p95: percentile(times, 95) };
    };
    progress('fairness: idle');
    for (let i = 0; i < 5; i++) await runB(); // warm-up
    const idle = await sample();
    progress(`fairness: starting ${grouped(WAITING)} workflows of key 'a' (limit 1, its slot held)`);
    const holder = await client.start(OnePerKeyWorkflow, { workflowId: 'a-holder', args: ['a', true] });
    const startMs = await timeIt(() =>
      fixedCount(64, WAITING, async (i) => {
        await client.start(OnePerKeyWorkflow, { workflowId: `a-${i}`, args: ['a', false] });
      }),
    );
    await sleepMs(2000); // the starts' slot requests settle
    progress('fairness: with the line waiting');
    const blocked = await sample();
    progress("fairness: while key 'a' drains");
    await holder.terminate('the line drains now');
    await sleepMs(500);
    const draining = await sample();
    const drained = (await client.count({ type: 'OnePerKeyWorkflow', status: 'completed' })) - n;
    const rows = [
      ['', 'start to result p50 ms', 'p95 ms', 'vs idle (p50)'],
      ['idle system', fixed(idle.p50, 1), fixed(idle.p95, 1), ''],
      [
        `key 'a': ${grouped(WAITING)} waiting, slot held`,
        fixed(blocked.p50, 1),
        fixed(blocked.p95, 1),
        `${fixed(blocked.p50 / idle.p50, 2)}x`,
      ],
      [
        `key 'a' draining (limit 1)`,
        fixed(draining.p50, 1),
        fixed(draining.p95, 1),
        `${fixed(draining.p50 / idle.p50, 2)}x`,
      ],
    ];
    const worst = Math.max(blocked.p50, draining.p50) / idle.p50;
    lines.push(
      `Fairness: a one-step workflow of a fresh key (limit 1 per key), ${FAIR_SAMPLES} one after another; ${grouped(WAITING)} starts of key 'a' took ${fixed(startMs / 1000, 1)} s, ${drained} of them ran meanwhile:`,
      columns(rows),
      `worst p50 vs idle ${fixed(worst, 2)}x (target <= 2x: ${verdict(worst <= 2)})`,
      '',
    );
    markdown.push(
      `| Fresh key's one-step workflow, start to result | p50 / p95 ms |`,
      '| --- | ---: |',
      `| idle system | ${fixed(idle.p50, 1)} / ${fixed(idle.p95, 1)} |`,
      `| another key with ${grouped(WAITING)} waiting (slot held) | ${fixed(blocked.p50, 1)} / ${fixed(blocked.p95, 1)} (${fixed(blocked.p50 / idle.p50, 2)}x) |`,
      `| that key draining, limit 1 | ${fixed(draining.p50, 1)} / ${fixed(draining.p95, 1)} (${fixed(draining.p50 / idle.p50, 2)}x) |`,
      '',
    );
  });
}

/** The most of sorted `times` in any window of `ms` (each time opens one). */
function mostInWindow(times: number[], ms: number): number {
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i] - times[j] >= ms) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

async function rate(): Promise<void> {
  await withApp('flowbench-rate', {}, async ({ client }) => {
    // The store's own record of each start (Redis time), read every 100 ms (a start stays 1 s).
    const admin = new Redis(server.url);
    const recorded = new Map<string, number>();
    let polling = true;
    const poller = (async () => {
      while (polling) {
        for (const key of await admin.keys('flowbench-rate:flow:*:starts')) {
          const flat = await admin.zrange(key, '0', '-1', 'WITHSCORES');
          for (let i = 0; i < flat.length; i += 2) recorded.set(flat[i], Number(flat[i + 1]));
        }
        await sleepMs(100);
      }
    })();
    progress(`rate: ${RATE_WORKFLOWS * RATE_CALLS} calls of an activity limited to ${RATE}/s`);
    const handles = await Promise.all(
      Array.from({ length: RATE_WORKFLOWS }, (_, i) =>
        client.start(RatedWorkflow, { workflowId: `rated-${i}`, args: [RATE_CALLS] }),
      ),
    );
    // Measure a window that begins once the limit is saturated (2 s in) and ends well before demand runs out.
    while (rateStarts.length === 0) await sleepMs(10);
    const from = rateStarts[0].at + 2000;
    const to = from + RATE_WINDOW_MS;
    await sleepMs(to - Date.now() + 200);
    polling = false;
    await poller;
    await admin.quit();
    const bodies = rateStarts.map((s) => s.at).sort((a, b) => a - b);
    const perSecond = bodies.filter((t) => t >= from && t < to).length / (RATE_WINDOW_MS / 1000);
    const most = mostInWindow(bodies, 1000);
    // The store's starts (Redis time of the window's entry), and how much later each body began.
    const inStore = [...recorded.values()].sort((a, b) => a - b);
    const mostInStore = mostInWindow(inStore, 1000);
    const lags = rateStarts.flatMap((s) => (recorded.has(s.holder) ? [s.at - recorded.get(s.holder)!] : []));
    const error = perSecond / RATE - 1;
    const left = RATE_WORKFLOWS * RATE_CALLS - rateStarts.length;
    lines.push(
      `Rate limit ${RATE}/s, ${RATE_WORKFLOWS * RATE_CALLS} calls waiting: ${fixed(perSecond, 2)} activity starts/s over ${RATE_WINDOW_MS / 1000} s (${pct(error)}; target within 2%: ${verdict(Math.abs(error) <= 0.02)}), ${left} calls still waiting`,
      `  most in any 1 s window: ${mostInStore} starts in the store's window (Redis time; ${mostInStore <= RATE ? 'never above' : 'ABOVE'} the limit), ${most} activity bodies (their own clock)`,
      `  body began after its start was recorded: p50 ${fixed(percentile(lags, 50), 0)} ms, p99 ${fixed(percentile(lags, 99), 0)} ms, max ${fixed(Math.max(...lags), 0)} ms (${lags.length} of ${rateStarts.length} matched)`,
      '',
    );
    markdown.push(
      `| Rate limit ${RATE}/s, ${RATE_WORKFLOWS * RATE_CALLS} calls waiting | |`,
      '| --- | ---: |',
      `| starts/s over ${RATE_WINDOW_MS / 1000} s | ${fixed(perSecond, 2)} (${pct(error)}) |`,
      `| most in any 1 s window: store / activity bodies | ${mostInStore} / ${most} |`,
      '',
    );
    await Promise.all(handles.map((h) => h.terminate('benchmark done')));
  });
}

try {
  if (PARTS.includes('overhead')) await overhead();
  if (PARTS.includes('fairness')) await fairness();
  if (PARTS.includes('rate')) await rate();
} finally {
  const probe = new Redis(server.url);
  const version = /redis_version:(\S+)/.exec(await probe.info('server'))![1];
  await probe.quit();
  await server.stop();
  console.log(
    `\nFlow control benchmark: Node ${process.version}, Redis ${version}, ${AOF ? 'AOF, appendfsync always' : 'no persistence'}\n`,
  );
  console.log(lines.join('\n'));
  console.log(`Markdown for the README (\`npm run bench:flow\`):\n`);
  console.log(markdown.join('\n'));
}
process.exit(0);
