/**
 * The flow-control soak (`npm run soak`, SOAK=flow): workflows of one type limited to 2 running
 * at once per key (flow-soak-app.ts), started in waves over many keys, while worker processes are
 * SIGKILLed at random and restarted (half of them armed to SIGKILL themselves at a gap of flow
 * control), redis-server (`appendfsync always`) is SIGKILLed and
 * restarted on its data, and a TCP proxy between everyone and Redis loses replies of flow
 * scripts and resets connections. After the faults stop:
 *
 * - every workflow completed;
 * - no key ever had more than 2 runs running at once, checked from the histories. A run's
 *   running interval is from its first ActivityTaskScheduled to its WorkflowExecutionCompleted,
 *   each at the Redis time of its history entry (its stream id). A run takes no workflow task
 *   before it got its slot, and frees the slot only after its close is written, so that
 *   interval lies inside the time it held the slot: intervals overlapping more than 2 deep
 *   (at equal times an end counts before a start) prove more than 2 held at once;
 * - the store itself never listed more than 2 holders of a key (sampled every 100 ms);
 * - no slot is left held: no holders, waiters, release-index or waiting-index entries.
 *
 * Env: SOAK_SECONDS (fault window, default 60), SOAK_WORKFLOWS (default 1000), SOAK_KEYS
 * (default 50), SOAK_WORKERS (default 3), SOAK_STEP_MS (a run's three steps' mean length), SOAK_PROXY=0
 * (no lost replies or resets), SOAK_CRASH_POINTS=0 (workers never armed to kill themselves at a
 * flow-control gap), SOAK_SEED.
 * Prints the figures; exits 0 when every check holds, 1 otherwise (the data directory and
 * the workers' logs are then kept).
 */
import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { WorkflowClient } from 'redurable';
import { DurableRuntime } from 'redurable/internal';
import { startEmbeddedRedis, type EmbeddedRedis } from '../tools/embedded-redis.js';
import { FaultProxy, scriptCallWith } from '../tools/fault-proxy.js';
import { prng } from '../tools/transfer-audit.js';
import { FLOW_SOAK_LIMIT, KeyedWorkflow, flowSoakModule } from './flow-soak-app.js';
import { sleepMs } from './stats.js';
import { stopChild } from './processes.js';

const SOAK_MS = Number(process.env.SOAK_SECONDS ?? 60) * 1000;
const WORKFLOWS = Number(process.env.SOAK_WORKFLOWS ?? 1000);
const KEYS = Number(process.env.SOAK_KEYS ?? 50);
const WORKERS = Number(process.env.SOAK_WORKERS ?? 3);
const PROXY_FAULTS = process.env.SOAK_PROXY !== '0';
const SEED = Number(process.env.SOAK_SEED ?? Date.now() % 1_000_000);
const WAVES = 6;
/**
 * A run works three times this long on average (an activity, a timer, an activity): by default
 * long enough that every key is busy about 60% of the fault window, so the faults meet runs
 * holding and waiting for slots throughout.
 */
const STEP_MS = Number(
  process.env.SOAK_STEP_MS ??
    Math.min(2000, Math.max(100, Math.round((SOAK_MS * 0.6 * KEYS * FLOW_SOAK_LIMIT) / (WORKFLOWS * 3)))),
);
const DRAIN_MS = 240_000;
/** How long after the last workflow completed every slot must be free: the sweep's repair (leaseTtl + sweepInterval) and margin. */
const FREE_WITHIN_MS = 20_000;
const PREFIX = 'flowsoak';
const LIMIT_NAME = 'KeyedWorkflow';
const WORKER = fileURLToPath(new URL('./flow-soak-worker.js', import.meta.url));

const log = (msg: string) => process.stderr.write(`  … ${msg}\n`);
const random = prng(SEED);
const figures = {
  workerKills: 0,
  crashPointKills: 0,
  redisRestarts: 0,
  droppedReplies: 0,
  connectionResets: 0,
  startRetries: 0,
};
/**
 * The gaps of flow control a random SIGKILL rarely meets: a (re)started worker is often armed to
 * SIGKILL itself at one of them after a few passes (core/crash-points.ts), then restarted.
 */
