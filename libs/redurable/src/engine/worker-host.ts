import { setMaxListeners } from 'node:events';
import { installDeterminism } from '../workflow/determinism.js';
import { Worker, type Job } from 'bullmq';
import { duplicateClient, type RedisClient } from '../store/redis-client.js';
import { BACKOFF_TYPE } from '../queues/dispatcher.js';
import { activityQueueName, workflowQueueName } from '../store/keys.js';
import type { Logger } from '../core/ports/index.js';
import type { Clock } from '../core/ports/index.js';
import type { ActivityJobs, CompletionSink } from './activity-jobs.js';
import type { ActivityRunner } from './activity-runner.js';
import type { SlotTable } from './activity-slots.js';
import type { EagerActivities } from './eager-activities.js';
import type { RunTimeouts } from './run-timeouts.js';
import type { ServedQueues } from './served-queues.js';
import type { WorkflowTaskRunner } from './task-runner.js';
import type { PartitionTable } from '../queues/partitions.js';
import type { ActivityJobData, WorkflowJobData } from '../queues/queue-set.js';

/** How early a timer job may arrive and still be held until its due time. */
const MAX_EARLY_WAIT_MS = 1000;

export interface WorkerHostDeps {
  /** Duplicated for the workers' connection and the cancel subscription. */
  redis: RedisClient;
  partitions: PartitionTable;
  runner: WorkflowTaskRunner;
  /** Aborts a cancelled or terminated workflow's running activities. */
  activities: ActivityRunner;
  activityJobs: ActivityJobs;
  /** Eager activities: waited for on close, handed to their queues on a forced shutdown. */
  eager: EagerActivities;
  /** Filled with each served task queue's activity slots (concurrency × partitions). */
  slots: SlotTable;
  /** Where a fired timer's outcome goes. */
  complete: CompletionSink;
  /** Closes a run that reached its workflow timeout (a timeout job fired). */
  timeouts: RunTimeouts;
  /** Filled with the task queues once the workers run. */
  served: ServedQueues;
  logger: Logger;
  /** Workflow time (timers never fire before it). */
  clock: Clock;
  cancelChannel: string;
  settings: { prefix: string; concurrency: number; workflowConcurrency: number; lockDurationMs: number };
}

/**
 * The BullMQ workers of one process: per served task queue, one worker for workflow tasks
 * and timers, one for activities. `close()` stops fetching and waits for running jobs.
 */
export class WorkerHost {
  private readonly workers: Worker[] = [];
  private readonly shutdown = new AbortController();
  /**
   * Rejects at a forced shutdown: every job processor races it, so BullMQ's workers stop even
   * when a job cannot finish (a stuck activity, Redis gone), and their timers with them. The job
   * stays active in Redis and comes back after its lock, as after a crash.
   */
  private readonly forced: Promise<never>;
  private forceStop!: (err: Error) => void;
  private readonly taskQueues: string[];
  private readonly connection: RedisClient;
  private readonly subscriber: RedisClient;
  /** Releases the determinism guard, installed while these workers may run workflow code. */
  private releaseDeterminism?: () => void;

  constructor(
    private readonly deps: WorkerHostDeps,
    taskQueues: string[],
  ) {
    this.taskQueues = [...new Set(taskQueues)];
    this.forced = new Promise<never>((_, reject) => (this.forceStop = reject));
    this.forced.catch(() => undefined);
    // Every running activity listens for the shutdown: as many listeners as `concurrency`, by design.
    setMaxListeners(0, this.shutdown.signal);
    this.connection = duplicateClient(deps.redis);
    this.connection.on('error', () => undefined);
    this.subscriber = duplicateClient(deps.redis);
    this.subscriber.on('error', () => undefined);
  }

  /** How many of this process's BullMQ workers are running. */
  status(): { running: number; total: number } {
    return { running: this.workers.filter((w) => w.isRunning()).length, total: this.workers.length };
  }

  async start(): Promise<void> {
    this.releaseDeterminism = installDeterminism();
    const { activities } = this.deps;
    for (const taskQueue of this.taskQueues) {
      const partitions = await this.deps.partitions.of(taskQueue);
      this.deps.slots.serve(taskQueue, this.deps.settings.concurrency * partitions);
      for (let partition = 0; partition < partitions; partition++) this.startPartition(taskQueue, partition);
    }
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
    // Cancellation and termination reach running activities through their AbortSignal.
    this.subscriber.on('message', (_channel: string, message: string) => {
      const at = message.indexOf(':');
      activities.abortWorkflow(message.slice(at + 1), message.slice(0, at) === 'cancel' ? 'cancel' : 'terminate');
    });
    await this.subscriber.subscribe(this.deps.cancelChannel);
    this.deps.served.set(this.taskQueues);
  }

