import { consoleLogger, silentLogger, withContext, type Logger } from './core/ports/index.js';
import type { RedisClient } from './store/redis-client.js';
import { ActivityExecutor, type CompletionSink } from './engine/activity-executor.js';
import { DurableRegistry } from './core/definitions/registry.js';
import { KEY_LAYOUT_VERSION, KeyNames } from './store/keys.js';
import { InvalidOptionsError, KeyLayoutMismatchError } from './core/errors/library.errors.js';
import { DEFAULT_SHARDS } from './store/shards.js';
import { PartitionTable } from './queues/partitions.js';
import type { Lease } from './core/ports/index.js';
import { RedisHistoryStore } from './store/history-store.js';
import { RedisIndexStore } from './store/index-store.js';
import { RedisCatalogStore } from './store/catalog-store.js';
import { DataConverter } from './core/payload/data-converter.js';
import { WorkflowCache } from './engine/workflow-cache.js';
import { WorkflowTaskRunner } from './engine/task-runner.js';
import { ChildWorkflows } from './engine/child-workflows.js';
import { ClosedWatcher } from './store/closed-watcher.js';
import { Dispatcher } from './queues/dispatcher.js';
import { QueueSet } from './queues/queue-set.js';
import { RecoverySweep } from './engine/recovery-sweep.js';
import { MetricsSink, prometheusMetrics } from './observability/metrics.js';
import type { DurableHealth } from './core/health-report.js';
import { loadTracing } from './observability/tracing.js';
import { WorkerHost } from './engine/worker-host.js';
import { WorkflowWrites } from './queues/workflow-writes.js';
import type { ClientContext } from './client/client-context.js';
import type { RunDeadline } from './core/workflow-timeouts.js';
import type { ResolvedDurableOptions } from './options.js';
import { endpointOf, openConnection } from './store/connection-option.js';
import { RedisLink } from './store/redis-link.js';
import { WorkflowClient } from './client/workflow-client.js';
import { ScheduleStore } from './store/schedule-store.js';
import { ScheduleProcessor } from './client/schedules/schedule-processor.js';
import { ScheduleWakeups } from './queues/schedule-wakeups.js';
import { upsertDeclaredSchedules } from './client/schedules/declared-schedules.js';
import { recoverSchedules } from './client/schedules/schedule-recovery.js';

/** Resolves with true when `work` settles within `ms`, false when the time ran out first. */
function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
  ]).finally(() => clearTimeout(timer));
}

/**
 * The composition root of one process: connection, history store, queues, task runner,
 * activity executor, workers and recovery sweep. The Nest module creates one; tests and
 * scripts can create one directly.
 */
export class DurableRuntime {
  readonly registry = new DurableRegistry();
  readonly redis: RedisClient;
  /** The main connection's state: bounded waits for boot and client calls, drop/recovery logs. */
  readonly link: RedisLink;
  readonly keys: KeyNames;
  /** Workflow metas and run histories. */
  readonly histories: RedisHistoryStore;
  /** The shards' listing, recovery and child indexes. */
  readonly indexes: RedisIndexStore;
  /** Key layout, partition counts, workflow types and search attribute declarations. */
  readonly catalog: RedisCatalogStore;
  readonly converter: DataConverter;
  readonly queues: QueueSet;
  readonly dispatcher: Dispatcher;
  readonly cache: WorkflowCache;
  readonly runner: WorkflowTaskRunner;
  readonly executor: ActivityExecutor;
  readonly watcher: ClosedWatcher;
  readonly children: ChildWorkflows;
  /** Records events from outside a task (outcomes, signals, cancel, terminate) and wakes the workflow. */
  readonly writes: WorkflowWrites;
  /** What `WorkflowClient` and its handles use. */
  readonly client: ClientContext;
  /** Handles schedule fires: BullMQ wakes and a test environment's moved clock both call `wake`. */
  readonly schedules: ScheduleProcessor;
  private readonly scheduleWakeups: ScheduleWakeups;
  private scheduleRecovery?: Promise<void>;
  readonly logger: Logger;
  /** Where the parts report what they measure (no-op until `metrics` turns Prometheus on at connect). */
  readonly metrics = new MetricsSink();
  /** Time given to activity and timer outcomes (what workflow code sees); a test environment moves it. */
  clock: { now(): number } = { now: () => Date.now() };
  private host?: WorkerHost;
  private sweep?: RecoverySweep;

