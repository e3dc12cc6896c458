import { afterEach, describe, expect, test } from '@jest/globals';
import 'reflect-metadata';
import { Body, Controller, Get, Inject, Module, Param, Post, type INestApplication } from '@nestjs/common';
import { APP_FILTER, NestFactory } from '@nestjs/core';
import { randomUUID } from 'node:crypto';
import {
  DurableModule,
  RedurableExceptionFilter,
  Signal,
  Workflow,
  WorkflowClient,
  WorkflowRun,
  type WorkflowDescription,
} from 'redurable';
import { condition } from 'redurable/workflow';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../tools/embedded-redis.js';
import { testConnection } from '../support/test-app.js';

@Workflow({ taskQueue: 'filtered' })
class OrderWorkflow {
  private shipped = false;

  @WorkflowRun()
  async run(): Promise<string> {
    await condition(() => this.shipped);
    return 'shipped';
  }

  @Signal() ship() {
    this.shipped = true;
  }
}

/** A user's controller: it calls the client and lets the filter answer the library's errors. */
@Controller('orders')
class OrdersController {
  constructor(@Inject(WorkflowClient) private readonly client: WorkflowClient) {}

  @Post()
  async start(@Body() body: { id: string }): Promise<{ runId: string }> {
    const handle = await this.client.start(OrderWorkflow, { workflowId: body.id });
    return { runId: handle.runId! };
  }

  @Get(':id')
  describe(@Param('id') id: string): Promise<WorkflowDescription> {
    return this.client.getHandle(id).describe();
  }

  @Post(':id/signal')
  async signal(@Param('id') id: string, @Body() body: { name: string }): Promise<{ sent: true }> {
    await this.client.getHandle(id).signal(body.name);
    return { sent: true };
  }

  @Get('boom/plain')
  plain(): never {
    throw new Error('not a library error');
  }
}

let app: INestApplication | undefined;
let redis: EmbeddedRedis | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
  await redis?.stop();
  redis = undefined;
});

async function serve(module: unknown, global?: 'instance'): Promise<(path: string, body?: object) => Promise<Reply>> {
  app = await NestFactory.create(module as never, { logger: false });
  if (global) app.useGlobalFilters(new RedurableExceptionFilter());
  await app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  return async (path, body) => {
    const res = await fetch(`${base}${path}`, {
      method: body ? 'POST' : 'GET',
      headers: { 'content-type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
}
interface Reply {
  status: number;
  body: Record<string, any>;
}

function durable(connection = testConnection(), more: object = {}) {
  return DurableModule.forRoot({
    connection,
    prefix: `f-${randomUUID().slice(0, 8)}`,
    logger: false,
    leaseTtl: '2s',
    sweepInterval: '500ms',
    ...more,
  });
}

describe('RedurableExceptionFilter', () => {
  test('as APP_FILTER: 404 unknown workflow, 400 unknown signal, 409 already started and not running; the body names the error', async () => {
    @Module({
      imports: [durable()],
      controllers: [OrdersController],
      providers: [OrderWorkflow, { provide: APP_FILTER, useClass: RedurableExceptionFilter }],
    })
    class FilteredApp {}
    const call = await serve(FilteredApp);

    const missing = await call('/orders/nobody');
    expect(missing).toEqual({
      status: 404,
      body: {
        statusCode: 404,
        error: 'WorkflowNotFoundError',
        message: expect.stringContaining("Workflow 'nobody' was not found"),
      },
    });
    expect((await call('/orders', { id: 'o-1' })).status).toBe(201);
    const again = await call('/orders', { id: 'o-1' });
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('WorkflowAlreadyStartedError');
    const typo = await call('/orders/o-1/signal', { name: 'shp' });
    expect(typo.status).toBe(400);
    expect(typo.body).toMatchObject({
      error: 'UnknownSignalError',
      message: expect.stringContaining("no signal 'shp'"),
    });
    expect((await call('/orders/o-1/signal', { name: 'ship' })).status).toBe(201);
    await app!.get(WorkflowClient).getHandle('o-1').result();
    const closed = await call('/orders/o-1/signal', { name: 'ship' });
    expect(closed.status).toBe(409);
    expect(closed.body.error).toBe('WorkflowNotRunningError');
    // Errors that are not the library's are Nest's to answer, as before.
    expect(await call('/orders/boom/plain')).toEqual({
      status: 500,
      body: { statusCode: 500, message: 'Internal server error' },
    });
  });

  test('made with `new` (useGlobalFilters): 503 naming Redis when it is unreachable, in bounded time', async () => {
    redis = await startEmbeddedRedis({});
    @Module({
      imports: [durable(redis.url, { worker: false, connectTimeout: '1s' })],
      controllers: [OrdersController],
    })
    class ClientOnlyApp {}
    const call = await serve(ClientOnlyApp, 'instance');
    expect((await call('/orders/nobody')).status).toBe(404);

    await redis.stop();
    const down = await call('/orders/nobody');
    expect(down.status).toBe(503);
    expect(down.body.error).toBe('RedisUnavailableError');
    expect(down.body.message).toContain(`127.0.0.1:${redis.port}`);
    redis = await startEmbeddedRedis({ port: redis.port });
  }, 30_000);
});