const CRASH_POINTS = ['close.after-commit', 'flow.after-acquire', 'flow.after-release', 'task.after-commit'];
const ARM_CRASH_POINTS = process.env.SOAK_CRASH_POINTS !== '0';
let faulting = true;
const problems: string[] = [];
/** Repairs of the recovery sweep, from the workers' logs. */
let sweepFreed = 0;
let sweepAsked = 0;

const dir = mkdtempSync(join(tmpdir(), 'redurable-flow-soak-'));
const workerLog: WriteStream = createWriteStream(join(dir, 'workers.log'), { flags: 'a' });
let redis: EmbeddedRedis = await startEmbeddedRedis({ dir, appendOnly: true, appendFsync: 'always' });
const proxy = await FaultProxy.start({ host: '127.0.0.1', port: redis.port });
const direct = new Redis(redis.url, { maxRetriesPerRequest: null });
direct.on('error', () => undefined);

/** One worker process (on the proxy), restartable after a SIGKILL; its stderr goes to workers.log. */
class WorkerProcess {
  child?: ChildProcess;
  constructor(readonly name: string) {}
  private killedByUs = false;
  start(): void {
    const armed =
      faulting && ARM_CRASH_POINTS && random() < 0.5
        ? {
            REDURABLE_CRASH_POINT: CRASH_POINTS[Math.floor(random() * CRASH_POINTS.length)],
            REDURABLE_CRASH_AFTER: String(1 + Math.floor(random() * 20)),
          }
        : {};
    const child = spawn(process.execPath, [...process.execArgv, WORKER], {
      env: { ...process.env, REDIS_URL: proxy.url, PREFIX, WORKER_NAME: this.name, ...armed },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.killedByUs = false;
    if (armed.REDURABLE_CRASH_POINT)
      workerLog.write(
        `${new Date().toISOString()} soak: ${this.name} armed at ${armed.REDURABLE_CRASH_POINT} after ${armed.REDURABLE_CRASH_AFTER}\n`,
      );
    child.once('exit', (_code, signal) => {
      if (this.killedByUs || signal !== 'SIGKILL') return;
      // It met its crash point: restarted like a SIGKILLed one.
      figures.crashPointKills++;
      workerLog.write(`${new Date().toISOString()} soak: ${this.name} killed itself at its crash point\n`);
      setTimeout(() => this.child === child && this.start(), 300 + random() * 1500);
    });
    let partial = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      workerLog.write(chunk);
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        if (line.includes('was not freed when its run closed; freed now')) sweepFreed++;
        if (line.includes('could not ask for a slot of limit')) sweepAsked++;
      }
    });
    this.child = child;
  }
  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }
  kill(): void {
    if (!this.running) return;
    this.killedByUs = true;
    this.child!.kill('SIGKILL');
    figures.workerKills++;
    workerLog.write(`${new Date().toISOString()} soak: SIGKILL ${this.name}\n`);
  }
  async stop(): Promise<void> {
    if (!this.running) return;
    this.killedByUs = true;
    await stopChild(this.child);
  }
}

const workers = Array.from({ length: WORKERS }, (_, i) => new WorkerProcess(`worker-${i}`));
workers.forEach((w) => w.start());
const app = await NestFactory.createApplicationContext(flowSoakModule(proxy.url, PREFIX, false), { logger: false });
await app.init();
const client = app.get(WorkflowClient);
const { keys } = app.get(DurableRuntime);

interface Planned {
  workflowId: string;
  key: string;
  ms: number;
}
const keyNames = Array.from({ length: KEYS }, (_, i) => `k${i}`);
const plan: Planned[] = Array.from({ length: WORKFLOWS }, (_, i) => ({
  workflowId: `fsoak-${SEED}-${i}`,
  key: keyNames[Math.floor(random() * KEYS)],
  ms: Math.round(STEP_MS * (0.5 + random())),
}));