  constructor(readonly options: ResolvedDurableOptions) {
    this.logger =
      options.logger === false ? silentLogger : options.logger ? withContext(options.logger) : consoleLogger;
    this.redis = openConnection(options.connection);
    this.link = new RedisLink(this.redis, endpointOf(options.connection), options.connectTimeoutMs, this.logger);
    this.keys = new KeyNames(options.prefix, options.shards ?? DEFAULT_SHARDS);
    this.histories = new RedisHistoryStore(this.redis, this.keys);
    this.indexes = new RedisIndexStore(this.redis, this.keys);
    this.catalog = new RedisCatalogStore(this.redis, this.keys);
    this.converter = new DataConverter(options.maxPayloadBytes, options.payloadCodec);
    this.queues = new QueueSet(
      this.redis,
      options.prefix,
      new PartitionTable(this.catalog, options.partitions, options.prefix),
    );
    // Children need the whole runtime; the closures reach them once it is built.
    this.dispatcher = new Dispatcher(this.queues, options.jobRetention, (parent, cmd) =>
      this.children.start(parent, cmd),
    );
    this.cache = new WorkflowCache(options.workflowCacheSize);
    this.runner = new WorkflowTaskRunner(
      this.histories,
      this.registry,
      this.converter,
      this.cache,
      this.dispatcher,
      {
        leaseTtlMs: options.leaseTtlMs,
        retentionMs: options.retentionMs,
        taskRetry: { baseMs: 1000, maxMs: 60_000 },
        metrics: this.metrics,
        afterClose: (workflowId, runId, related) => this.children.afterClose(workflowId, runId, related),
        runLocal: (workflow, cmd) => this.executor.runLocal(workflow, cmd),
        now: () => this.clock.now(),
      },
      this.logger,
    );
    this.executor = new ActivityExecutor(
      this.histories,
      this.registry,
      this.converter,
      options.activityDefaults,
      this.recordCompletion,
      this.logger,
      this.metrics,
    );
    this.watcher = new ClosedWatcher(this.redis, this.keys.closedChannel());
    const { leaseTtlMs, retentionMs } = options;
    const afterClose = (workflowId: string, runId: string) => this.children.afterClose(workflowId, runId);
    this.writes = new WorkflowWrites({
      store: this.histories,
      dispatcher: this.dispatcher,
      queues: this.queues,
      leaseTtlMs,
      retentionMs,
      now: () => this.clock.now(),
      afterClose,
    });
    this.children = new ChildWorkflows({
      store: this.histories,
      indexes: this.indexes,
      dispatcher: this.dispatcher,
      writes: this.writes,
      logger: this.logger,
      leaseTtlMs,
      retentionMs,
      now: () => this.clock.now(),
    });
    const scheduleStore = new ScheduleStore(this.redis, this.keys);
    this.scheduleWakeups = new ScheduleWakeups(this.queues, this.logger);
    let fireClient: WorkflowClient | undefined; // built on first use: it needs `this.client`
    this.schedules = new ScheduleProcessor({
      store: scheduleStore,
      history: this.histories,
      converter: this.converter,
      client: () => (fireClient ??= new WorkflowClient(this.client)),
      now: () => this.clock.now(),
      checkSoon: (id, delayMs) => this.scheduleWakeups.checkSoon(id, delayMs),
      logger: this.logger,
    });
    this.client = {
      store: this.histories,
      indexes: this.indexes,
      catalog: this.catalog,
      link: this.link,
      converter: this.converter,
      registry: this.registry,
      writes: this.writes,
      dispatcher: this.dispatcher,
      queues: this.queues,
      watcher: this.watcher,
      metrics: this.metrics,
      leaseTtlMs,
      retentionMs,
      now: () => this.clock.now(),
      schedules: {
        schedules: scheduleStore,
        store: this.histories,
        catalog: this.catalog,
        registry: this.registry,
        converter: this.converter,
        processor: this.schedules,
        wakeups: this.scheduleWakeups,
        link: this.link,
        now: () => this.clock.now(),
      },
      serves: (taskQueue) => this.host?.serves(taskQueue) === true && !this.closing,
      runFirstTask: (workflowId, runId, taskQueue, lease) => this.runFirstTask(workflowId, runId, taskQueue, lease),
    };
  }