  /** One workflow worker and one activity worker for a partition of a task queue (each BullMQ worker has its own blocking connection). */
  private startPartition(taskQueue: string, partition: number): void {
    const { settings: options, activityJobs, logger } = this.deps;
    // Workers poll on their own connection so their commands never queue ahead of the history scripts.
    const redis = this.connection;
    const workflowWorker = new Worker<WorkflowJobData>(
      workflowQueueName(taskQueue, partition),
      (job: Job<WorkflowJobData>) => this.untilForced(this.workflowJob(job, taskQueue)),
      {
        connection: redis,
        prefix: options.prefix,
        concurrency: options.workflowConcurrency,
        autorun: false,
        // A timer job or task interrupted by a crash comes back after the lock, like an activity.
        lockDuration: options.lockDurationMs,
        stalledInterval: options.lockDurationMs,
        maxStalledCount: 1_000_000,
      },
    );
    const activityWorker = new Worker<ActivityJobData>(
      activityQueueName(taskQueue, partition),
      (job: Job<ActivityJobData>, token?: string) =>
        this.untilForced(activityJobs.process(job, this.shutdown.signal, token)),
      {
        connection: redis,
        prefix: options.prefix,
        concurrency: options.concurrency,
        lockDuration: options.lockDurationMs,
        stalledInterval: options.lockDurationMs,
        // A job whose worker died is retried however often that happens; the retry policy governs failures.
        maxStalledCount: 1_000_000,
        autorun: false,
        settings: {
          backoffStrategy: (attemptsMade: number, type?: string, _err?: Error, job?: unknown) =>
            type === BACKOFF_TYPE && job ? activityJobs.backoff(attemptsMade, job as Job<ActivityJobData>) : 1000,
        },
      },
    );
    for (const w of [workflowWorker, activityWorker]) {
      w.on('error', (err) => logger.error(`Worker of queue ${w.name}: ${err.message}`, err.stack));
      w.on('failed', (job, err) => {
        if (job && w === workflowWorker) logger.error(`Workflow job ${job.id} failed: ${err.message}`, err.stack);
      });
      void w.run().catch((err: Error) => logger.error(`Worker of queue ${w.name} stopped: ${err.message}`, err.stack));
      this.workers.push(w);
    }
  }

  /** A job of the workflow queue: a timer firing, a workflow timeout, or a workflow task. */
  private async workflowJob(job: Job<WorkflowJobData>, taskQueue: string): Promise<void> {
    const { workflowId, runId, seq, replay } = job.data;
    if (job.name === 'timer' && seq !== undefined) {
      // BullMQ promotes a delayed job by Redis' clock, rounded: it can come a millisecond or
      // two before the due time. A durable timer never fires early (bounded wait, in case
      // the clocks of two machines disagree by more).
      await this.holdUntil(job.data.dueAt ?? 0);
      await this.deps.complete(
        { workflowId, runId, workflowTaskQueue: taskQueue, workflowPriority: job.data.priority },
        { type: 'TimerFired', seq },
      );
    } else if (job.name === 'timeout' && job.data.timeoutType) {
      await this.holdUntil(job.data.dueAt ?? 0);
      await this.deps.timeouts.timeOut(workflowId, runId, {
        timeoutType: job.data.timeoutType,
        timeoutMs: job.data.timeoutMs ?? 0,
      });
    } else {
      await this.deps.runner.run(workflowId, runId, taskQueue, undefined, { replay });
    }
  }

  /** `work`, unless a forced shutdown comes first (then the job is left to come back after its lock). */
  private untilForced<T>(work: Promise<T>): Promise<T> {
    // Once the race is lost, the job's own end (often an error: the connections are gone) is nobody's concern.
    work.catch(() => undefined);
    return Promise.race([work, this.forced]);
  }

  /** Waits until a due time (workflow time) that a delayed job reached a little early, within bounds. */
  private async holdUntil(dueAt: number): Promise<void> {
    const early = dueAt - this.deps.clock.now();
    if (early > 0 && early <= MAX_EARLY_WAIT_MS) await new Promise((r) => setTimeout(r, early));
  }

  /** Stops fetching, waits for the running jobs and eager activities, then closes the connections. */
  async close(): Promise<void> {
    await Promise.all([...this.workers.map((w) => w.close()), this.deps.eager.settled()]);
    this.shutdown.abort();
    this.releaseDeterminism?.();
    await this.connection.quit().catch(() => this.connection.disconnect());
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }

  /** Shutdown that does not wait: running activities see their AbortSignal, connections are dropped. */
  async forceClose(): Promise<void> {
    this.deps.served.set([]);
    this.shutdown.abort();
    this.forceStop(new Error('the worker was shut down before this job finished'));
    // Running eager activities go to their queues at once (another worker takes them within a second).
    await Promise.race([this.deps.eager.handOverAll(), new Promise((r) => setTimeout(r, 500).unref())]);
    this.releaseDeterminism?.();
    this.connection.disconnect();
    this.subscriber.disconnect();
    // disconnect() drops BullMQ's own blocking connections too, which close(true) may not reach with Redis gone.
    for (const w of this.workers) void w.disconnect().catch(() => undefined);
    await Promise.all(this.workers.map((w) => w.close(true).catch(() => undefined)));
  }
}
