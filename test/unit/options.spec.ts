/**
 * The options compiler (options.ts `resolveDurableOptions`): every default, durations read into
 * milliseconds, and one InvalidOptionsError naming every bad option (exact messages).
 */
import { describe, expect, test } from '@jest/globals';
import { InvalidOptionsError } from '../../libs/redurable/src/core/errors/library.errors.js';
import { silentLogger } from '../../libs/redurable/src/core/ports/index.js';
import { resolveDurableOptions, type DurableModuleOptions } from '../../libs/redurable/src/options.js';

const connection = 'redis://localhost:6379';
const resolve = (options: Partial<DurableModuleOptions> & Record<string, unknown>) =>
  resolveDurableOptions({ connection, ...options } as DurableModuleOptions);

function messageOf(options: unknown): string {
  try {
    resolveDurableOptions(options as DurableModuleOptions);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidOptionsError);
    return (err as Error).message;
  }
  throw new Error('no error');
}

describe('defaults', () => {
  test('every option has its documented default', () => {
    expect(resolveDurableOptions({ connection })).toStrictEqual({
      connection,
      defaultVersioning: 'auto-upgrade',
      connectTimeoutMs: 10_000,
      shutdownTimeoutMs: 10_000,
      prefix: 'redurable',
      buildId: undefined,
      taskQueues: undefined,
      taskTokenSecret: undefined,
      shards: undefined,
      partitions: {},
      worker: true,
      concurrency: 10,
      eagerActivities: true,
      workflowConcurrency: 10,
      workflowCacheSize: 1000,
      replayCheck: { perType: 50, onFailure: 'fail' },
      leaseTtlMs: 10_000,
      sweepIntervalMs: 5000,
      lockDurationMs: 30_000,
      retentionMs: 7 * 24 * 3600 * 1000,
      maxPayloadBytes: 2 * 1024 * 1024,
      payloadCodec: undefined,
      payloadClasses: [],
      activityDefaults: {},
      jobRetention: { completed: 1000, failed: 5000 },
      metrics: undefined,
      logger: undefined,
    });
  });

  test('given values are kept, durations read into milliseconds', () => {
    const codec = { encode: (s: string) => s, decode: (s: string) => s };
    const partitions = { transfers: 4 };
    const resolved = resolve({
      connectTimeout: '2s',
      shutdownTimeout: 1500,
      prefix: 'app-1.test_x',
      taskQueues: ['transfers', 'mail.out'],
      shards: 64,
      partitions,
      worker: false,
      concurrency: 3,
      workflowConcurrency: 4,
      workflowCacheSize: 0,
      leaseTtl: '1m',
      sweepInterval: '250ms',
      lockDuration: '1h',
      retention: '3 days',
      maxPayloadBytes: 1024,
      payloadCodec: codec,
      activityDefaults: { startToCloseTimeout: '30s' },
      jobRetention: { completed: 5 },
      logger: silentLogger,
    });
    expect(resolved).toMatchObject({
      connectTimeoutMs: 2000,
      shutdownTimeoutMs: 1500,
      prefix: 'app-1.test_x',
      taskQueues: ['transfers', 'mail.out'],
      shards: 64,
      partitions: { transfers: 4 },
      worker: false,
      concurrency: 3,
      workflowConcurrency: 4,
      workflowCacheSize: 0,
      leaseTtlMs: 60_000,
      sweepIntervalMs: 250,
      lockDurationMs: 3_600_000,
      retentionMs: 259_200_000,
      maxPayloadBytes: 1024,
      activityDefaults: { startToCloseTimeout: '30s' },
      jobRetention: { completed: 5, failed: 5000 },
    });
    expect(resolved.payloadCodec).toBe(codec);
    expect(resolved.logger).toBe(silentLogger);
    expect(resolved.partitions).not.toBe(partitions); // a copy: the caller's object is not shared
    expect(resolve({ retention: 0, logger: false })).toMatchObject({ retentionMs: 0, logger: false });
    expect(resolve({ connectTimeout: 0 }).connectTimeoutMs).toBe(1); // never a zero wait
  });

  test('metrics: true is prom-client defaults, false or absent is off, an object is kept', () => {
    const registry = {} as never;
    expect(resolve({ metrics: true }).metrics).toEqual({});
    expect(resolve({ metrics: false }).metrics).toBeUndefined();
    expect(resolve({ metrics: { registry, prefix: 'app_' } }).metrics).toEqual({ registry, prefix: 'app_' });
  });
});

