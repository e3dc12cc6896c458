/**
 * `npm run soak` (not part of `npm test`): money-transfer sagas under every fault at once, for a
 * bounded time, then an audit. Three worker processes of the sample (SIGKILLed at random and
 * restarted), one redis-server with `appendfsync always` (SIGKILLed and restarted on its
 * data), a TCP proxy between everyone and Redis that drops replies and resets connections, and
 * random deletion of waiting and delayed jobs. After the faults stop, every transfer must end;
 * then no money may be created or lost and each ledger operation must have happened once.
 *
 * Env: SOAK_SECONDS (fault window, default 60), SOAK_TRANSFERS (default 300), SOAK_SEED.
 * Exits 0 when the audit holds, 1 otherwise; prints the figures either way.
 */
import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { WorkflowClient, type HistoryEvent } from 'redurable';
import { createSampleApp } from '../sample-app/sample-app.factory.js';
import { TransferWorkflow } from '../sample-app/transfers/transfer.workflow.js';
import { startEmbeddedRedis, type EmbeddedRedis } from '../tools/embedded-redis.js';
import { FaultProxy, scriptCallWith } from '../tools/fault-proxy.js';
import { auditTransfers, prng, type SettledTransfer } from '../tools/transfer-audit.js';
import { stopChild } from './processes.js';
import { sleepMs } from './stats.js';

const SOAK_MS = Number(process.env.SOAK_SECONDS ?? 60) * 1000;
const TRANSFERS = Number(process.env.SOAK_TRANSFERS ?? 300);
const SEED = Number(process.env.SOAK_SEED ?? Date.now() % 1_000_000);
const WORKERS = 3;
const DRAIN_MS = 180_000;
const PREFIX = 'soak';
const SERVER = fileURLToPath(new URL('../test/fixtures/sample-server.js', import.meta.url));

const log = (msg: string) => process.stderr.write(`  … ${msg}\n`);
const random = prng(SEED);
const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];
const figures = {
  workerKills: 0,
  redisRestarts: 0,
  droppedReplies: 0,
  connectionResets: 0,
  deletedJobs: 0,
  startRetries: 0,
};

const dir = mkdtempSync(join(tmpdir(), 'redurable-soak-'));
let redis: EmbeddedRedis = await startEmbeddedRedis({ dir, appendOnly: true, appendFsync: 'always' });
const proxy = await FaultProxy.start({ host: '127.0.0.1', port: redis.port });
const direct = new Redis(redis.url, { lazyConnect: false, maxRetriesPerRequest: null });
direct.on('error', () => undefined);

/** One sample worker process (on the proxy), restartable after a SIGKILL. */
class WorkerProcess {
  child?: ChildProcess;
  constructor(readonly name: string) {}
  start(): void {
    this.child = spawn(process.execPath, [SERVER], {
      env: { ...process.env, REDIS_URL: proxy.url, PREFIX, PORT: '0' },
      stdio: 'ignore',
    });
  }
  kill(): void {
    this.child?.kill('SIGKILL');
    figures.workerKills++;
  }
  async stop(): Promise<void> {
    await stopChild(this.child);
  }
}

const workers = Array.from({ length: WORKERS }, (_, i) => new WorkerProcess(`worker-${i}`));
workers.forEach((w) => w.start());
// The driver: the sample's API without workers, for accounts and balances, and the client to start transfers.
const driver = await createSampleApp({
  redisUrl: proxy.url,
  port: 0,
  prefix: PREFIX,
  logger: false,
  durable: { worker: false, connectTimeout: '20s' },
});
const client = driver.app.get(WorkflowClient);
const api = async (method: string, path: string, body?: unknown) => {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${driver.url}${path}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    if (res.status < 500 || attempt >= 20)
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    await sleepMs(500); // Redis is restarting
  }
};

