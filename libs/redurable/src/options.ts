import type { ReplayGateSettings } from './client/replay-check.js';
import type { Logger } from './core/ports/index.js';
import { plainToInstance } from 'class-transformer';
import {
  IsIn,
  IsBoolean,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateBy,
  validateSync,
  type ValidationError,
} from 'class-validator';
import { toMs, type Duration } from './core/duration.js';
import type { ActivityCallOptions, WorkflowVersioning } from './core/definitions/metadata.js';
import { InvalidOptionsError } from './core/errors/library.errors.js';
import { payloadClassesProblem, type PayloadCodec } from './core/payload/data-converter.js';
import type { Type } from './core/types.js';
import type { MetricsOptions } from './observability/metrics.js';
import { MAX_SHARDS } from './store/shards.js';
import { TASK_QUEUE_NAME, taskQueueNameProblem } from './core/task-queue-name.js';
import { activityCallOptionsProblems, shown } from './core/definitions/call-options-problems.js';
import { connectionProblem, type RedisConnectionOption } from './store/connection-option.js';

/** Options of `DurableModule.forRoot()`. */
export interface DurableModuleOptions {
  /**
   * Redis: a URL (`redis://user:pass@host:port/db`, `rediss://` for TLS), ioredis options, or an
   * ioredis instance (the library duplicates it and leaves yours to you). Any field that is not
   * an ioredis option is rejected, so a typo never falls back to localhost:6379.
   */
  connection: RedisConnectionOption;
  /**
   * How long `app.init()` waits for Redis before failing, and how long a client call (`start`,
   * `signal`, `describe`, ...) waits for a connection and its answer, before a RedisUnavailableError.
   * @default '10s'
   */
  connectTimeout?: Duration;
  /**
   * How long `app.close()` lets running activities and workflow tasks finish; then their
   * AbortSignal fires and the connections are dropped, so shutdown ends even if Redis is gone.
   * @default '10s'
   */
  shutdownTimeout?: Duration;
  /** Prefix of every Redis key and BullMQ queue the library writes. @default 'redurable' */
  prefix?: string;
  /**
   * The build this process runs (an image tag, a commit): recorded with each run it starts
   * (`describe().buildId`) and each workflow task it runs (`describe().lastTaskBuild`), and listed
   * with its live workers by `redurable build list`. Letters, digits, `_`, `.` and `-`, at most 64.
   * @default none
   */
  buildId?: string;
  /**
   * Where the tasks of runs of workflow types that do not set `@Workflow({ versioning })` go:
   * `'pinned'` (to the workers of the build that ran the run's first task; needs `buildId`) or
   * `'auto-upgrade'` (to any worker).
   * @default 'auto-upgrade'
   */
  defaultVersioning?: WorkflowVersioning;
  /** Task queues this process serves. @default every task queue of its registered workflows and activities */
  taskQueues?: string[];
  /**
   * Logical shards of the prefix: workflows are spread over them by id, each with its own hash
   * tag, so on a Redis Cluster they spread over the masters (use a multiple of the master
   * count, and more shards than masters you may add). Fixed when the prefix is first used and
   * recorded in Redis; a later process giving another number is refused. @default the recorded number, or 16 on a fresh prefix
   */
  shards?: number;
  /**
   * Partitions of busy task queues, e.g. `{ transfers: 4 }`: the task queue's BullMQ queues are
   * split in that many (each its own hash tag, so on a Cluster they spread over the masters);
   * a workflow's jobs always go to the same partition, and workers consume them all. Recorded
   * by the first worker serving the task queue; a later process giving another number is
   * refused. @default 1 per task queue
   */
  partitions?: Record<string, number>;
  /** Start workers in this process; false makes a client-only app. @default true */
  worker?: boolean;
  /** Activity attempts run at once, per task queue (queued jobs and eager activities together). @default 10 */
  concurrency?: number;
  /**
   * Eager activities: the worker that records a step runs the next activity itself, claimed in
   * the same write, when it serves that activity's task queue and has a free slot of
   * `concurrency` (one write and one fsync per step, no BullMQ job); otherwise, and for retries,
   * the activity is a BullMQ job. `false` queues every activity (`@Activity({ eager })` and the
   * call's `eager` option decide per activity). @default true
   */
  eagerActivities?: boolean;
  /** Workflow tasks run at once, per task queue. @default 10 */
  workflowConcurrency?: number;
  /** Live workflow executions kept in memory (0 = always replay). @default 1000 */
  workflowCacheSize?: number;
  /** How long a workflow task owns its workflow before another worker may take over. @default '10s' */
  leaseTtl?: Duration;
  /** How often the recovery sweep looks for workflows whose pending work was lost. @default '5s' */
  sweepInterval?: Duration;
  /** BullMQ lock of a running activity job; a crashed worker's jobs are retried after it. @default '30s' */
  lockDuration?: Duration;
  /** How long a closed run's history and status stay in Redis; 0 keeps them forever. @default '7 days' */
  retention?: Duration;
  /** Largest encoded payload (argument, result) accepted. @default 2 MiB */
  maxPayloadBytes?: number;
  /** Transforms every stored payload, for example to encrypt it. @default none (plain JSON) */
  payloadCodec?: PayloadCodec;
  /**
   * Classes whose instances arrive as instances of them wherever they are in a payload (a
   * result, a field of an argument, a signal, a heartbeat): a payload records each one's class
   * name, and decoding sets the class's prototype on the fields that arrived (its constructor
   * does not run). Keep the names stable, as with workflow types; a process that does not list
   * a class (the command line) reads its instances as plain objects. Arguments whose declared
   * type is a class need no entry here. @default []
   * @example
   * payloadClasses: [Money, Address]
   */
  payloadClasses?: Type<object>[];
  /**
   * Defaults of every activity, below `@Activity` and per-call options (not `priority`: an
   * activity takes its workflow's unless `@Activity` or the call sets one).
   */
  activityDefaults?: Omit<ActivityCallOptions, 'priority'>;
  /**
   * Secret that signs task tokens (`activityContext().completeAsync()`), at least 32 characters;
   * every process of the prefix must give the same. @default a random secret the library
   * generates once per prefix and keeps in Redis
   */
  taskTokenSecret?: string;
  /** Finished jobs kept for Bull Board. @default { completed: 1000, failed: 5000 } */
  jobRetention?: { completed?: number; failed?: number };
  /**
   * Prometheus metrics through prom-client (install it): `true` registers them on prom-client's
   * default registry, or pass `{ registry, prefix }`; serve them with the registry's `metrics()`. @default off
   */
  metrics?: boolean | MetricsOptions;
  /** Logger; false silences the library. @default Nest's Logger */
  logger?: Logger | false;
  /**
   * The replay gate: before a worker takes tasks, it replays with its own code the histories of
   * up to `perType` of the most recently started running workflows of each type it serves. A
   * history it does not replay stops the boot with a ReplayCheckError listing each workflow, the
   * event and both sides (`onFailure: 'warn'` logs it and starts anyway); `false` skips the check.
   * @default { perType: 50, onFailure: 'fail' }
   */
  replayCheck?: false | { perType?: number; onFailure?: 'fail' | 'warn' };
}

