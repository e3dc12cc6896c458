import { afterEach, describe, expect, test } from '@jest/globals';
import { Injectable, Module, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Activities,
  Activity,
  DurableModule,
  RedisConfigurationError,
  RedisUnavailableError,
  Workflow,
  WorkflowClient,
  WorkflowRun,
  activityContext,
  type DurableModuleOptions,
} from 'redurable';
import { proxyActivities } from 'redurable/workflow';
import { freePort, startEmbeddedRedis, type EmbeddedRedis } from '../../tools/embedded-redis.js';
import { until } from '../support/until.js';

const SHUTDOWN_APP = fileURLToPath(new URL('../../dist/test/fixtures/shutdown-app.js', import.meta.url));

@Injectable()
@Activities()
class SlowActivities {
  static aborted = 0;
  @Activity({ startToCloseTimeout: '1m' })
  async wait(ms: number): Promise<string> {
    const { signal } = activityContext();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      signal.addEventListener('abort', () => {
        SlowActivities.aborted++;
        clearTimeout(timer);
        resolve();
      });
    });
    return `waited ${ms}`;
  }
}

@Workflow({ taskQueue: 'fail-fast' })
class WaitWorkflow {
  private readonly acts = proxyActivities(SlowActivities);
  @WorkflowRun() async run(ms: number): Promise<string> {
    return this.acts.wait(ms);
  }
}

/** A logger that keeps what the library says. */
function recordingLogger() {
  const lines: { level: string; message: string }[] = [];
  const logger: LoggerService = {
    log: (m: unknown) => lines.push({ level: 'log', message: String(m) }),
    warn: (m: unknown) => lines.push({ level: 'warn', message: String(m) }),
    error: (m: unknown) => lines.push({ level: 'error', message: String(m) }),
  };
  return { logger, lines, said: (text: string) => lines.filter((l) => l.message.includes(text)) };
}

async function boot(options: DurableModuleOptions, providers: unknown[] = [SlowActivities, WaitWorkflow]) {
  @Module({
    imports: [
      DurableModule.forRoot({
        prefix: `ff-${randomUUID().slice(0, 8)}`,
        logger: false,
        leaseTtl: '2s',
        sweepInterval: '500ms',
        ...options,
      }),
    ],
    providers: providers as never[],
  })
  class FailFastModule {}
  return NestFactory.createApplicationContext(FailFastModule, { logger: false, abortOnError: false });
}

async function elapsed<T>(work: () => Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const started = Date.now();
  try {
    const value = await work();
    return { ms: Date.now() - started, value };
  } catch (error) {
    return { ms: Date.now() - started, error };
  }
}