  /** A recovery sweep over the due indexes of `served` task queues (started by `start()`; the sweep benchmark makes its own). */
  createSweep(served: Set<string>): RecoverySweep {
    const { histories: store, indexes, queues, dispatcher, children, logger, metrics, options, timeOut } = this;
    return new RecoverySweep(
      { store, indexes, queues, dispatcher, children, logger, metrics, options, timeOut },
      served,
    );
  }

  /** Closes a run past its workflow timeout (its timeout job fired, or the sweep found it lost). */
  private readonly timeOut = async (
    workflowId: string,
    runId: string,
    deadline: Pick<RunDeadline, 'timeoutType' | 'timeoutMs'>,
  ): Promise<void> => {
    if (!(await this.writes.timeOut(workflowId, runId, deadline))) return;
    const option = deadline.timeoutType === 'WORKFLOW_RUN' ? 'workflowRunTimeout' : 'workflowExecutionTimeout';
    this.logger.log?.(
      `Workflow ${workflowId} (run ${runId}) timed out: it ran past its ${option} of ${deadline.timeoutMs}ms`,
    );
  };

  /**
   * Whether this process can do its work: Redis answers a PING (within `connectTimeout`, at
   * most 2 s), its workers run (when it has any), and its recovery sweep has passed within three
   * intervals.
   */
  async health(): Promise<DurableHealth> {
    const problems: string[] = [];
    const began = Date.now();
    const redis: DurableHealth['redis'] = await Promise.race([
      this.redis.ping().then(() => ({ reachable: true, latencyMs: Date.now() - began })),
      new Promise<DurableHealth['redis']>((resolve) =>
        setTimeout(
          () =>
            resolve({
              reachable: false,
              error: `no answer to PING within ${Math.min(this.options.connectTimeoutMs, 2000)} ms`,
            }),
          Math.min(this.options.connectTimeoutMs, 2000),
        ).unref(),
      ),
    ]).catch((err: Error) => ({ reachable: false, error: err.message }));
    if (!redis.reachable) problems.push(`Redis at ${this.link.endpoint} is unreachable: ${redis.error}`);
    const enabled = this.host !== undefined;
    const workers = { enabled, ...(this.host?.status() ?? { running: 0, total: 0 }) };
    if (enabled && workers.running < workers.total)
      problems.push(`${workers.total - workers.running} of ${workers.total} workers are not running`);
    const last = this.sweep?.lastPassAt;
    const lagging =
      this.sweep !== undefined && (last === undefined || Date.now() - last > 3 * this.options.sweepIntervalMs + 1000);
    if (lagging)
      problems.push(
        `the recovery sweep has not completed a pass since ${last ? new Date(last).toISOString() : 'the worker started'}`,
      );
    return {
      healthy: problems.length === 0,
      problems,
      redis,
      workers,
      sweep: {
        enabled: this.sweep !== undefined,
        lastPassAt: last ? new Date(last).toISOString() : undefined,
        lagging,
      },
    };
  }

  /** Task queues this process serves. */
  servedTaskQueues(): string[] {
    return this.options.taskQueues ?? this.registry.taskQueues();
  }

