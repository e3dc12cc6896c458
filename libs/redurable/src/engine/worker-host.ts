import { setMaxListeners } from 'node:events';
import { installDeterminism } from '../workflow/determinism.js';
import { Worker, type Job } from 'bullmq';
import { duplicateClient, type RedisClient } from '../store/redis-client.js';
import { BACKOFF_TYPE } from '../queues/dispatcher.js';
import { activityQueueName, buildQueueName, workflowQueueName } from '../store/keys.js';
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
  settings: {
    prefix: string;
    concurrency: number;
    workflowConcurrency: number;
    lockDurationMs: number;
    /** This process's build: its workers also take the tasks of runs pinned to it, from the build's queue. */
    buildId?: string;
  };
}

/**
 * The BullMQ workers of one process: per served task queue, one worker for workflow tasks
 * and timers, one for activities (per partition), and with a `buildId` one for the tasks of
 * runs pinned to that build. `close()` stops fetching and waits for running jobs.
 */
export class WorkerHost {
  private workers: Worker[] = [];
  /** The workers of each task queue's shared workflow queues, one per partition (none while a newer build takes them, see supersede). */
  private readonly shared = new Map<string, Worker[]>();
  /** Shared workflow queue workers closing because a newer build took their queue (awaited by close). */
  private readonly retiring = new Set<Worker>();
  /** Each served task queue's partition count. */
  private readonly partitionCounts = new Map<string, number>();
  /** Set by close and forceClose: a late supersede starts nothing. */
  private closed = false;
  private started = false;
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

  /**
   * Stops taking from the shared workflow queues of `taskQueues` (a newer build's workers serve
   * them: new runs start there, and runs pinned here still come through this build's queue),
   * and takes again from those of the other task queues. The workers of a queue left are closed
   * (their running jobs finish; closing ends a blocking fetch at once, where pausing would still
   * take the job it returns); a task one of them took just before runs only for a run pinned to
   * this build (else it goes back to the queue, see TaskOptions.pinnedOnly).
   */
  async supersede(taskQueues: Set<string>): Promise<void> {
    this.deps.served.superseded = taskQueues;
    if (this.closed || !this.started) return; // start() reads the set
    for (const taskQueue of this.taskQueues) {
      const running = this.shared.get(taskQueue) ?? [];
      if (taskQueues.has(taskQueue) && running.length > 0) {
        this.shared.set(taskQueue, []);
        this.workers = this.workers.filter((w) => !running.includes(w));
        for (const w of running) {
          this.retiring.add(w);
          void w
            .close()
            .catch((err: Error) => this.deps.logger.warn(`Worker of queue ${w.name} did not close: ${err.message}`))
            .finally(() => this.retiring.delete(w));
        }
      } else if (!taskQueues.has(taskQueue) && running.length === 0) {
        const partitions = this.partitionCounts.get(taskQueue) ?? 1;
        for (let partition = 0; partition < partitions; partition++) this.startShared(taskQueue, partition);
      }
    }
  }

  async start(): Promise<void> {
    this.started = true;
    this.releaseDeterminism = installDeterminism();
    const { activities } = this.deps;
    for (const taskQueue of this.taskQueues) {
      const partitions = await this.deps.partitions.of(taskQueue);
      this.deps.slots.serve(taskQueue, this.deps.settings.concurrency * partitions);
      this.partitionCounts.set(taskQueue, partitions);
      const build = this.deps.settings.buildId;
      for (let partition = 0; partition < partitions; partition++) {
        this.startPartition(taskQueue, partition);
        if (build)
          this.startWorker(this.workflowWorker(buildQueueName(taskQueue, build, partition), taskQueue, false), true);
      }
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
    const { settings: options, activityJobs } = this.deps;
    // Workers poll on their own connection so their commands never queue ahead of the history scripts.
    const redis = this.connection;
    if (!this.deps.served.superseded.has(taskQueue)) this.startShared(taskQueue, partition);
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
    this.startWorker(activityWorker, false);
  }

  /** The worker of a partition's shared workflow queue. */
  private startShared(taskQueue: string, partition: number): void {
    const worker = this.workflowWorker(workflowQueueName(taskQueue, partition), taskQueue, true);
    this.shared.set(taskQueue, [...(this.shared.get(taskQueue) ?? []), worker]);
    this.startWorker(worker, true);
  }

  /** A worker of a workflow queue (`shared`, or a build's) of `taskQueue`: timers, timeouts and tasks. */
  private workflowWorker(queueName: string, taskQueue: string, shared: boolean): Worker<WorkflowJobData> {
    const options = this.deps.settings;
    return new Worker<WorkflowJobData>(
      queueName,
      (job: Job<WorkflowJobData>) => this.untilForced(this.workflowJob(job, taskQueue, shared)),
      {
        connection: this.connection,
        prefix: options.prefix,
        concurrency: options.workflowConcurrency,
        autorun: false,
        // A timer job or task interrupted by a crash comes back after the lock, like an activity.
        lockDuration: options.lockDurationMs,
        stalledInterval: options.lockDurationMs,
        maxStalledCount: 1_000_000,
      },
    );
  }

  /** Runs a worker, logging its errors (and a workflow queue's failed jobs). */
  private startWorker(w: Worker, workflowQueue: boolean): void {
    const { logger } = this.deps;
    w.on('error', (err) => logger.error(`Worker of queue ${w.name}: ${err.message}`, err.stack));
    w.on('failed', (job, err) => {
      if (job && workflowQueue) logger.error(`Workflow job ${job.id} failed: ${err.message}`, err.stack);
    });
    void w.run().catch((err: Error) => logger.error(`Worker of queue ${w.name} stopped: ${err.message}`, err.stack));
    this.workers.push(w);
  }

  /** A job of the workflow queue: a timer firing, a workflow timeout, or a workflow task. */
  private async workflowJob(job: Job<WorkflowJobData>, taskQueue: string, shared: boolean): Promise<void> {
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
      const pinnedOnly = shared && this.deps.served.superseded.has(taskQueue);
      await this.deps.runner.run(workflowId, runId, taskQueue, undefined, { replay, pinnedOnly });
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
    this.closed = true;
    await Promise.all([...[...this.workers, ...this.retiring].map((w) => w.close()), this.deps.eager.settled()]);
    this.shutdown.abort();
    this.releaseDeterminism?.();
    await this.connection.quit().catch(() => this.connection.disconnect());
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }

  /** Shutdown that does not wait: running activities see their AbortSignal, connections are dropped. */
  async forceClose(): Promise<void> {
    this.closed = true;
    this.deps.served.set([]);
    this.shutdown.abort();
    this.forceStop(new Error('the worker was shut down before this job finished'));
    // Running eager activities go to their queues at once (another worker takes them within a second).
    await Promise.race([this.deps.eager.handOverAll(), new Promise((r) => setTimeout(r, 500).unref())]);
    this.releaseDeterminism?.();
    this.connection.disconnect();
    this.subscriber.disconnect();
    // disconnect() drops BullMQ's own blocking connections too, which close(true) may not reach with Redis gone.
    const all = [...this.workers, ...this.retiring];
    for (const w of all) void w.disconnect().catch(() => undefined);
    await Promise.all(all.map((w) => w.close(true).catch(() => undefined)));
  }
}