/** Options with every default applied and durations in milliseconds. */
export interface ResolvedDurableOptions {
  connection: RedisConnectionOption;
  connectTimeoutMs: number;
  shutdownTimeoutMs: number;
  prefix: string;
  buildId?: string;
  defaultVersioning: WorkflowVersioning;
  taskQueues?: string[];
  /** Undefined: what the prefix recorded (16 on a fresh one). */
  shards?: number;
  partitions: Record<string, number>;
  worker: boolean;
  concurrency: number;
  eagerActivities: boolean;
  workflowConcurrency: number;
  workflowCacheSize: number;
  /** The replay gate at boot; false: off. */
  replayCheck: false | ReplayGateSettings;
  leaseTtlMs: number;
  sweepIntervalMs: number;
  lockDurationMs: number;
  retentionMs: number;
  maxPayloadBytes: number;
  payloadCodec?: PayloadCodec;
  payloadClasses: Type<object>[];
  activityDefaults: Omit<ActivityCallOptions, 'priority'>;
  taskTokenSecret?: string;
  jobRetention: { completed: number; failed: number };
  metrics?: MetricsOptions;
  logger?: Logger | false;
}

function isDuration(value: unknown): boolean {
  if (value === undefined) return true;
  try {
    toMs(value as Duration);
    return true;
  } catch {
    return false;
  }
}

