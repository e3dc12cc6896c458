import { afterAll, describe, expect, test } from '@jest/globals';
import 'reflect-metadata';
import { Controller, Get, Inject, Injectable, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Activities, Activity, DurableModule, Workflow, WorkflowRun } from 'redurable';
import { RedurableHealthIndicator } from 'redurable/health';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../tools/embedded-redis.js';
import { until } from '../support/until.js';

@Injectable()
@Activities()
class PingActivities {
  @Activity() async ping(): Promise<string> {
    return 'pong';
  }
}

@Workflow({ taskQueue: 'health' })
class PingWorkflow {
  @WorkflowRun() async run(): Promise<void> {}
}

@Controller('health')
class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(RedurableHealthIndicator) private readonly redurable: RedurableHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.redurable.isHealthy()]);
  }
}

/** Until each queue has a BullMQ worker connected (its named blocking connection) to the Redis at `url`. */
async function untilWorkersConnected(url: string, names: string[]): Promise<void> {
  const connection = new Redis(url);
  const queues = names.map((name) => new Queue(name, { connection, prefix: 'redurable' }));
  try {
    await until('every worker connected again', async () =>
      (await Promise.all(queues.map((q) => q.getWorkersCount()))).every((n) => n > 0),
    );
  } finally {
    await Promise.all(queues.map((q) => q.close()));
    await connection.quit();
  }
}

let redis: EmbeddedRedis | undefined;
let app: INestApplication | undefined;

afterAll(async () => {
  await app?.close().catch(() => undefined);
  await redis?.stop().catch(() => undefined);
});

describe('the @nestjs/terminus indicator (redurable/health)', () => {
  test('up with Redis, workers and sweep; down, naming Redis, once Redis is gone', async () => {
    redis = await startEmbeddedRedis({});
    @Module({
      imports: [
        DurableModule.forRoot({
          connection: redis.url,
          logger: false,
          sweepInterval: '200ms',
          connectTimeout: '1s',
          shutdownTimeout: '1s',
        }),
        TerminusModule.forRoot({ logger: false }),
      ],
      controllers: [HealthController],
      providers: [RedurableHealthIndicator, PingActivities, PingWorkflow],
    })
    class HealthApp {}
    app = await NestFactory.create(HealthApp, { logger: false });
    await app.listen(0, '127.0.0.1');
    const url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}/health`;

    const up = await fetch(url);
    const upBody = (await up.json()) as { status: string; info: { redurable: Record<string, any> } };
    expect(up.status).toBe(200);
    expect(upBody.status).toBe('ok');
    expect(upBody.info.redurable).toMatchObject({
      status: 'up',
      redis: { reachable: true },
      workers: { enabled: true, running: 2, total: 2 },
      sweep: { enabled: true, lagging: false },
    });

    await redis.stop();
    const down = await fetch(url);
    const downBody = (await down.json()) as { status: string; error: { redurable: Record<string, any> } };
    expect(down.status).toBe(503);
    expect(downBody.status).toBe('error');
    expect(downBody.error.redurable.status).toBe('down');
    expect(downBody.error.redurable.message).toContain(`Redis at 127.0.0.1:${redis.port} is unreachable`);

    // Redis back on its port: up again (and the app can close cleanly).
    redis = await startEmbeddedRedis({ port: redis.port });
    await until('the check to be up again', async () => (await fetch(url)).status === 200);
    // The main connection is back, but each BullMQ worker reconnects its own blocking connection
    // later. Closed before they are back, the app's graceful close can outlast the 1s
    // shutdownTimeout; the forced close that follows leaves those workers' timers running (BullMQ's
    // close(true) returns the graceful close already under way), and they keep the Jest worker
    // process from exiting. So close once every worker is connected again.
    await untilWorkersConnected(redis.url, ['{health-workflows}', '{health-activities}', '{schedules}']);
    await app.close();
    app = undefined;
  }, 30_000);
});
