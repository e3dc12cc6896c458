import { DurableRegistry } from './core/definitions/registry.js';
import { within } from './core/within.js';
import { InvalidOptionsError, KeyLayoutMismatchError } from './core/errors/library.errors.js';
import type { DurableHealth } from './core/health-report.js';
import { processHealth } from './engine/process-health.js';
import { DataConverter } from './core/payload/data-converter.js';
import { consoleLogger, silentLogger, withContext, type Clock, type Logger } from './core/ports/index.js';
import type { ClientParts } from './client/client-parts.js';
import { upsertDeclaredSchedules } from './client/schedules/declared-schedules.js';
import type { ScheduleProcessor } from './client/schedules/schedule-processor.js';
import { assembleClient } from './client/client-assembly.js';
import { recoverSchedules, ScheduleSweep } from './client/schedules/schedule-recovery.js';
import type { WorkflowClient } from './client/workflow-client.js';
import { replayGate } from './client/replay-check.js';
import { refuseUnbuiltPins } from './core/definitions/versioning.js';
import { buildMailbox, WorkerMessageAnswers } from './client/worker-messages.js';
import { ActivityJobs } from './engine/activity-jobs.js';
import { ActivityLimits } from './engine/activity-limits.js';
import { ActivityRunner } from './engine/activity-runner.js';
import { ChildWorkflows } from './engine/child-workflows.js';
import { Completions } from './engine/completions.js';
import { EagerFirstTasks } from './engine/first-tasks.js';
import { RecoverySweep } from './engine/recovery-sweep.js';
import { RunTimeouts } from './engine/run-timeouts.js';
import { ServedQueues } from './engine/served-queues.js';
import { StepDispatch } from './engine/step-dispatch.js';
import { WorkflowTaskRunner } from './engine/task-runner.js';
import { WorkerHost } from './engine/worker-host.js';
import { WorkerHeartbeat } from './engine/worker-heartbeat.js';
import { WorkerRegistry } from './store/worker-registry.js';
import { WorkflowCache } from './engine/workflow-cache.js';
import { MetricsSink, prometheusMetrics } from './observability/metrics.js';
import { loadTracing } from './observability/tracing.js';
import type { ResolvedDurableOptions } from './options.js';
import { Dispatcher } from './queues/dispatcher.js';
import { PartitionTable } from './queues/partitions.js';
import { QueueSet } from './queues/queue-set.js';
import { ScheduleWakeups } from './queues/schedule-wakeups.js';
import { WorkflowWrites } from './queues/workflow-writes.js';
import { WorkflowSlots } from './queues/workflow-slots.js';
import { RedisCatalogStore } from './store/catalog-store.js';
import { RedisClaimStore } from './store/claim-store.js';
import { RedisBuildPins } from './store/build-pins.js';
import { RedisFlowStore } from './store/flow-store.js';
import { TaskTokens } from './core/task-token.js';
import { ClosedWatcher } from './store/closed-watcher.js';
import { endpointOf, openConnection } from './store/connection-option.js';
import { RedisHistoryStore } from './store/history-store.js';
import { SlotTable } from './engine/activity-slots.js';
import { EagerActivities, workerIdentity } from './engine/eager-activities.js';
import { RedisIndexStore } from './store/index-store.js';
import { KEY_LAYOUT_VERSION, KeyNames } from './store/keys.js';
import type { RedisClient } from './store/redis-client.js';
import { RedisLink } from './store/redis-link.js';
import { ScheduleStore } from './store/schedule-store.js';
import { WorkerMessages } from './store/worker-messages.js';
import { DEFAULT_SHARDS } from './store/shards.js';

/**
 * The composition root of one process: it builds every part once, in dependency order, each
 * with exactly the collaborators its constructor declares, from one compiled options object; then
 * starts and stops them. The Nest module creates one; tests and scripts can create one directly.
 */