function isPartitions(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.entries(value).every(([q, n]) => TASK_QUEUE_NAME.test(q) && Number.isInteger(n) && n >= 1 && n <= 256)
  );
}

const IsDuration = () =>
  ValidateBy({
    name: 'isDuration',
    validator: {
      validate: isDuration,
      defaultMessage: (a) =>
        `${a?.property} must be milliseconds or a duration like '30s' (got ${JSON.stringify(a?.value)})`,
    },
  });

class DurableOptionsSchema {
  @IsOptional() @IsDuration() connectTimeout?: Duration;
  @IsOptional() @IsDuration() shutdownTimeout?: Duration;
  @IsOptional()
  @IsString()
  @Matches(/^[\w.-]+$/, { message: 'prefix may only hold letters, digits, _, . and - (got $value)' })
  prefix?: string;
  @IsOptional() @IsInt() @Min(1) @Max(MAX_SHARDS) shards?: number;
  @IsOptional()
  @IsString()
  @Matches(/^[\w.-]{1,64}$/, { message: 'buildId may only hold letters, digits, _, . and -, at most 64 (got $value)' })
  buildId?: string;
  @IsOptional()
  @IsIn(['pinned', 'auto-upgrade'], { message: "defaultVersioning must be 'pinned' or 'auto-upgrade' (got $value)" })
  defaultVersioning?: WorkflowVersioning;
  @IsOptional()
  @IsObject()
  @ValidateBy({
    name: 'isPartitions',
    validator: {
      validate: isPartitions,
      defaultMessage: (a) =>
        `partitions must map task queue names to whole numbers from 1 to 256 (got ${JSON.stringify(a?.value)})`,
    },
  })
  partitions?: Record<string, number>;
  @IsOptional() @IsBoolean() worker?: boolean;
  @IsOptional() @IsInt() @Min(1) @Max(10_000) concurrency?: number;
  @IsOptional() @IsBoolean() eagerActivities?: boolean;
  @IsOptional() @IsInt() @Min(1) @Max(10_000) workflowConcurrency?: number;
  @IsOptional() @IsInt() @Min(0) workflowCacheSize?: number;
  @IsOptional() @IsDuration() leaseTtl?: Duration;
  @IsOptional() @IsDuration() sweepInterval?: Duration;
  @IsOptional() @IsDuration() lockDuration?: Duration;
  @IsOptional() @IsDuration() retention?: Duration;
  @IsOptional() @IsInt() @Min(1) maxPayloadBytes?: number;
  @IsOptional() @IsString() @MinLength(32) taskTokenSecret?: string;
}

/** The library's own class-validator schemas (not the app's DTOs). */
export const OPTION_SCHEMAS: readonly unknown[] = [DurableOptionsSchema];

function taskQueuesProblems(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) return [`taskQueues must be an array of task queue names (got ${shown(value)})`];
  return value.flatMap((q) => taskQueueNameProblem(q, 'taskQueues') ?? []);
}

function jobRetentionProblems(value: unknown): string[] {
  if (value === undefined) return [];
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return [`jobRetention must be { completed?, failed? }, numbers of finished jobs kept (got ${shown(value)})`];
  const problems = (['completed', 'failed'] as const).flatMap((k) => {
    const n = (value as Record<string, unknown>)[k];
    return n === undefined || (Number.isInteger(n) && (n as number) >= 0)
      ? []
      : [`jobRetention.${k} must be a whole number of at least 0 (got ${shown(n)})`];
  });
  const unknown = Object.keys(value).filter((k) => k !== 'completed' && k !== 'failed');
  return unknown.length ? [...problems, `jobRetention has unknown option(s): ${unknown.join(', ')}`] : problems;
}

function replayCheckProblems(value: unknown): string[] {
  if (value === undefined || value === false) return [];
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return [`replayCheck must be false or { perType?, onFailure? } (got ${shown(value)})`];
  const { perType, onFailure, ...rest } = value as Record<string, unknown>;
  const problems: string[] = [];
  if (
    perType !== undefined &&
    !(Number.isInteger(perType) && (perType as number) >= 1 && (perType as number) <= 10_000)
  )
    problems.push(`replayCheck.perType must be a whole number from 1 to 10000 (got ${shown(perType)})`);
  if (onFailure !== undefined && onFailure !== 'fail' && onFailure !== 'warn')
    problems.push(`replayCheck.onFailure must be 'fail' or 'warn' (got ${shown(onFailure)})`);
  if (Object.keys(rest).length) problems.push(`replayCheck has unknown option(s): ${Object.keys(rest).join(', ')}`);
  return problems;
}

