import { randomUUID } from 'node:crypto';
import { Module, type INestApplicationContext, type Provider } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Job } from 'bullmq';
import { toMs, type Duration } from '../core/duration.js';
import { WorkflowClient } from '../client/workflow-client.js';
import { DurableModule } from '../nest/durable.module.js';
import type { DurableModuleOptions } from '../options.js';
import { DurableRuntime } from '../runtime.js';

/** How long `advanceTime` waits, at each fire time, for the workflows the schedules started to close. */
const SETTLE_MS = 2000;

/** Options of {@link TestWorkflowEnvironment.create}. */
export interface TestEnvironmentOptions extends Partial<DurableModuleOptions> {
  /** Redis of the tests (use a disposable one). */
  connection: DurableModuleOptions['connection'];
  /** Workflows, activities and what they inject. */
  providers: Provider[];
}

/**
 * A Nest application context with workers, on a random key prefix, whose clock can be moved
 * forward: `advanceTime('7 days')` fires every timer and schedule fire due by then, and workflow
 * code sees the moved clock, so a workflow that sleeps for days is tested in milliseconds.
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
      imports: [
        DurableModule.forRoot({
          prefix: `test-${randomUUID().slice(0, 8)}`,
          logger: false,
          leaseTtl: '2s',
          sweepInterval: '500ms',
          ...durable,
        }),
      ],
      providers,
    })
    class TestEnvironmentModule {}
    const app = await NestFactory.createApplicationContext(TestEnvironmentModule, {
      logger: false,
      abortOnError: false,
    });
    await app.init();
    return new TestWorkflowEnvironment(app, app.get(WorkflowClient), app.get(DurableRuntime));
  }

  /** The environment's current time (ms): real time plus every advance. */
  now(): number {
    return this.runtime.clock.now();
  }

  /**
   * Moves the clock forward, fire time by fire time: at each schedule fire time due by the new
   * time the clock stops, timers (and workflow timeouts) due by then fire, the schedules are woken
   * (as BullMQ would) and the workflows they started get a moment to finish (at most 2 s each, so
   * overlap policies see what a real gap between fires would show); then the clock reaches the
   * new time. Returns how many timers and timeouts fired and workflows the schedules started.
   */
  async advanceTime(duration: Duration): Promise<number> {
    const target = this.now() + toMs(duration);
    let fired = 0;
    let previous: number | undefined;
    for (;;) {
      const next = await this.runtime.schedules.earliestDue(target);
      if (next === undefined || next === previous) break; // a schedule that cannot move on (busy, failing) must not loop
      previous = next;
      this.offsetMs += Math.max(0, next - this.now());
      fired += await this.fireTimers();
      fired += await this.wakeSchedules();
    }
    this.offsetMs += Math.max(0, target - this.now());
    return fired + (await this.fireTimers()) + (await this.wakeSchedules());
  }

  /** Promotes every timer due by now; how many. */
  private async fireTimers(): Promise<number> {
    const now = this.now();
    let fired = 0;
    const { queues } = this.runtime;
    const partitions = this.runtime
      .servedTaskQueues()
      .flatMap((q) => Array.from({ length: queues.partitions.knownOf(q) }, (_, p) => queues.workflow(q, p)));
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

  /** One wake of every schedule (the code path of a BullMQ fire), then a bounded wait for what it started. */
  private async wakeSchedules(): Promise<number> {
    const started = (await this.runtime.schedules.wakeAll()).filter((a) => a.outcome === 'started' && a.workflowId);
    const deadline = Date.now() + SETTLE_MS;
    for (const action of started) {
      for (;;) {
        const meta = await this.runtime.histories.getMeta(action.workflowId!);
        if (meta?.status !== 'running' || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    return started.length;
  }

  /** Closes the app (workers drain). The Redis keys stay under the random prefix. */
  async close(): Promise<void> {
    await this.app.close();
  }
}