  /**
   * Waits (at most `connectTimeout`) for Redis and checks its settings; runs when the app
   * initialises, so an unreachable or evicting Redis fails `app.init()` with one clear error.
   */
  async connect(): Promise<void> {
    if (this.options.metrics) this.metrics.use(await prometheusMetrics(this.options.metrics));
    await loadTracing();
    await this.link.ready('start Redurable');
    await this.link.checkSettings();
    await this.checkLayout();
    // Partition counts the app gives are checked (and recorded) before anything is enqueued.
    await this.queues.partitions.record([]);
  }

  /**
   * Refuses a prefix whose data uses another key layout (KeyLayoutMismatchError, nothing
   * written) or another shard count than `shards` asks for (InvalidOptionsError), and takes the
   * recorded shard count; with `record` (an app booting), records this version's layout and
   * shard count on a prefix that has none. A read-only caller (the command line) records nothing.
   */
  async checkLayout(record = true): Promise<void> {
    const wanted = this.options.shards ?? DEFAULT_SHARDS;
    // SET NX writes only on a prefix without a layout; then whatever is there must be ours.
    const found = await this.catalog.layout(record ? `${KEY_LAYOUT_VERSION}:${wanted}` : undefined);
    if (found === null && !record) return;
    const match = /^(\d+):(\d+)$/.exec(found ?? '');
    if (!match || Number(match[1]) !== KEY_LAYOUT_VERSION)
      throw new KeyLayoutMismatchError(this.options.prefix, found ?? 'none', KEY_LAYOUT_VERSION);
    const recorded = Number(match[2]);
    if (this.options.shards !== undefined && this.options.shards !== recorded) {
      throw new InvalidOptionsError(
        `Invalid DurableModule options: shards is ${this.options.shards}, but prefix '${this.options.prefix}' was created with ${recorded} shards. ` +
          'The shard count of a prefix cannot change: leave shards out (or set it to the recorded count), or use a new prefix',
      );
    }
    this.keys.useShards(recorded);
  }

  /** Starts workers and the recovery sweep (no-op when `worker: false`). */
  async start(): Promise<void> {
    if (!this.options.worker || this.host) return;
    const taskQueues = this.servedTaskQueues();
    await this.catalog.addWorkflowTypes([...this.registry.workflows.keys()]);
    await this.catalog.addSearchAttributeDeclarations(
      Object.fromEntries([...this.registry.workflows.values()].map((w) => [w.name, w.searchAttributes])),
    );
    await this.queues.partitions.record(taskQueues);
    const { redis, runner, executor, recordCompletion, logger, options } = this;
    // Before any worker starts: a bad @Schedule fails the boot with nothing running.
    await upsertDeclaredSchedules(new WorkflowClient(this.client).schedule, this.registry, logger);
    this.host = new WorkerHost(
      {
        redis,
        partitions: this.queues.partitions,
        runner,
        executor,
        recordCompletion,
        timeOut: this.timeOut,
        logger,
        now: () => this.clock.now(),
        cancelChannel: this.keys.cancelChannel(),
        options,
      },
      taskQueues,
    );
    await this.host.start();
    this.sweep = this.createSweep(new Set(taskQueues));
    await this.sweep.start(this.options.sweepIntervalMs);
    // Schedule wakes are handled where workers run; code-owned schedules are kept current at boot.
    await this.scheduleWakeups.start(redis, options.prefix, (scheduleId, early) =>
      this.schedules.wake(scheduleId, early),
    );
    // In the background: catching up many schedules must not hold the app's boot.
    this.scheduleRecovery = recoverSchedules({
      store: this.client.schedules.schedules,
      wakeups: this.scheduleWakeups,
      processor: this.schedules,
      now: () => this.clock.now(),
      logger,
    }).catch((err: Error) =>
      logger.error?.(`Schedules could not be checked at boot (${err.message}); their next BullMQ wakes catch up`),
    );
    this.logger.log?.(`Workers started for task queue(s) ${taskQueues.join(', ') || '(none)'}`);
  }