const servers: EmbeddedRedis[] = [];
async function privateRedis(args: string[] = [], port?: number): Promise<EmbeddedRedis> {
  const redis = await startEmbeddedRedis({ args, port });
  servers.push(redis);
  return redis;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

describe('unreachable Redis at boot', () => {
  test('app.init() fails within connectTimeout with one error naming host and port, never the password', async () => {
    const port = await freePort(); // nothing listens there
    const res = await elapsed(() => boot({ connection: `redis://app:s3cret@127.0.0.1:${port}`, connectTimeout: '1s' }));
    expect(res.error).toBeInstanceOf(RedisUnavailableError);
    const message = (res.error as Error).message;
    expect(message).toContain(`Cannot start Redurable: Redis at 127.0.0.1:${port} is unreachable (waited 1000 ms)`);
    expect(message).toContain('ECONNREFUSED');
    expect(message).toContain('raise `connectTimeout`');
    expect(message).not.toContain('s3cret');
    expect(res.ms).toBeLessThan(4000);
  });

  test('the default bound is about 10 seconds', async () => {
    const port = await freePort();
    const res = await elapsed(() => boot({ connection: { host: '127.0.0.1', port } }));
    expect(res.error).toBeInstanceOf(RedisUnavailableError);
    expect((res.error as Error).message).toContain('(waited 10000 ms)');
    expect(res.ms).toBeGreaterThanOrEqual(9500);
    expect(res.ms).toBeLessThan(14_000);
  }, 30_000);
});

describe('Redis settings checked at boot', () => {
  test('an evicting maxmemory-policy refuses to start, saying why', async () => {
    const redis = await privateRedis(['--maxmemory-policy', 'allkeys-lru']);
    const res = await elapsed(() => boot({ connection: redis.url }));
    expect(res.error).toBeInstanceOf(RedisConfigurationError);
    expect((res.error as Error).message).toBe(
      `Redis at 127.0.0.1:${redis.port} has maxmemory-policy 'allkeys-lru': when it is full it evicts keys, and an evicted history loses its workflow. ` +
        'Set `maxmemory-policy noeviction` (redis.conf, or CONFIG SET maxmemory-policy noeviction)',
    );
  });

  test('AOF off gives one warning line; AOF on gives none', async () => {
    const off = await privateRedis(['--appendonly', 'no']);
    const quiet = recordingLogger();
    const app = await boot({ connection: off.url, logger: quiet.logger });
    await app.close();
    expect(quiet.said('without the append-only file')).toHaveLength(1);
    expect(quiet.said('without the append-only file')[0].level).toBe('warn');

    const on = await privateRedis(['--appendonly', 'yes']);
    const loud = recordingLogger();
    const app2 = await boot({ connection: on.url, logger: loud.logger });
    await app2.close();
    expect(loud.said('append-only')).toHaveLength(0);
  });

  test('where CONFIG is not allowed (managed Redis) it says the settings could not be checked and starts', async () => {
    const redis = await privateRedis(['--rename-command', 'CONFIG', '""']);
    const log = recordingLogger();
    const app = await boot({ connection: redis.url, logger: log.logger });
    const result = await app.get(WorkflowClient).execute(WaitWorkflow, { workflowId: 'managed', args: [1] });
    await app.close();
    expect(result).toBe('waited 1');
    expect(log.said(`Could not check the settings of Redis at 127.0.0.1:${redis.port}`)).toHaveLength(1);
  });
});

describe('Redis lost while running', () => {
  test('a client-only app rejects start, signal and describe with RedisUnavailableError after connectTimeout', async () => {
    const redis = await privateRedis();
    const app = await boot({ connection: redis.url, worker: false, connectTimeout: '1s', shutdownTimeout: '1s' });
    const client = app.get(WorkflowClient);
    const handle = await client.start(WaitWorkflow, { workflowId: 'before', args: [1] });
    try {
      await redis.stop('SIGKILL');
      await new Promise((r) => setTimeout(r, 300)); // the client's connection notices the drop
      const calls: (() => Promise<unknown>)[] = [
        () => client.start(WaitWorkflow, { workflowId: 'after', args: [1] }),
        () => client.getHandle(handle.workflowId).signal('poke'),
        () => handle.describe(),
      ];
      for (const call of calls) {
        const res = await elapsed(call);
        expect(res.error).toBeInstanceOf(RedisUnavailableError);
        // Normally the call finds no connection and sends nothing; a call made while the drop was not yet
        // noticed is bounded the same way, and says its command may still reach Redis once it is back.
        expect((res.error as Error).message).toMatch(
          new RegExp(
            `^Cannot (start|signal|describe) workflow '(before|after)': Redis at 127\\.0\\.0\\.1:${redis.port} ` +
              '(is unreachable \\(waited 1000 ms\\)|did not answer within 1000 ms)',
          ),
        );
        expect(res.ms).toBeGreaterThanOrEqual(900);
        expect(res.ms).toBeLessThan(3000);
      }
    } finally {
      const closing = await elapsed(() => app.close());
      expect(closing.ms).toBeLessThan(4000);
    }
  }, 30_000);

  test('workers log once when the connection drops and once when it is back, then carry on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rd-ff-'));
    const first = await startEmbeddedRedis({ dir, appendOnly: true, appendFsync: 'always' });
    const log = recordingLogger();
    const app = await boot({ connection: first.url, logger: log.logger });
    const client = app.get(WorkflowClient);
    try {
      expect(await client.execute(WaitWorkflow, { workflowId: 'before-drop', args: [1] })).toBe('waited 1');
      await first.stop('SIGKILL');
      await until('the drop to be logged', () => log.said('Lost the connection to Redis').length > 0, 5000);
      await new Promise((r) => setTimeout(r, 1500)); // several reconnect attempts fail meanwhile
      const second = await privateRedis(['--appendonly', 'yes', '--dir', dir], first.port);
      await until('the reconnection to be logged', () => log.said('Reconnected to Redis').length > 0, 10_000);
      expect(await client.execute(WaitWorkflow, { workflowId: 'after-drop', args: [1] })).toBe('waited 1');
      expect(log.said('Lost the connection to Redis')).toHaveLength(1);
      expect(log.said('Lost the connection to Redis')[0].message).toContain(`Redis at 127.0.0.1:${second.port}`);
      expect(log.said('Reconnected to Redis')).toHaveLength(1);
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 40_000);

  test('app.close() finishes within shutdownTimeout when Redis is gone; the running activity is aborted', async () => {
    const redis = await privateRedis();
    const app = await boot({ connection: redis.url, shutdownTimeout: '1s' });
    const client = app.get(WorkflowClient);
    SlowActivities.aborted = 0;
    const handle = await client.start(WaitWorkflow, { workflowId: 'long', args: [60_000] });
    await until(
      'the activity to run',
      async () => (await handle.describe()).pendingActivities[0]?.state === 'running', // eager, in this process
      10_000,
    );
    await redis.stop('SIGKILL');
    const closing = await elapsed(() => app.close());
    expect(closing.error).toBeUndefined();
    expect(closing.ms).toBeLessThan(4000);
    expect(SlowActivities.aborted).toBe(1);
  }, 30_000);
});

describe('connection option', () => {
  test('an existing ioredis instance is used through a duplicate and left open for its owner', async () => {
    const redis = await privateRedis();
    const mine = new Redis(redis.url);
    const app = await boot({ connection: mine });
    expect(await app.get(WorkflowClient).execute(WaitWorkflow, { workflowId: 'instance', args: [1] })).toBe('waited 1');
    await app.close();
    expect(await mine.ping()).toBe('PONG');
    await mine.quit();
  });
});

describe('shutdown', () => {
  test('a Nest app whose Redis died exits on SIGTERM within shutdownTimeout, its activity aborted', async () => {
    const redis = await privateRedis();
    const app = spawn(process.execPath, [SHUTDOWN_APP], {
      env: { ...process.env, NODE_OPTIONS: '', REDIS_URL: redis.url, PREFIX: `sd-${randomUUID().slice(0, 8)}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    app.stdout!.on('data', (d) => (out += d));
    app.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => app.once('close', (code) => resolve(code)));
    try {
      await until('the activity to run', () => out.includes('activity running'), 20_000);
      await redis.stop('SIGKILL');
      const started = Date.now();
      app.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([
        exited,
        new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), 8000))),
      ]);
      clearTimeout(timer);
      expect(code).not.toBe('hung');
      expect(out).toContain('activity aborted');
      expect(Date.now() - started).toBeLessThan(6000);
    } finally {
      app.kill('SIGKILL');
    }
  }, 40_000);
});
