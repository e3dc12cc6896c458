import { afterEach, describe, expect, test } from '@jest/globals';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { IsPositive, IsString } from 'class-validator';
import { randomUUID } from 'node:crypto';
import {
  Activities,
  Activity,
  DurableModule,
  Workflow,
  WorkflowClient,
  WorkflowInputValidationError,
  WorkflowRun,
  type DurableModuleOptions,
  type DurableOptionsFactory,
} from 'redurable';
import { proxyActivities } from 'redurable/workflow';
import { createTestApp, keysUnder, testConnection, type TestApp } from '../support/test-app.js';

class PaymentDto {
  @IsString() account: string;
  @IsPositive() amount: number;
}

let finished = 0;

@Injectable()
@Activities()
class PaymentActivities {
  @Activity() async pay(dto: PaymentDto): Promise<string> {
    await new Promise((r) => setTimeout(r, 400));
    finished++;
    return `paid ${dto.amount} from ${dto.account}`;
  }
}

@Workflow({ taskQueue: 'payments' })
class PaymentWorkflow {
  private readonly acts = proxyActivities(PaymentActivities);

  @WorkflowRun()
  async run(dto: PaymentDto): Promise<string> {
    return this.acts.pay(dto);
  }
}

@Injectable()
class RedisConfig {
  readonly url = testConnection();
}

@Module({ providers: [RedisConfig], exports: [RedisConfig] })
class ConfigModule {}

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('DurableModule', () => {
  test('forRootAsync takes its options from an injected provider', async () => {
    const prefix = `t-${randomUUID().slice(0, 8)}`;
    @Module({
      imports: [
        DurableModule.forRootAsync({
          imports: [ConfigModule],
          inject: [RedisConfig],
          useFactory: (config: RedisConfig) => ({ connection: config.url, prefix, logger: false }),
        }),
      ],
      providers: [PaymentActivities, PaymentWorkflow],
    })
    class AsyncModule {}
    const app = await NestFactory.createApplicationContext(AsyncModule, { logger: false });
    const result = await app
      .get(WorkflowClient)
      .execute(PaymentWorkflow, { workflowId: 'async-1', args: [{ account: 'a', amount: 5 }] });
    expect(result).toBe('paid 5 from a');
    await app.close();
  });

  test('forRootAsync takes its options from a factory class (useClass) or an existing provider (useExisting)', async () => {
    const prefix = `t-${randomUUID().slice(0, 8)}`;
    @Injectable()
    class DurableConfig implements DurableOptionsFactory {
      constructor(private readonly redis: RedisConfig) {}
      createDurableOptions(): DurableModuleOptions {
        return { connection: this.redis.url, prefix, logger: false };
      }
    }
    @Module({ imports: [ConfigModule], providers: [DurableConfig], exports: [DurableConfig] })
    class DurableConfigModule {}
    const variants = [
      DurableModule.forRootAsync({ imports: [ConfigModule], useClass: DurableConfig }),
      DurableModule.forRootAsync({ imports: [DurableConfigModule], useExisting: DurableConfig }),
    ];
    for (const [i, durable] of variants.entries()) {
      @Module({ imports: [durable], providers: [PaymentActivities, PaymentWorkflow] })
      class AsyncModule {}
      const app = await NestFactory.createApplicationContext(AsyncModule, { logger: false });
      const result = await app
        .get(WorkflowClient)
        .execute(PaymentWorkflow, { workflowId: `async-class-${i}`, args: [{ account: 'b', amount: 7 }] });
      expect(result).toBe('paid 7 from b');
      await app.close();
    }
    expect(() =>
      DurableModule.forRootAsync({ useClass: DurableConfig, useFactory: () => ({ connection: 'redis://x' }) }),
    ).toThrow('DurableModule.forRootAsync needs exactly one of useFactory, useClass or useExisting (got 2)');
  });

  test('workflow inputs that are class-validator DTOs are validated before anything is written', async () => {
    t = await createTestApp([PaymentActivities, PaymentWorkflow]);
    const before = await keysUnder(t.redis, t.prefix);
    const err = await t.client
      .start(PaymentWorkflow, { workflowId: 'dto-1', args: [{ account: 'a', amount: -3 }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowInputValidationError);
    expect((err as Error).message).toBe(
      "Invalid argument 1 of workflow 'PaymentWorkflow': amount must be a positive number",
    );
    expect(await keysUnder(t.redis, t.prefix)).toEqual(before);
  });

  test('closing the app lets a running activity finish and records its result before the workers stop', async () => {
    t = await createTestApp([PaymentActivities, PaymentWorkflow]);
    const prefix = t.prefix;
    const before = finished;
    await t.client.start(PaymentWorkflow, { workflowId: 'drain-1', args: [{ account: 'b', amount: 7 }] });
    const deadline = Date.now() + 5000;
    while (
      !(await t.client.getHandle('drain-1').describe()).pendingActivities.some((p) => p.state === 'active') &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await t.app.close(); // the activity is mid-way (400ms)
    expect(finished).toBe(before + 1);
    await t.redis.quit();
    t = await createTestApp([], { prefix, worker: false });
    const history = await t.client.getHandle('drain-1').fetchHistory();
    expect(history.filter((e) => e.type === 'ActivityTaskCompleted')).toHaveLength(1);
  });
});