  /**
   * Records an activity or timer outcome and runs the workflow's next task in this process
   * when it serves the workflow's task queue, else enqueues it. If the process dies during that
   * task, BullMQ restarts the job, which finds its outcome recorded and does not run the
   * activity again; the lease expires and the sweep resumes the workflow.
   */
  readonly recordCompletion: CompletionSink = async (target, event) => {
    const { workflowId, runId, workflowTaskQueue } = target;
    if (this.host?.serves(workflowTaskQueue))
      return this.runner.complete(workflowId, runId, workflowTaskQueue, { ...event, ts: this.clock.now() });
    await this.writes.recordOutcome(
      { workflowId, runId, taskQueue: workflowTaskQueue },
      event,
      'completion.after-append',
    );
  };

  /** First tasks run by this process for the runs its client started (eager start), awaited on shutdown. */
  private readonly firstTasks = new Set<Promise<void>>();

  /**
   * Runs a run's first workflow task here, in the background, when this process serves its task
   * queue, under the lease the start took: the start skips the job's round trips (add, fetch,
   * finish) and the lease's. Should the task fail to
   * run (Redis unavailable, say), a task job is enqueued after all; should the process die, the
   * recovery sweep enqueues one.
   */
  private runFirstTask(workflowId: string, runId: string, taskQueue: string, lease?: Lease): boolean {
    if (!this.host?.serves(taskQueue) || this.closing) return false;
    const task: Promise<void> = this.runner
      .run(workflowId, runId, taskQueue, lease)
      .catch(async (err: Error) => {
        this.logger.warn?.(
          `The first task of workflow ${workflowId} (run ${runId}) did not run here (${err.message}); enqueuing it`,
        );
        await this.dispatcher.enqueueTask(workflowId, runId, taskQueue, 'start');
      })
      .catch((err: Error) =>
        this.logger.error?.(
          `Workflow ${workflowId} (run ${runId}): its first task could not be enqueued (${err.message}); the recovery sweep will enqueue it`,
        ),
      )
      .finally(() => this.firstTasks.delete(task));
    this.firstTasks.add(task);
    return true;
  }

  /**
   * Stops taking jobs, lets running ones finish, and closes every connection, within
   * `shutdownTimeout`: past it (a stuck activity, or Redis gone), running activities get their
   * abort signal and every connection is dropped without waiting for Redis.
   */
  async close(): Promise<void> {
    if (!this.closing) {
      const graceful = this.closeGracefully();
      this.closing = within(graceful, this.options.shutdownTimeoutMs).then(async (done) => {
        if (done) return;
        this.logger.warn?.(
          `Shutdown did not finish within ${this.options.shutdownTimeoutMs} ms${this.redis.status === 'ready' ? '' : ` (Redis at ${this.link.endpoint} is unreachable)`}: ` +
            'aborting running activities and dropping the Redis connections',
        );
        await this.forceClose();
      });
    }
    return this.closing;
  }

  private closing?: Promise<void>;

  private async closeGracefully(): Promise<void> {
    await this.sweep?.stop();
    await Promise.all(this.firstTasks);
    await this.host?.close();
    await this.scheduleRecovery;
    await this.scheduleWakeups.close();
    await this.runner.settled();
    await this.watcher.close();
    await this.queues.close();
    if (this.redis.status !== 'end') await this.redis.quit().catch(() => this.redis.disconnect());
  }

  /** Drops every connection at once; for an app that failed to start. */
  async dispose(): Promise<void> {
    this.closing ??= this.forceClose();
    return this.closing;
  }

  private async forceClose(): Promise<void> {
    const host = this.host;
    this.host = undefined;
    await within(Promise.all([host?.forceClose(), this.scheduleWakeups.close(true)]), 1000);
    this.watcher.disconnect();
    this.redis.disconnect();
  }
}