/** Starts a workflow; a start interrupted by a fault is repeated with the same id (USE_EXISTING makes that safe). */
async function startOne(p: Planned): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await client.start(KeyedWorkflow, {
        workflowId: p.workflowId,
        workflowIdConflictPolicy: attempt === 0 ? 'FAIL' : 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        args: [p.key, p.ms],
      });
      return;
    } catch (err) {
      if ((err as Error).name === 'WorkflowIdReuseError') return; // an earlier attempt started it, and it already ended
      if (attempt >= 60) throw err;
      figures.startRetries++;
      await sleepMs(500);
    }
  }
}

/** The store's own view: the most holders any key had, sampled every 100 ms (outside the proxy). */
let maxHoldersSeen = 0;
let samplesOver = 0;
let maxWaitingSeen = 0;
let sampling = true;
const sampler = (async () => {
  while (sampling) {
    try {
      const pipe = direct.pipeline();
      for (const k of keyNames) pipe.zcard(keys.flowHolders(LIMIT_NAME, k)).zcard(keys.flowWaiters(LIMIT_NAME, k));
      const replies = ((await pipe.exec()) ?? []).map(([, n]) => Number(n));
      const counts = replies.filter((_, i) => i % 2 === 0);
      for (const n of replies.filter((_, i) => i % 2 === 1)) maxWaitingSeen = Math.max(maxWaitingSeen, n);
      for (const [i, n] of counts.entries()) {
        maxHoldersSeen = Math.max(maxHoldersSeen, n);
        if (n > FLOW_SOAK_LIMIT && ++samplesOver <= 5)
          problems.push(`the store listed ${n} holders of key ${keyNames[i]} at ${Date.now()}`);
      }
    } catch {
      // Redis is restarting
    }
    await sleepMs(100);
  }
})();

async function restartRedis(): Promise<void> {
  await redis.stop('SIGKILL');
  figures.redisRestarts++;
  workerLog.write(`${new Date().toISOString()} soak: SIGKILL redis-server\n`);
  await sleepMs(300 + random() * 1200);
  redis = await startEmbeddedRedis({ dir, port: redis.port, appendOnly: true, appendFsync: 'always' });
}

const t0 = Date.now();
log(
  `seed ${SEED}: ${WORKFLOWS} workflows over ${KEYS} keys (limit ${FLOW_SOAK_LIMIT} per key, steps of ${STEP_MS} ms on average), ${SOAK_MS / 1000} s of faults, ${WORKERS} worker processes, logs in ${dir}`,
);
const starting = (async () => {
  const perWave = Math.ceil(WORKFLOWS / WAVES);
  const pending: Promise<void>[] = [];
  for (let w = 0; w < WAVES; w++) {
    const due = t0 + (w * SOAK_MS * 0.7) / WAVES;
    if (due > Date.now()) await sleepMs(due - Date.now());
    const wave = plan.slice(w * perWave, (w + 1) * perWave);
    // 32 starts in flight at once per wave.
    let next = 0;
    pending.push(
      ...Array.from({ length: 32 }, async () => {
        while (next < wave.length) await startOne(wave[next++]);
      }),
    );
  }
  await Promise.all(pending);
})();
let nextRedisRestart = t0 + 8_000 + random() * 8_000;
while (Date.now() - t0 < SOAK_MS) {
  await sleepMs(600 + random() * 1400);
  if (Date.now() >= nextRedisRestart) {
    log(`${((Date.now() - t0) / 1000).toFixed(0)} s: restarting Redis (SIGKILL; AOF always)`);
    await restartRedis().catch((err: Error) => log(`Redis restart failed: ${err.message}`));
    nextRedisRestart = Date.now() + 10_000 + random() * 10_000;
    continue;
  }
  const fault = random();
  if (fault < 0.55 || !PROXY_FAULTS) {
    const w = workers[Math.floor(random() * workers.length)];
    w.kill();
    setTimeout(() => w.start(), 300 + random() * 1500);
  } else if (fault < 0.9) {
    // Half the time a flow script of a workflow's slot (acquire, release, released), else any script.
    const marker = random() < 0.5 ? '"holder":"wf:' : '';
    void proxy.dropReplyOnce(scriptCallWith(marker)).then(() => figures.droppedReplies++);
  } else {
    proxy.resetAll();
    figures.connectionResets++;
  }
}
const faultMs = Date.now() - t0;
faulting = false;
await starting;
log(`faults stopped after ${(faultMs / 1000).toFixed(0)} s; waiting for every workflow to complete`);
await sleepMs(2000); // restarts scheduled in the last loop round
// No crash point from now on: a worker still armed is restarted unarmed.
for (const w of workers) {
  await w.stop();
  w.start();
}