const opening = new Map<string, number>();
const balancesAtOpen = [9000, 7000, 5000, 4000, 3000, 2000, 1500, 1000, 700, 500, 300, 200];
for (const [i, balance] of balancesAtOpen.entries()) {
  const id = `soak-${SEED}-acct-${i}`;
  if ((await api('POST', '/accounts', { id, balance })).status !== 201) throw new Error(`could not open account ${id}`);
  opening.set(id, balance);
}
const accounts = [...opening.keys()];
const frozen = accounts[5];
await api('POST', `/accounts/${frozen}/freeze`);

interface Planned {
  workflowId: string;
  from: string;
  to: string;
  amount: number;
  failDeposit?: number;
}
const plan: Planned[] = Array.from({ length: TRANSFERS }, (_, i) => {
  const from = pick(accounts);
  const to = pick(accounts.filter((a) => a !== from));
  const amount = i % 23 === 22 ? 5_000_000 : 1 + Math.floor(random() * 600);
  const failDeposit = i % 7 === 1 ? 1 : i % 7 === 4 ? 2 : i % 13 === 6 ? 5 : undefined;
  return { workflowId: `transfer-soak-${SEED}-${i}`, from, to, amount, ...(failDeposit ? { failDeposit } : {}) };
});

/** Starts a transfer; a start interrupted by a fault is repeated with the same id (USE_EXISTING makes that safe). */
async function startTransfer(t: Planned): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await client.start(TransferWorkflow, {
        workflowId: t.workflowId,
        workflowIdConflictPolicy: attempt === 0 ? 'FAIL' : 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        args: [
          {
            transferId: t.workflowId.slice('transfer-'.length),
            from: t.from,
            to: t.to,
            amount: t.amount,
            failDeposit: t.failDeposit,
          },
        ],
      });
      return;
    } catch (err) {
      if ((err as Error).name === 'WorkflowIdReuseError') return; // an earlier attempt started it, and it already ended
      if (attempt >= 30) throw err;
      figures.startRetries++;
      await sleepMs(500);
    }
  }
}

/** Removes a few random waiting or delayed jobs, as an operator in Bull Board would. */
async function deleteSomeJobs(): Promise<void> {
  for (const name of ['{transfers-activities}', '{transfers-workflows}']) {
    const queue = new Queue(name, { connection: direct, prefix: PREFIX });
    try {
      const jobs = await queue.getJobs(['waiting', 'prioritized', 'delayed'], 0, 50);
      for (let n = 0; n < 2 && jobs.length > 0; n++) {
        const job = jobs.splice(Math.floor(random() * jobs.length), 1)[0];
        if (
          await job.remove().then(
            () => true,
            () => false,
          )
        )
          figures.deletedJobs++;
      }
    } finally {
      await queue.close();
    }
  }
}

async function restartRedis(): Promise<void> {
  await redis.stop('SIGKILL');
  figures.redisRestarts++;
  await sleepMs(300 + random() * 1200);
  redis = await startEmbeddedRedis({ dir, port: redis.port, appendOnly: true, appendFsync: 'always' });
}

const t0 = Date.now();
log(`seed ${SEED}: ${TRANSFERS} transfers over ${SOAK_MS / 1000} s of faults, ${WORKERS} worker processes`);
const starting = (async () => {
  const gap = (SOAK_MS * 0.7) / TRANSFERS;
  const pending: Promise<void>[] = [];
  for (const t of plan) {
    pending.push(startTransfer(t));
    await sleepMs(gap);
  }
  await Promise.all(pending);
})();
let nextRedisRestart = t0 + 10_000 + random() * 10_000;
while (Date.now() - t0 < SOAK_MS) {
  await sleepMs(700 + random() * 1600);
  if (Date.now() >= nextRedisRestart) {
    log('restarting Redis (SIGKILL; AOF always)');
    await restartRedis().catch((err: Error) => log(`Redis restart failed: ${err.message}`));
    nextRedisRestart = Date.now() + 12_000 + random() * 10_000;
    continue;
  }
  const fault = random();
  if (fault < 0.3) {
    const w = pick(workers);
    w.kill();
    setTimeout(() => w.start(), 300 + random() * 1500);
  } else if (fault < 0.6) {
    void proxy.dropReplyOnce(scriptCallWith('')).then(() => figures.droppedReplies++);
  } else if (fault < 0.75) {
    proxy.resetAll();
    figures.connectionResets++;
  } else {
    await deleteSomeJobs().catch((err: Error) => log(`deleting jobs failed: ${err.message}`));
  }
}
await starting;
log(`faults stopped after ${((Date.now() - t0) / 1000).toFixed(0)} s; waiting for every transfer to end`);
for (const w of workers) if (w.child?.exitCode !== null || w.child?.signalCode !== null) w.start();

