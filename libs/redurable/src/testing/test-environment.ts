import { randomUUID } from 'node:crypto';
import { Module, type INestApplicationContext, type Provider } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Job } from 'bullmq';
import { toMs, type Duration } from '../common/duration.js';
import { WorkflowClient } from '../client/workflow-client.js';
import { DurableModule } from '../module/durable.module.js';
import type { DurableModuleOptions } from '../module/durable-options.js';
import { DurableRuntime } from '../module/durable-runtime.js';

/** Options of {@link TestWorkflowEnvironment.create}. */
export interface TestEnvironmentOptions extends Partial<DurableModuleOptions> {
  /** Redis of the tests (use a disposable one). */
  connection: DurableModuleOptions['connection'];
  /** Workflows, activities and what they inject. */
  providers: Provider[];
}

/**
 * A Nest application context with workers, on a random key prefix, whose clock can be moved
 * forward: `advanceTime('7 days')` fires every timer due by then at once, and workflow code
 * sees the moved clock, so a workflow that sleeps for days is tested in milliseconds.
 *
 * @example
 * const env = await TestWorkflowEnvironment.create({ connection: redisUrl, providers: [Acts, ReminderWorkflow] });
 * const handle = await env.client.start(ReminderWorkflow, { workflowId: 'r1' });
 * await env.advanceTime('7 days');
 * expect(await handle.result()).toBe('reminded');
 * await env.close();
 */
export class TestWorkflowEnvironment {
  private offsetMs = 0;

  private constructor(
    readonly app: INestApplicationContext,
    readonly client: WorkflowClient,
    private readonly runtime: DurableRuntime,
  ) {
    runtime.clock = { now: () => Date.now() + this.offsetMs };
  }

  static async create(options: TestEnvironmentOptions): Promise<TestWorkflowEnvironment> {
    const { providers, ...durable } = options;
    @Module({
      imports: [DurableModule.forRoot({ prefix: `test-${randomUUID().slice(0, 8)}`, logger: false, leaseTtl: '2s', sweepInterval: '500ms', ...durable })],
      providers,
    })
    class TestEnvironmentModule {}
    const app = await NestFactory.createApplicationContext(TestEnvironmentModule, { logger: false, abortOnError: false });
    await app.init();
    return new TestWorkflowEnvironment(app, app.get(WorkflowClient), app.get(DurableRuntime));
  }

  /** The environment's current time (ms): real time plus every advance. */
  now(): number {
    return this.runtime.clock.now();
  }

  /**
   * Moves the clock forward and fires every durable timer due by the new time, and closes the
   * workflows whose workflow timeout it passed. Returns how many timers and timeouts fired.
   */
  async advanceTime(duration: Duration): Promise<number> {
    this.offsetMs += toMs(duration);
    const now = this.now();
    let fired = 0;
    const { queues } = this.runtime;
    const partitions = this.runtime.servedTaskQueues().flatMap((q) => Array.from({ length: queues.partitions.knownOf(q) }, (_, p) => queues.workflow(q, p)));
    for (const queue of partitions) {
      const delayed = (await queue.getDelayed()) as Job[];
      for (const job of delayed) {
        if ((job.name !== 'timer' && job.name !== 'timeout') || job.timestamp + (job.opts.delay ?? 0) > now) continue;
        await job.promote().catch(() => undefined); // already promoted or fired meanwhile
        fired++;
      }
    }
    return fired;
  }

  /** Closes the app (workers drain). The Redis keys stay under the random prefix. */
  async close(): Promise<void> {
    await this.app.close();
  }
}
