/**
 * `npm run bench:sweep`: what one recovery-sweep pass costs with many running workflows parked
 * on long timers (PARKED, default 100,000), on one private redis-server. Parks them (each
 * starts, runs its first task and waits on a one-hour timer), lets the sweep confirm their
 * jobs once, then times passes: the due index makes a pass read only what is due. For
 * comparison, the same run times what a pass used to read: every running workflow's meta.
 */
import { startEmbeddedRedis } from '../tools/embedded-redis.js';
import { ParkedWorkflow, TASK_QUEUE, startBenchApp } from './redurable-chain.js';
import { fixedCount, grouped, median, sleepMs, timeIt } from './stats.js';

const PARKED = Number(process.env.PARKED ?? 100_000);
const PASSES = 20;

const progress = (msg: string) => process.stderr.write(`  … ${msg}\n`);

const redis = await startEmbeddedRedis({});
try {
  const bench = await startBenchApp(redis.url, 'sweep', { leaseTtl: '2s', sweepInterval: '1h' });
  const { client, runtime } = bench;
  const started = performance.now();
  await fixedCount(256, PARKED, async (n) => {
    await client.start(ParkedWorkflow, { workflowId: `parked-${n}`, args: [0] });
  });
  progress(`started ${grouped(PARKED)} workflows in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const timers = runtime.queues.workflow(TASK_QUEUE);
  for (;;) {
    const { delayed } = await timers.getJobCounts('delayed');
    if (delayed >= PARKED) break;
    await sleepMs(500);
  }
  progress(`all ${grouped(PARKED)} parked on their timer after ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const sweep = runtime.createSweep(new Set([TASK_QUEUE]));
  await sleepMs(2500); // one lease ttl: every workflow's first check is due
  const firstPass = await timeIt(async () => {
    const due = async () => {
      let n = 0;
      for (const shard of runtime.keys.allShards())
        n += (await runtime.indexes.dueForCheck(shard, TASK_QUEUE, Date.now(), 1)).length;
      return n;
    };
    while ((await due()) > 0) await sweep.runOnce();
  });
  progress(`first check of every workflow (confirms its timer job exists): ${firstPass.toFixed(0)} ms`);
  const passes: number[] = [];
  for (let i = 0; i < PASSES; i++) passes.push(await timeIt(() => sweep.runOnce()));
  const fullScan = await timeIt(async () => {
    // What the sweep read on every pass before the due index: each running workflow's meta, 500 at a time.
    for (const shard of runtime.keys.allShards()) {
      for (let start = 0; ; start += 500) {
        const ids = await runtime.indexes.runningIds(shard, start, 500);
        if (ids.length === 0) break;
        await runtime.histories.getMetas(ids);
        if (ids.length < 500) break;
      }
    }
  });
  const info = await runtime.redis.info('memory');
  const used = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
  console.log('');
  console.log(`| recovery sweep, ${grouped(PARKED)} workflows parked on 1-hour timers | ms |`);
  console.log('| --- | ---: |');
  console.log(`| one pass (median of ${PASSES}) | ${median(passes).toFixed(2)} |`);
  console.log(
    `| first check of all of them, once (confirms each timer job exists) | ${grouped(Math.round(firstPass))} |`,
  );
  console.log(
    `| reading every running workflow's meta (what each pass did before) | ${grouped(Math.round(fullScan))} |`,
  );
  console.log(
    `\nRedis memory: ${(used / PARKED / 1024).toFixed(1)} KB per parked workflow (history, meta, indexes, timer job)`,
  );
  await bench.close();
} finally {
  await redis.stop();
}