describe('invalid options', () => {
  test('every bad option is named in one message', () => {
    expect(
      messageOf({
        connection,
        prefix: 'a b',
        shards: 2000,
        partitions: { q: 0 },
        worker: 'yes',
        concurrency: 0,
        workflowConcurrency: 10_001,
        workflowCacheSize: -1,
        leaseTtl: 'soon',
        sweepInterval: -5,
        maxPayloadBytes: 1.5,
        metrics: 'yes',
      }),
    ).toBe(
      'Invalid DurableModule options: ' +
        [
          'prefix may only hold letters, digits, _, . and - (got a b)',
          'shards must not be greater than 1024',
          'partitions must map task queue names to whole numbers from 1 to 256 (got {"q":0})',
          'worker must be a boolean value',
          'concurrency must not be less than 1',
          'workflowConcurrency must not be greater than 10000',
          'workflowCacheSize must not be less than 0',
          'leaseTtl must be milliseconds or a duration like \'30s\' (got "soon")',
          "sweepInterval must be milliseconds or a duration like '30s' (got -5)",
          'maxPayloadBytes must be an integer number',
          'metrics must be true, false or { registry?, prefix? } (got "yes")',
        ].join('; '),
    );
  });

  test('unknown options are refused by name, after the connection problem', () => {
    expect(messageOf({ connection: { hots: 'localhost' }, prefx: 'x', workers: 2 })).toBe(
      'Invalid DurableModule options: connection has option(s) that are not ioredis options: hots (check the spelling); unknown option(s): prefx, workers',
    );
  });

  test('the connection is required, and must be a Redis URL or ioredis options', () => {
    expect(messageOf({})).toBe(
      'Invalid DurableModule options: connection is required: a redis:// URL, ioredis options or an ioredis instance',
    );
    expect(messageOf({ connection: 'localhost:6379' })).toBe(
      'Invalid DurableModule options: connection must be a redis:// or rediss:// URL (got "localhost:6379")',
    );
    expect(messageOf(undefined)).toBe('DurableModule options are missing: pass at least { connection }');
  });

  test('leaseTtl is at least 100ms', () => {
    expect(messageOf({ connection, leaseTtl: '99ms' })).toBe(
      'Invalid DurableModule options: leaseTtl must be at least 100ms (got 99ms)',
    );
    expect(resolve({ leaseTtl: 100 }).leaseTtlMs).toBe(100);
  });

  test('metrics given as something else than a boolean or an object', () => {
    expect(messageOf({ connection, metrics: null })).toBe(
      'Invalid DurableModule options: metrics must be true, false or { registry?, prefix? } (got null)',
    );
  });

  test('a bad task queue name in taskQueues is named, with the option and the value', () => {
    expect(messageOf({ connection, taskQueues: ['ok', 'bad queue', 'x'.repeat(101)] })).toBe(
      'Invalid DurableModule options: ' +
        'taskQueues: "bad queue" is not a task queue name: task queue names may only hold letters, digits, _, . and - (1 to 100 of them); ' +
        `taskQueues: "${'x'.repeat(101)}" is not a task queue name: task queue names may only hold letters, digits, _, . and - (1 to 100 of them)`,
    );
    expect(messageOf({ connection, taskQueues: ['ok', 7] })).toBe(
      'Invalid DurableModule options: taskQueues: 7 is not a task queue name: task queue names may only hold letters, digits, _, . and - (1 to 100 of them)',
    );
    expect(messageOf({ connection, taskQueues: 'transfers' })).toBe(
      'Invalid DurableModule options: taskQueues must be an array of task queue names (got "transfers")',
    );
    expect(resolve({ taskQueues: [] }).taskQueues).toEqual([]);
  });
});