const drainStart = Date.now();
let open = plan.map((t) => t.workflowId);
while (open.length > 0 && Date.now() - drainStart < DRAIN_MS) {
  const statuses = await Promise.all(open.map(async (id) => (await client.getHandle(id).describe()).status));
  open = open.filter((_, i) => statuses[i] === 'running');
  if (open.length > 0) await sleepMs(1000);
}
const drainMs = Date.now() - drainStart;

const settled: SettledTransfer[] = await Promise.all(
  plan.map(async (t) => {
    const d = await client.getHandle(t.workflowId).describe();
    return { ...t, status: d.status, failureType: (d.failure as { type?: string } | undefined)?.type };
  }),
);
const balances = new Map<string, number>();
for (const id of accounts) balances.set(id, (await api('GET', `/accounts/${id}`)).body.balance as number);
const problems =
  open.length > 0
    ? open.map((id) => `transfer ${id} still running ${DRAIN_MS / 1000} s after the faults stopped`)
    : await auditTransfers(direct, opening, balances, settled);
// Histories: no step recorded twice.
for (const t of plan) {
  const history = await client
    .getHandle(t.workflowId)
    .fetchHistory()
    .catch((): HistoryEvent[] => []);
  const seen = new Set<string>();
  for (const e of history) {
    if (!('seq' in e)) continue;
    const key = `${e.type}#${e.seq}`;
    if (seen.has(key)) problems.push(`transfer ${t.workflowId} recorded ${key} twice`);
    seen.add(key);
  }
}

const count = (status: string, type?: string) =>
  settled.filter((s) => s.status === status && (!type || s.failureType === type)).length;
console.log('');
console.log(`| soak (seed ${SEED}) | |`);
console.log('| --- | ---: |');
console.log(
  `| transfers | ${TRANSFERS} (${count('completed')} completed, ${count('failed', 'TransferRefunded')} refunded, ${count('failed', 'TransferFailed')} refused) |`,
);
console.log(`| fault window | ${SOAK_MS / 1000} s |`);
console.log(`| worker processes SIGKILLed | ${figures.workerKills} |`);
console.log(`| Redis SIGKILLed and restarted (AOF always) | ${figures.redisRestarts} |`);
console.log(`| replies dropped with a connection reset | ${figures.droppedReplies} |`);
console.log(`| connection resets | ${figures.connectionResets} |`);
console.log(`| waiting or delayed jobs deleted | ${figures.deletedJobs} |`);
console.log(`| client starts repeated after an error | ${figures.startRetries} |`);
console.log(`| time for the last transfer to end after the faults stopped | ${(drainMs / 1000).toFixed(1)} s |`);
console.log(
  `| audit (money conserved, each ledger operation once, no step recorded twice) | ${problems.length === 0 ? 'holds' : `${problems.length} violations`} |`,
);
for (const p of problems.slice(0, 30)) console.log(`  - ${p}`);

await Promise.all(workers.map((w) => w.stop()));
await driver.close();
direct.disconnect();
await proxy.close();
await redis.stop();
rmSync(dir, { recursive: true, force: true });
process.exit(problems.length === 0 ? 0 : 1);
