/**
 * The scale-out part of `npm run bench`: steps/s of ten-step workflows, 64 in flight, started by
 * a client-only process and run by 1, 2 and 3 worker processes, on one Redis and on a 3-master
 * Redis Cluster (both private, no persistence). On a 2-core machine more workers cannot add
 * throughput (the workers, the client and Redis share the cores); what it shows is that the
 * Cluster costs nothing at one worker and that the work splits across processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RedisConnectionOption } from 'redurable';
import { runChain, startBenchApp } from './redurable-chain.js';
import { closedLoop, fixedCount } from './stats.js';

const WORKER = fileURLToPath(new URL('./worker-process.js', import.meta.url));
const SLOTS = 64;
const STEPS = 10;

function startWorker(connection: RedisConnectionOption, prefix: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--conditions=redurable-internal', WORKER], {
    env: {
      ...process.env,
      BENCH_CONNECTION: typeof connection === 'string' ? connection : JSON.stringify(connection),
      BENCH_PREFIX: prefix,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`bench worker exited with ${code} before it was ready`)));
  });
}

async function stopWorker(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** Steps/s with `workers` worker processes, after a warm-up round. */
export async function scaleOut(
  connection: RedisConnectionOption,
  prefix: string,
  workers: number,
  roundMs: number,
): Promise<number> {
  const children = await Promise.all(Array.from({ length: workers }, () => startWorker(connection, prefix)));
  const client = await startBenchApp(connection, prefix, { worker: false });
  try {
    await fixedCount(SLOTS, 2 * SLOTS, (n) => runChain(client.client, `warm-${n}`, STEPS));
    const { units, elapsedMs } = await closedLoop(SLOTS, roundMs, (n) => runChain(client.client, `run-${n}`, STEPS));
    return (units * STEPS) / (elapsedMs / 1000);
  } finally {
    await client.close();
    await Promise.all(children.map(stopWorker));
  }
}