export class DurableRuntime {
  readonly registry = new DurableRegistry();
  readonly logger: Logger;
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
  /** Where the parts report what they measure (no-op until `metrics` turns Prometheus on at connect). */
  readonly metrics = new MetricsSink();
  readonly queues: QueueSet;
  readonly dispatcher: Dispatcher;
  readonly writes: WorkflowWrites;
  readonly watcher: ClosedWatcher;
  readonly children: ChildWorkflows;
  readonly cache: WorkflowCache;
  readonly runner: WorkflowTaskRunner;
  readonly activities: ActivityRunner;
  /** Handles schedule fires: BullMQ wakes and a test environment's moved clock both call `wake`. */
  readonly schedules: ScheduleProcessor;
  /** The client this process's app uses (`WorkflowClient` in Nest). */
  readonly client: WorkflowClient;
  private readonly served = new ServedQueues();
  private readonly steps: StepDispatch;
  private readonly completions: Completions;
  private readonly activityJobs: ActivityJobs;
  /** Activity slots per served task queue, shared by queued jobs and eager activities. */
  private readonly slots = new SlotTable();
  private readonly claims: RedisClaimStore;
  /** Flow control's slots and rate windows per (limit, key) (issue 24). */
  readonly flow: RedisFlowStore;
  /** Signs and checks task tokens (completeAsync). */
  private readonly tokens: TaskTokens;
  private readonly eager: EagerActivities;
  private readonly firstTasks: EagerFirstTasks;
  private readonly timeouts: RunTimeouts;
  private readonly scheduleStore: ScheduleStore;
  /** Queries and updates between processes without a workflow's class and the workers that have it. */
  private readonly messages: WorkerMessages;
  private readonly answers: WorkerMessageAnswers;
  private readonly scheduleWakeups: ScheduleWakeups;
  private scheduleRecovery?: Promise<void>;
  /** Wakes the schedules whose pass died holding them (processes with workers). */
  private scheduleSweep?: ScheduleSweep;
  private host?: WorkerHost;
  /** Keeps this worker listed (`redurable build list`) while it runs. */
  private heartbeat?: WorkerHeartbeat;
  private sweep?: RecoverySweep;
  private closing?: Promise<void>;
  /** What the clock reads (replaced by a test environment that moves time). */
  private time: Clock = { now: () => Date.now() };
  /** The clock every part is given: it reads whatever `clock` was last set to. */
  private readonly workflowClock: Clock = { now: () => this.time.now() };

  constructor(readonly options: ResolvedDurableOptions) {
    const clock = this.workflowClock;
    const { leaseTtlMs, retentionMs } = options;
    const settings = {
      leaseTtlMs,
      retentionMs,
      buildId: options.buildId,
      defaultVersioning: options.defaultVersioning,
    };
    const logger = (this.logger =
      options.logger === false ? silentLogger : options.logger ? withContext(options.logger) : consoleLogger);
    const metrics = this.metrics;
    const registry = this.registry;
    // Redis and the stores.
    const redis = (this.redis = openConnection(options.connection));
    this.link = new RedisLink(redis, endpointOf(options.connection), options.connectTimeoutMs, logger);
    this.keys = new KeyNames(options.prefix, options.shards ?? DEFAULT_SHARDS);
    const histories = (this.histories = new RedisHistoryStore(redis, this.keys, options.buildId));
    const indexes = (this.indexes = new RedisIndexStore(redis, this.keys));
    const catalog = (this.catalog = new RedisCatalogStore(redis, this.keys));
    this.scheduleStore = new ScheduleStore(redis, this.keys);
    this.watcher = new ClosedWatcher(redis, this.keys.closedChannel());
    const converter = (this.converter = new DataConverter(
      options.maxPayloadBytes,
      options.payloadCodec,
      options.payloadClasses,
    ));
    // BullMQ, and the writes from outside a task.
    const queues = (this.queues = new QueueSet(
      redis,
      options.prefix,
      new PartitionTable(catalog, options.partitions, options.prefix),
    ));
    const dispatcher = (this.dispatcher = new Dispatcher({ queues, retention: options.jobRetention }));
    const writes = (this.writes = new WorkflowWrites({ histories, dispatcher, queues, clock, settings }));
    this.scheduleWakeups = new ScheduleWakeups({ queues, logger });
    const flow = (this.flow = new RedisFlowStore(redis, this.keys));
    const wfSlots = new WorkflowSlots({ flow, histories, records: indexes, dispatcher, logger });
    // The engine: children and closes, activities, workflow tasks, eager starts, timeouts.
    const children = (this.children = new ChildWorkflows({
      histories,
      indexes,
      dispatcher,
      writes,
      slots: wfSlots,
      logger,
      clock,
      settings,
    }));
    const steps = (this.steps = new StepDispatch({ dispatcher, children, logger }));
    const activities = (this.activities = new ActivityRunner({
      registry,
      converter,
      defaults: options.activityDefaults,
      logger,
      metrics,
    }));
    const claims = (this.claims = new RedisClaimStore(redis, this.keys));
    const secret = options.taskTokenSecret;
    const tokens = (this.tokens = new TaskTokens(async () => secret ?? (await catalog.tokenSecret())));
    // Concurrency and rate limits of activities, taken by a job or, before an eager run, by the step's worker.
    const limits = new ActivityLimits({ flow, queues, logger, settings });
    const eager = (this.eager = new EagerActivities({
      activities,
      histories,
      claims,
      limits,
      tokens,
      jobs: dispatcher,
      served: this.served,
      slots: this.slots,
      logger,
      metrics,
      settings: { enabled: options.eagerActivities, leaseTtlMs, owner: workerIdentity() },
    }));
    const cache = (this.cache = new WorkflowCache(options.workflowCacheSize));
    const runner = (this.runner = new WorkflowTaskRunner({
      store: histories,
      registry,
      converter,
      cache,
      dispatcher,
      steps,
      local: activities,
      eager,
      runs: children,
      slots: wfSlots,
      metrics,
      logger,
      clock,
      settings: { ...settings, taskRetry: { baseMs: 1000, maxMs: 60_000 } },
    }));
    this.completions = new Completions({ served: this.served, runner, writes, clock });
    this.activityJobs = new ActivityJobs({
      activities,
      histories,
      slots: this.slots,
      limits,
      tokens,
      complete: this.completions.record,
      logger,
      metrics,
    });
    this.firstTasks = new EagerFirstTasks({ served: this.served, runner, dispatcher, histories, logger });
    this.timeouts = new RunTimeouts({ writes, runs: children, logger });
    // The client, and the schedules it operates.
    const messages = (this.messages = new WorkerMessages(redis, this.keys));
    const parts: ClientParts = {
      histories,
      indexes,
      catalog,
      link: this.link,
      converter,
      registry,
      writes,
      dispatcher,
      queues,
      watcher: this.watcher,
      metrics,
      clock,
      settings,
      runs: children,
      firstTasks: this.firstTasks,
      claims,
      tokens,
      messages,
      flow,
      slots: wfSlots,
      builds: new RedisBuildPins(redis, this.keys),
    };
    this.answers = new WorkerMessageAnswers({ ...parts, cached: (id, run, fn) => runner.withIdleCached(id, run, fn) });
    const { scheduleStore, scheduleWakeups } = this;
    ({ client: this.client, schedules: this.schedules } = assembleClient(parts, {
      scheduleStore,
      scheduleWakeups,
      logger,
    }));
  }