describe('activityDefaults and jobRetention', () => {
  test('a bad duration, retry policy or flag in activityDefaults is named by its path, with the value', () => {
    expect(
      messageOf({
        connection,
        activityDefaults: {
          startToCloseTimeout: 'soon',
          scheduleToCloseTimeout: -1,
          heartbeatTimeout: '5 minutes',
          taskQueue: 'a b',
          eager: 'yes',
          retry: {
            initialInterval: '1 fortnight',
            maximumInterval: '1m',
            backoffCoefficient: 0.5,
            maximumAttempts: 2.5,
            nonRetryableErrorTypes: ['Fatal', 3],
          },
        },
      }),
    ).toBe(
      'Invalid DurableModule options: ' +
        [
          'activityDefaults.taskQueue: "a b" is not a task queue name: task queue names may only hold letters, digits, _, . and - (1 to 100 of them)',
          'activityDefaults.startToCloseTimeout must be milliseconds or a duration like \'30s\' (got "soon")',
          "activityDefaults.scheduleToCloseTimeout must be milliseconds or a duration like '30s' (got -1)",
          'activityDefaults.eager must be true or false (got "yes")',
          'activityDefaults.retry.initialInterval must be milliseconds or a duration like \'30s\' (got "1 fortnight")',
          'activityDefaults.retry.backoffCoefficient must be a number of at least 1 (got 0.5)',
          'activityDefaults.retry.maximumAttempts must be a whole number of at least 0, 0 meaning unlimited (got 2.5)',
          'activityDefaults.retry.nonRetryableErrorTypes must be an array of error type names (got ["Fatal",3])',
        ].join('; '),
    );
  });

  test('unknown fields of activityDefaults and its retry policy are refused by name; so is a value that is not an object', () => {
    expect(messageOf({ connection, activityDefaults: { startToClose: '5s', retry: { maxAttempts: 3 } } })).toBe(
      'Invalid DurableModule options: activityDefaults has unknown option(s): startToClose; activityDefaults.retry has unknown option(s): maxAttempts',
    );
    expect(messageOf({ connection, activityDefaults: '5s' })).toBe(
      'Invalid DurableModule options: activityDefaults must be an object of activity options (got "5s")',
    );
    expect(messageOf({ connection, activityDefaults: { retry: 3 } })).toBe(
      'Invalid DurableModule options: activityDefaults.retry must be a retry policy object (got 3)',
    );
  });

  test('valid activityDefaults are kept as given', () => {
    const activityDefaults = {
      taskQueue: 'mail',
      startToCloseTimeout: '5 minutes',
      scheduleToCloseTimeout: 60_000,
      heartbeatTimeout: '30s',
      eager: false,
      retry: {
        initialInterval: '2s',
        maximumInterval: '1m',
        backoffCoefficient: 1.5,
        maximumAttempts: 0,
        nonRetryableErrorTypes: ['Fatal'] as string[],
      },
    } as const;
    expect(resolve({ activityDefaults }).activityDefaults).toEqual(activityDefaults);
  });

  test('jobRetention takes whole numbers of at least 0 for completed and failed, and nothing else', () => {
    expect(messageOf({ connection, jobRetention: { completed: -1, failed: '1 day', kept: 3 } })).toBe(
      'Invalid DurableModule options: ' +
        [
          'jobRetention.completed must be a whole number of at least 0 (got -1)',
          'jobRetention.failed must be a whole number of at least 0 (got "1 day")',
          'jobRetention has unknown option(s): kept',
        ].join('; '),
    );
    expect(messageOf({ connection, jobRetention: 100 })).toBe(
      'Invalid DurableModule options: jobRetention must be { completed?, failed? }, numbers of finished jobs kept (got 100)',
    );
    expect(resolve({ jobRetention: { completed: 0 } }).jobRetention).toEqual({ completed: 0, failed: 5000 });
  });
});

describe('taskTokenSecret', () => {
  test('is kept when long enough; a short one is refused by name', () => {
    expect(resolve({ taskTokenSecret: 'x'.repeat(32) }).taskTokenSecret).toBe('x'.repeat(32));
    expect(messageOf({ connection, taskTokenSecret: 'short' })).toContain('taskTokenSecret');
  });
});

describe('payloadClasses', () => {
  class Money {
    constructor(readonly amount: number) {}
  }
  test('named classes are kept; anything else, or two classes with one name, is refused', () => {
    expect(resolve({ payloadClasses: [Money] }).payloadClasses).toEqual([Money]);
    const Other = (() => class Money {})();
    expect(messageOf({ connection, payloadClasses: [Money, Other] })).toBe(
      'Invalid DurableModule options: payloadClasses has two classes named Money: the class name is what a payload records, so rename one',
    );
    expect(messageOf({ connection, payloadClasses: [Money, 'Address'] })).toBe(
      'Invalid DurableModule options: payloadClasses must be an array of named classes, like [Money] (got Money, "Address")',
    );
    expect(messageOf({ connection, payloadClasses: Money })).toContain(
      'payloadClasses must be an array of named classes',
    );
  });
});