const drainStart = Date.now();
let open = plan.map((p) => p.workflowId);
while (open.length > 0 && Date.now() - drainStart < DRAIN_MS) {
  const statuses = await Promise.all(open.map(async (id) => (await client.getHandle(id).describe()).status));
  for (const [i, status] of statuses.entries())
    if (status !== 'running' && status !== 'completed') problems.push(`workflow ${open[i]} ended ${status}`);
  open = open.filter((_, i) => statuses[i] === 'running');
  if (open.length > 0) await sleepMs(1000);
}
const drainMs = Date.now() - drainStart;
for (const id of open.slice(0, 20)) {
  const d = await client.getHandle(id).describe();
  problems.push(
    `workflow ${id} (run ${d.runId}) still running ${DRAIN_MS / 1000} s after the faults stopped; waitingFor ${JSON.stringify(d.waitingFor)}`,
  );
}
if (open.length > 20) problems.push(`… and ${open.length - 20} more still running`);

// Every slot free: no holders or waiters of any key, nothing in the release or waiting indexes.
async function leftHeld(): Promise<string[]> {
  const left: string[] = [];
  for (const pattern of [`${PREFIX}:flow:*`, `${PREFIX}:*idx:flow-*`]) {
    let cursor = '0';
    do {
      const [next, found] = await direct.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      for (const key of found) {
        const type = await direct.type(key);
        const size = type === 'zset' ? await direct.zcard(key) : type === 'hash' ? await direct.hlen(key) : 0;
        if (size > 0 && !key.endsWith(':starts'))
          left.push(
            `${key} holds ${size}: ${JSON.stringify(type === 'zset' ? await direct.zrange(key, '0', '4') : await direct.hkeys(key))}`,
          );
      }
    } while (cursor !== '0');
  }
  return left;
}
let left = await leftHeld();
const freeStart = Date.now();
while (left.length > 0 && open.length === 0 && Date.now() - freeStart < FREE_WITHIN_MS) {
  await sleepMs(250);
  left = await leftHeld();
}
const freeMs = Date.now() - freeStart;
problems.push(...left.map((l) => `left held ${(freeMs / 1000).toFixed(1)} s after the last workflow completed: ${l}`));
sampling = false;
await sampler;
if (samplesOver > 5) problems.push(`… ${samplesOver} samples of a key over the limit in all`);

