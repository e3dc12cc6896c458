/**
 * The baseline: a plain BullMQ job chain. Each job's processor adds the next job of its chain;
 * a chain ends when its last job is completed (the worker's 'completed' event, emitted after
 * BullMQ has moved the job to completed). One ioredis connection is shared by the Queue and
 * the Worker (the Worker duplicates it for its blocking reads), as Redurable does, and jobs
 * are retained like Redurable's activity jobs (removeOnComplete: { count: 1000 }).
 * Also the baseline of timer lateness: plain BullMQ delayed jobs.
 */
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';

interface StepData {
  chain: string;
  i: number;
  n: number;
}

const JOB_OPTS = { removeOnComplete: { count: 1000 }, removeOnFail: { count: 5000 } };

export class RawChain {
  readonly connection: Redis;
  private readonly queue: Queue<StepData>;
  private readonly worker: Worker<StepData>;
  private readonly waiters = new Map<string, () => void>();

  private constructor(url: string, prefix: string, concurrency: number) {
    this.connection = new Redis(url, { maxRetriesPerRequest: null });
    this.connection.on('error', () => undefined);
    this.queue = new Queue<StepData>('chain', { connection: this.connection, prefix });
    this.worker = new Worker<StepData>('chain', (job) => this.process(job), {
      connection: this.connection,
      prefix,
      concurrency,
      autorun: false,
    });
    this.worker.on('completed', (job) => {
      if (job.data.i + 1 >= job.data.n) this.waiters.get(job.data.chain)?.();
    });
    this.worker.on('error', (err) => console.error(`raw worker: ${err.message}`));
  }

  static async start(url: string, prefix: string, concurrency: number): Promise<RawChain> {
    const chain = new RawChain(url, prefix, concurrency);
    void chain.worker.run();
    await chain.worker.waitUntilReady();
    await chain.queue.waitUntilReady();
    return chain;
  }

  private async process(job: Job<StepData>): Promise<number> {
    const { chain, i, n } = job.data;
    if (i + 1 < n) await this.queue.add('step', { chain, i: i + 1, n }, JOB_OPTS);
    return i + 1;
  }

  /** Runs one chain of `steps` jobs and resolves when its last job is completed. */
  run(chain: string, steps: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiters.set(chain, () => {
        this.waiters.delete(chain);
        resolve();
      });
      this.queue.add('step', { chain, i: 0, n: steps }, JOB_OPTS).catch(reject);
    });
  }

  async close(): Promise<void> {
    await this.worker.close();
    await this.queue.close();
    await this.connection.quit().catch(() => this.connection.disconnect());
  }
}

/**
 * Lateness (ms) of `count` BullMQ delayed jobs with `delayMs`, added `spacingMs` apart: when the
 * worker started each (Date.now() in the processor) minus its job.timestamp + delay. Warmed up once.
 */
export async function rawDelayLateness(
  url: string,
  prefix: string,
  count: number,
  delayMs: number,
  spacingMs: number,
): Promise<number[]> {
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  connection.on('error', () => undefined);
  const queue = new Queue('delayed', { connection, prefix });
  let late: number[] = [];
  let expected = 0;
  let onAll = () => {};
  const worker = new Worker(
    'delayed',
    async (job) => {
      late.push(Date.now() - (job.timestamp + (job.opts.delay ?? 0)));
      if (late.length === expected) onAll();
    },
    { connection, prefix, concurrency: 64 },
  );
  try {
    await worker.waitUntilReady();
    const round = async (n: number) => {
      late = [];
      expected = n;
      const all = new Promise<void>((r) => (onAll = r));
      const adding: Promise<unknown>[] = [];
      for (let i = 0; i < n; i++) {
        adding.push(queue.add('t', {}, { delay: delayMs, ...JOB_OPTS }));
        await new Promise((r) => setTimeout(r, spacingMs));
      }
      await Promise.all(adding);
      await all;
      return late;
    };
    await round(16);
    return await round(count);
  } finally {
    await worker.close();
    await queue.close();
    await connection.quit().catch(() => connection.disconnect());
  }
}
