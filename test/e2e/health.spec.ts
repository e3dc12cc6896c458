import { afterAll, describe, expect, test } from '@jest/globals';
import 'reflect-metadata';
import { Controller, Get, Inject, Injectable, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
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
    await app.close();
    app = undefined;
  }, 30_000);
});