// The histories: running intervals per key, from Redis times of the entries (stream ids).
interface Interval {
  workflowId: string;
  from: number;
  to: number;
}
const byKey = new Map<string, Interval[]>();
const streamMs = (id: string) => Number(id.slice(0, id.indexOf('-')));
let completed = 0;
for (const p of plan) {
  const d = await client.getHandle(p.workflowId).describe();
  if (d.status !== 'completed') continue;
  completed++;
  const raw = (await direct.xrange(keys.history(p.workflowId, d.runId), '-', '+')) as [string, string[]][];
  let from: number | undefined;
  let to: number | undefined;
  const seen = new Set<string>();
  for (const [streamId, fields] of raw) {
    const event = JSON.parse(fields[fields.indexOf('e') + 1]) as { type: string; seq?: number };
    if (event.seq !== undefined) {
      const step = `${event.type}#${event.seq}`;
      if (seen.has(step)) problems.push(`workflow ${p.workflowId} recorded ${step} twice`);
      seen.add(step);
    }
    if (event.type === 'ActivityTaskScheduled') from ??= streamMs(streamId);
    if (event.type === 'WorkflowExecutionCompleted') to = streamMs(streamId);
  }
  if (from === undefined || to === undefined) {
    problems.push(`workflow ${p.workflowId} completed without an ActivityTaskScheduled or a close in its history`);
    continue;
  }
  const list = byKey.get(p.key) ?? [];
  list.push({ workflowId: p.workflowId, from, to });
  byKey.set(p.key, list);
}
let maxRunning = 0;
let overlaps = 0;
for (const [key, intervals] of byKey) {
  // Sweep: at equal times an end (0) before a start (1), so touching intervals do not count as overlapping.
  const marks = intervals.flatMap((iv) => [
    { t: iv.from, kind: 1, iv },
    { t: iv.to, kind: 0, iv },
  ]);
  marks.sort((a, b) => a.t - b.t || a.kind - b.kind);
  const running = new Set<Interval>();
  for (const m of marks) {
    if (m.kind === 0) {
      running.delete(m.iv);
      continue;
    }
    running.add(m.iv);
    maxRunning = Math.max(maxRunning, running.size);
    if (running.size > FLOW_SOAK_LIMIT) {
      overlaps++;
      if (overlaps <= 10)
        problems.push(
          `key ${key}: ${running.size} running at ${m.t}: ${[...running].map((iv) => `${iv.workflowId} [${iv.from}, ${iv.to}]`).join(', ')}`,
        );
    }
  }
}
if (overlaps > 10) problems.push(`… ${overlaps} starts over the limit in all`);

console.log('');
console.log(`| flow soak (seed ${SEED}) | |`);
console.log('| --- | ---: |');
console.log(`| workflows (limit ${FLOW_SOAK_LIMIT} per key, ${KEYS} keys, ${WAVES} waves) | ${WORKFLOWS} |`);
console.log(`| completed | ${completed} |`);
console.log(`| fault window | ${(faultMs / 1000).toFixed(0)} s |`);
console.log(`| worker processes (of ${WORKERS}) SIGKILLed | ${figures.workerKills} |`);
console.log(
  `| … that SIGKILLed themselves at a crash point (${CRASH_POINTS.join(', ')}) | ${figures.crashPointKills} |`,
);
console.log(`| Redis SIGKILLed and restarted (AOF always) | ${figures.redisRestarts} |`);
console.log(`| replies dropped with a connection reset | ${figures.droppedReplies} |`);
console.log(`| connection resets | ${figures.connectionResets} |`);
console.log(`| client starts repeated after an error | ${figures.startRetries} |`);
console.log(`| time for the last workflow to complete after the faults stopped | ${(drainMs / 1000).toFixed(1)} s |`);
console.log(`| most running at once of one key, from the histories | ${maxRunning} |`);
console.log(`| most holders of one key in the store (sampled every 100 ms) | ${maxHoldersSeen} |`);
console.log(`| most waiting on one key (sampled) | ${maxWaitingSeen} |`);
console.log(`| slots of closed runs the recovery sweep freed (a SIGKILL came before the release) | ${sweepFreed} |`);
console.log(`| slot requests left to the recovery sweep (Redis unavailable after a start) | ${sweepAsked} |`);
console.log(`| slots, waiters and release entries left | ${left.length === 0 ? 'none' : left.length} |`);
console.log(
  `| audit (all completed, never over the limit, nothing left held, no step recorded twice) | ${problems.length === 0 ? 'holds' : `${problems.length} violations`} |`,
);
for (const p of problems.slice(0, 40)) console.log(`  - ${p}`);

await Promise.all(workers.map((w) => w.stop()));
await app.close();
direct.disconnect();
await proxy.close();
await redis.stop();
workerLog.end();
if (problems.length === 0) rmSync(dir, { recursive: true, force: true });
else console.log(`\ndata directory and workers.log kept in ${dir}`);
process.exit(problems.length === 0 ? 0 : 1);