  /** Time given to activity and timer outcomes (what workflow code sees); a test environment replaces it. */
  get clock(): Clock {
    return this.workflowClock;
  }

  set clock(source: Clock) {
    this.time = source;
  }

  /** A recovery sweep over the due indexes of `served` task queues (started by `start()`; the sweep benchmark makes its own). */
  createSweep(served: Iterable<string>): RecoverySweep {
    const { histories, indexes, claims, dispatcher, children, timeouts, logger, metrics, options, flow } = this;
    const settings = { leaseTtlMs: options.leaseTtlMs, sweepIntervalMs: options.sweepIntervalMs };
    return new RecoverySweep({
      histories,
      indexes,
      claims,
      dispatcher,
      children,
      timeouts,
      slots: new WorkflowSlots({ flow, histories, records: indexes, dispatcher, logger }), // stateless: one more is free
      logger,
      metrics,
      settings,
      served,
    });
  }

  /**
   * Whether this process can do its work: Redis answers a PING (within `connectTimeout`, at
   * most 2 s), its workers run (when it has any), and its recovery sweep has passed within three
   * intervals.
   */
  async health(): Promise<DurableHealth> {
    const { redis, link, host, sweep, options } = this;
    return processHealth({ redis, link, host, sweep, settings: options });
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
    if (this.options.metrics) this.metrics.use(await prometheusMetrics(this.options.metrics, this.flow));
    await loadTracing();
    await this.link.ready('start Redurable');
    await this.link.checkSettings();
    await this.checkLayout({ record: true });
    // Partition counts the app gives are checked (and recorded) before anything is enqueued.
    await this.queues.partitions.record([]);
  }

