import type { Logger, StoredDefinition } from '../core/ports/index.js';
import { Worker, type Job } from 'bullmq';
import { duplicateClient, type RedisClient } from '../store/redis-client.js';
import { scheduleQueueName } from '../store/keys.js';
import type { QueueSet, ScheduleJobData } from './queue-set.js';

/** Finished jobs kept on the queue, for Bull Board. */
const KEEP = { completed: 100, failed: 1000 };

/**
 * The BullMQ side of schedules: one job scheduler per schedule on the prefix's schedule queue,
 * whose jobs only wake the schedule (the processor decides from its state what is due), and
 * the worker that handles those wakes in every process with workers.
 */
export class ScheduleWakeups {
  private worker?: Worker<ScheduleJobData>;
  private connection?: RedisClient;

  private readonly queues: QueueSet;
  private readonly logger: Logger;

  constructor(deps: { queues: QueueSet; logger: Logger }) {
    this.queues = deps.queues;
    this.logger = deps.logger;
  }

  /**
   * Creates or replaces the schedule's job scheduler, or removes it when the schedule is paused
   * or past its end (BullMQ refuses an end date in the past).
   */
  async sync(scheduleId: string, def: StoredDefinition, paused: boolean, now: number): Promise<void> {
    const { spec } = def;
    if (paused || (spec.endAt !== undefined && spec.endAt <= now)) return this.remove(scheduleId);
    await this.queues.schedules().upsertJobScheduler(
      scheduleId,
      {
        ...(spec.cron !== undefined
          ? { pattern: spec.cron, ...(spec.timezone ? { tz: spec.timezone } : {}) }
          : { every: spec.everyMs }),
        ...(spec.startAt !== undefined && spec.startAt > now ? { startDate: spec.startAt } : {}),
        ...(spec.endAt !== undefined ? { endDate: spec.endAt } : {}),
      },
      {
        name: 'fire',
        data: { scheduleId },
        opts: { removeOnComplete: { count: KEEP.completed }, removeOnFail: { count: KEEP.failed } },
      },
    );
  }

  async remove(scheduleId: string): Promise<void> {
    await this.queues.schedules().removeJobScheduler(scheduleId);
  }

  /** Whether the schedule has a job scheduler, and when it next wakes. */
  async scheduled(scheduleId: string): Promise<{ next?: number } | undefined> {
    const found = await this.queues.schedules().getJobScheduler(scheduleId);
    return found ? { next: found.next } : undefined;
  }

  /**
   * A wake in `delayMs`, to start a buffered fire once its blockers close; each such wake asks
   * again while the fire stays buffered. One job per schedule and slot of `delayMs`, however
   * many processes ask.
   */
  async checkSoon(scheduleId: string, delayMs: number): Promise<void> {
    const slot = Math.floor(Date.now() / delayMs);
    await this.queues.schedules().add(
      'check',
      { scheduleId },
      {
        jobId: `check-${scheduleId}-${delayMs}-${slot}`,
        delay: delayMs,
        removeOnComplete: true,
        removeOnFail: { count: KEEP.failed },
      },
    );
  }

  /** Starts the worker that wakes the schedule of each job (on a connection of its own, like `redis`). */
  async start(
    redis: RedisClient,
    prefix: string,
    schedules: { wake(scheduleId: string, early: boolean): Promise<unknown> },
  ): Promise<void> {
    this.connection = duplicateClient(redis);
    this.connection.on('error', () => undefined);
    this.worker = new Worker<ScheduleJobData>(
      scheduleQueueName(),
      (job: Job<ScheduleJobData>) => schedules.wake(job.data.scheduleId, job.name === 'fire'),
      { connection: this.connection, prefix, concurrency: 4, autorun: false },
    );
    this.worker.on('error', (err) =>
      this.logger.error(`Worker of queue ${scheduleQueueName()}: ${err.message}`, err.stack),
    );
    this.worker.on('failed', (job, err) =>
      this.logger.error(`Schedule wake ${job?.id} failed (the next wake catches up): ${err.message}`, err.stack),
    );
    void this.worker
      .run()
      .catch((err: Error) =>
        this.logger.error(`Worker of queue ${scheduleQueueName()} stopped: ${err.message}`, err.stack),
      );
    await this.worker.waitUntilReady();
  }

  isRunning(): boolean {
    return this.worker?.isRunning() ?? false;
  }

  /** Stops the worker: waits for the wakes it runs, or, with `force`, drops its connections at once. */
  async close({ force = false }: { force?: boolean } = {}): Promise<void> {
    // The worker stays reachable until a close finishes: a forced close after a graceful one that
    // hangs (Redis gone) still disconnects it.
    const worker = this.worker;
    if (worker) {
      if (force) void worker.disconnect().catch(() => undefined);
      await worker.close(force).catch(() => undefined);
      if (this.worker === worker) this.worker = undefined;
    }
    if (force) this.connection?.disconnect();
    else await this.connection?.quit().catch(() => this.connection?.disconnect());
  }
}