function messages(errors: ValidationError[]): string[] {
  return errors.flatMap((e) => [...Object.values(e.constraints ?? {}), ...messages(e.children ?? [])]);
}

/** Validates and resolves module options; throws InvalidOptionsError naming every bad option. */
export function resolveDurableOptions(options: DurableModuleOptions): ResolvedDurableOptions {
  if (!options || typeof options !== 'object')
    throw new InvalidOptionsError('DurableModule options are missing: pass at least { connection }');
  // The connection is checked apart: an ioredis instance must not go through plainToInstance.
  // Nested options are checked by hand, so that a message names the path (activityDefaults.retry.initialInterval).
  const {
    payloadCodec,
    payloadClasses,
    logger,
    connection,
    metrics,
    taskQueues,
    activityDefaults,
    jobRetention,
    replayCheck,
    ...plain
  } = options;
  const schema = plainToInstance(DurableOptionsSchema, plain);
  const errors = validateSync(schema, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: false });
  const list = messages(errors.filter((e) => !e.constraints?.whitelistValidation));
  list.push(
    ...taskQueuesProblems(taskQueues),
    ...activityCallOptionsProblems(activityDefaults, 'activityDefaults'),
    ...jobRetentionProblems(jobRetention),
    ...replayCheckProblems(replayCheck),
    ...[payloadClassesProblem(payloadClasses) ?? []].flat(),
  );
  const connectionError =
    connection === undefined
      ? 'connection is required: a redis:// URL, ioredis options or an ioredis instance'
      : connectionProblem(connection);
  if (connectionError) list.unshift(connectionError);
  if (metrics !== undefined && typeof metrics !== 'boolean' && (typeof metrics !== 'object' || metrics === null)) {
    list.push(`metrics must be true, false or { registry?, prefix? } (got ${JSON.stringify(metrics)})`);
  }
  const unknown = errors.filter((e) => e.constraints?.whitelistValidation).map((e) => e.property);
  if (unknown.length) list.push(`unknown option(s): ${unknown.join(', ')}`);
  if (list.length > 0) throw new InvalidOptionsError(`Invalid DurableModule options: ${list.join('; ')}`);
  const leaseTtlMs = toMs(options.leaseTtl ?? '10s');
  if (leaseTtlMs < 100)
    throw new InvalidOptionsError(
      `Invalid DurableModule options: leaseTtl must be at least 100ms (got ${leaseTtlMs}ms)`,
    );
  return {
    connection,
    connectTimeoutMs: Math.max(1, toMs(options.connectTimeout ?? '10s')),
    shutdownTimeoutMs: toMs(options.shutdownTimeout ?? '10s'),
    prefix: options.prefix ?? 'redurable',
    buildId: options.buildId,
    defaultVersioning: options.defaultVersioning ?? 'auto-upgrade',
    taskQueues: options.taskQueues,
    shards: options.shards,
    partitions: { ...(options.partitions ?? {}) },
    worker: options.worker ?? true,
    concurrency: options.concurrency ?? 10,
    eagerActivities: options.eagerActivities ?? true,
    workflowConcurrency: options.workflowConcurrency ?? 10,
    workflowCacheSize: options.workflowCacheSize ?? 1000,
    replayCheck: replayCheck === false ? false : { perType: 50, onFailure: 'fail', ...replayCheck },
    leaseTtlMs,
    sweepIntervalMs: toMs(options.sweepInterval ?? '5s'),
    lockDurationMs: toMs(options.lockDuration ?? '30s'),
    retentionMs: toMs(options.retention ?? '7 days'),
    maxPayloadBytes: options.maxPayloadBytes ?? 2 * 1024 * 1024,
    payloadCodec,
    payloadClasses: [...(payloadClasses ?? [])],
    activityDefaults: options.activityDefaults ?? {},
    taskTokenSecret: options.taskTokenSecret,
    jobRetention: { completed: 1000, failed: 5000, ...(options.jobRetention ?? {}) },
    metrics: metrics === true ? {} : metrics || undefined,
    logger,
  };
}