  /**
   * Refuses a prefix whose data uses another key layout (KeyLayoutMismatchError, nothing
   * written) or another shard count than `shards` asks for (InvalidOptionsError), and takes the
   * recorded shard count; with `record` (an app booting), records this version's layout and
   * shard count on a prefix that has none. A read-only caller (the command line) records nothing.
   */
  async checkLayout({ record }: { record: boolean }): Promise<void> {
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
    const { options, registry, logger } = this;
    const taskQueues = this.servedTaskQueues();
    refuseUnbuiltPins([...registry.workflows.values()], taskQueues, options);
    // Workers sign task tokens as their activities ask (synchronously): the secret is read first.
    // A client-only process reads it at its first `client.activity` call.
    await this.tokens.ready();
    // The replay gate first: a build whose code does not replay running histories stops here,
    // before it registers anything or takes a task.
    const { converter, indexes, histories, link } = this;
    if (options.replayCheck)
      await replayGate(
        { converter, indexes, histories, link, logger },
        [...registry.workflows.values()],
        taskQueues,
        options.replayCheck,
      );
    await this.catalog.registerWorkflowTypes([...registry.workflows.values()]);
    await this.queues.partitions.record(taskQueues);
    // Before any worker starts: a bad @Schedule fails the boot with nothing running.
    await upsertDeclaredSchedules(this.client.schedule, registry, logger);
    this.host = new WorkerHost(
      {
        redis: this.redis,
        partitions: this.queues.partitions,
        runner: this.runner,
        activities: this.activities,
        activityJobs: this.activityJobs,
        eager: this.eager,
        slots: this.slots,
        complete: this.completions.record,
        timeouts: this.timeouts,
        served: this.served,
        logger,
        clock: this.workflowClock,
        cancelChannel: this.keys.cancelChannel(),
        settings: options,
      },
      taskQueues,
    );
    const host = this.host;
    // Registered first: a worker of a build a newer one superseded never takes from the shared queues.
    const workflowTypes = Object.fromEntries(
      taskQueues.map((q) => [q, [...registry.workflows.values()].filter((w) => w.taskQueue === q).map((w) => w.name)]),
    );
    this.heartbeat = new WorkerHeartbeat(
      new WorkerRegistry(this.redis, this.keys),
      logger,
      { id: workerIdentity(), build: options.buildId, taskQueues, workflowTypes },
      (superseded) => host.supersede(superseded),
    );
    await this.heartbeat.start(options.sweepIntervalMs);
    await this.host.start();
    const build = options.buildId;
    this.messages.serve(
      [...taskQueues, ...(build ? taskQueues.map((q) => buildMailbox(q, build)) : [])],
      (message) => this.answers.answer(message),
      (err) => logger.error(`Queries and updates from processes without the workflow class: ${err.message}`, err.stack),
    );
    this.sweep = this.createSweep(taskQueues);
    await this.sweep.start(options.sweepIntervalMs);
    // Schedule wakes are handled where workers run; code-owned schedules are kept current at boot.
    await this.scheduleWakeups.start(this.redis, options.prefix, this.schedules);
    this.scheduleSweep = new ScheduleSweep({ store: this.scheduleStore, processor: this.schedules, logger });
    this.scheduleSweep.start(options.sweepIntervalMs);
    // In the background: catching up many schedules must not hold the app's boot.
    this.scheduleRecovery = recoverSchedules({
      store: this.scheduleStore,
      wakeups: this.scheduleWakeups,
      processor: this.schedules,
      clock: this.workflowClock,
      logger,
    }).catch((err: Error) =>
      logger.error(`Schedules could not be checked at boot (${err.message}); their next BullMQ wakes catch up`),
    );
    logger.log(`Workers started for task queue(s) ${taskQueues.join(', ') || '(none)'}`);
  }

  /**
   * Stops taking jobs, lets running ones finish, and closes every connection, within
   * `shutdownTimeout`: past it (a stuck activity, or Redis gone), running activities get their
   * abort signal and every connection is dropped without waiting for Redis.
   */
  async close(): Promise<void> {
    if (!this.closing) {
      this.served.draining = true;
      const graceful = this.closeGracefully();
      this.closing = within(graceful, this.options.shutdownTimeoutMs).then(async (done) => {
        if (done) return;
        this.logger.warn(
          `Shutdown did not finish within ${this.options.shutdownTimeoutMs} ms${this.redis.status === 'ready' ? '' : ` (Redis at ${this.link.endpoint} is unreachable)`}: ` +
            'aborting running activities and dropping the Redis connections',
        );
        await this.forceClose();
      });
    }
    return this.closing;
  }

  private async closeGracefully(): Promise<void> {
    await this.heartbeat?.stop();
    await this.sweep?.stop();
    await this.messages.close();
    await this.firstTasks.settled();
    await this.host?.close();
    await this.scheduleRecovery;
    await this.scheduleSweep?.stop();
    await this.scheduleWakeups.close();
    await this.steps.settled();
    await this.watcher.close();
    await this.queues.close();
    if (this.redis.status !== 'end') await this.redis.quit().catch(() => this.redis.disconnect());
  }

  /** Drops every connection at once; for an app that failed to start. */
  async dispose(): Promise<void> {
    this.served.draining = true;
    this.closing ??= this.forceClose();
    return this.closing;
  }

  private async forceClose(): Promise<void> {
    const host = this.host;
    this.host = undefined;
    void this.scheduleSweep?.stop();
    void this.heartbeat?.stop();
    await within(Promise.all([host?.forceClose(), this.scheduleWakeups.close({ force: true })]), 1000);
    this.watcher.disconnect();
    this.messages.disconnect();
    this.redis.disconnect();
  }
}
