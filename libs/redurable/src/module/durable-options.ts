import type { LoggerService } from '@nestjs/common';
import type { RedisOptions } from 'ioredis';
import { plainToInstance } from 'class-transformer';
import {
  IsArray, IsBoolean, IsDefined, IsInt, IsObject, IsOptional, IsString, Matches, Max, Min, ValidateBy, validateSync,
  type ValidationError,
} from 'class-validator';
import { toMs, type Duration } from '../common/duration.js';
import type { ActivityCallOptions } from '../decorators/metadata.js';
import { InvalidOptionsError } from '../errors/library.errors.js';
import type { PayloadCodec } from '../payload/data-converter.js';

/** Options of `DurableModule.forRoot()`. */
export interface DurableModuleOptions {
  /** Redis URL (`redis://host:port/db`) or ioredis options. */
  connection: string | RedisOptions;
  /** Prefix of every Redis key and BullMQ queue the library writes. @default 'redurable' */
  prefix?: string;
  /** Task queues this process serves. @default every task queue of its registered workflows and activities */
  taskQueues?: string[];
  /** Start workers in this process; false makes a client-only app. @default true */
  worker?: boolean;
  /** Activity jobs run at once, per task queue. @default 10 */
  concurrency?: number;
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
  /** Defaults of every activity, below `@Activity` and per-call options. */
  activityDefaults?: ActivityCallOptions;
  /** Finished jobs kept for Bull Board. @default { completed: 1000, failed: 5000 } */
  jobRetention?: { completed?: number; failed?: number };
  /** Logger; false silences the library. @default Nest's Logger */
  logger?: LoggerService | false;
}

/** Options with every default applied and durations in milliseconds. */
export interface ResolvedDurableOptions {
  connection: string | RedisOptions;
  prefix: string;
  taskQueues?: string[];
  worker: boolean;
  concurrency: number;
  workflowConcurrency: number;
  workflowCacheSize: number;
  leaseTtlMs: number;
  sweepIntervalMs: number;
  lockDurationMs: number;
  retentionMs: number;
  maxPayloadBytes: number;
  payloadCodec?: PayloadCodec;
  activityDefaults: ActivityCallOptions;
  jobRetention: { completed: number; failed: number };
  logger?: LoggerService | false;
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

const IsDuration = () =>
  ValidateBy({ name: 'isDuration', validator: { validate: isDuration, defaultMessage: (a) => `${a?.property} must be milliseconds or a duration like '30s' (got ${JSON.stringify(a?.value)})` } });

const IsConnection = () =>
  ValidateBy({
    name: 'isConnection',
    validator: {
      validate: (v: unknown) => (typeof v === 'string' ? /^rediss?:\/\//.test(v) : typeof v === 'object' && v !== null),
      defaultMessage: (a) => `connection must be a redis:// URL or ioredis options (got ${JSON.stringify(a?.value)})`,
    },
  });

class DurableOptionsSchema {
  @IsDefined({ message: 'connection is required: a redis:// URL or ioredis options' }) @IsConnection() connection: unknown;
  @IsOptional() @IsString() @Matches(/^[\w.-]+$/, { message: 'prefix may only hold letters, digits, _, . and - (got $value)' }) prefix?: string;
  @IsOptional() @IsArray() @IsString({ each: true }) taskQueues?: string[];
  @IsOptional() @IsBoolean() worker?: boolean;
  @IsOptional() @IsInt() @Min(1) @Max(10_000) concurrency?: number;
  @IsOptional() @IsInt() @Min(1) @Max(10_000) workflowConcurrency?: number;
  @IsOptional() @IsInt() @Min(0) workflowCacheSize?: number;
  @IsOptional() @IsDuration() leaseTtl?: Duration;
  @IsOptional() @IsDuration() sweepInterval?: Duration;
  @IsOptional() @IsDuration() lockDuration?: Duration;
  @IsOptional() @IsDuration() retention?: Duration;
  @IsOptional() @IsInt() @Min(1) maxPayloadBytes?: number;
  @IsOptional() @IsObject() activityDefaults?: object;
  @IsOptional() @IsObject() jobRetention?: object;
}

function messages(errors: ValidationError[]): string[] {
  return errors.flatMap((e) => [...Object.values(e.constraints ?? {}), ...messages(e.children ?? [])]);
}

/** Validates and resolves module options; throws InvalidOptionsError naming every bad option. */
export function resolveDurableOptions(options: DurableModuleOptions): ResolvedDurableOptions {
  if (!options || typeof options !== 'object') throw new InvalidOptionsError('DurableModule options are missing: pass at least { connection }');
  const { payloadCodec, logger, ...plain } = options;
  const schema = plainToInstance(DurableOptionsSchema, plain);
  const errors = validateSync(schema, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: false });
  if (errors.length > 0) {
    const unknown = errors.filter((e) => e.constraints?.whitelistValidation).map((e) => e.property);
    const list = messages(errors.filter((e) => !e.constraints?.whitelistValidation));
    if (unknown.length) list.push(`unknown option(s): ${unknown.join(', ')}`);
    throw new InvalidOptionsError(`Invalid DurableModule options: ${list.join('; ')}`);
  }
  const leaseTtlMs = toMs(options.leaseTtl ?? '10s');
  if (leaseTtlMs < 100) throw new InvalidOptionsError(`Invalid DurableModule options: leaseTtl must be at least 100ms (got ${leaseTtlMs}ms)`);
  return {
    connection: options.connection,
    prefix: options.prefix ?? 'redurable',
    taskQueues: options.taskQueues,
    worker: options.worker ?? true,
    concurrency: options.concurrency ?? 10,
    workflowConcurrency: options.workflowConcurrency ?? 10,
    workflowCacheSize: options.workflowCacheSize ?? 1000,
    leaseTtlMs,
    sweepIntervalMs: toMs(options.sweepInterval ?? '5s'),
    lockDurationMs: toMs(options.lockDuration ?? '30s'),
    retentionMs: toMs(options.retention ?? '7 days'),
    maxPayloadBytes: options.maxPayloadBytes ?? 2 * 1024 * 1024,
    payloadCodec,
    activityDefaults: options.activityDefaults ?? {},
    jobRetention: { completed: 1000, failed: 5000, ...(options.jobRetention ?? {}) },
    logger,
  };
}
