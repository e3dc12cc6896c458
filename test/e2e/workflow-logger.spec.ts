/**
 * workflowLogger(): lines from workflow code go to the module's logger, each carrying the
 * workflow's type, id and run id, and each printed once: not again when a new worker replays
 * the history, not even the line logged before waiting for a signal (no command after it).
 */
import { afterEach, expect, test } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { Activities, Activity, Signal, Workflow, WorkflowRun, type RedurableLogger } from 'redurable';
import { condition, proxyActivities, workflowLogger } from 'redurable/workflow';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { until } from '../support/until.js';

@Injectable()
@Activities()
class StockActivities {
  @Activity() async reserve(order: string): Promise<string> {
    return `reserved ${order}`;
  }
}

@Workflow({ taskQueue: 'logging' })
class LoggingWorkflow {
  private readonly stock = proxyActivities(StockActivities);
  private approved = false;

  @Signal() approve() {
    this.approved = true;
  }

  @WorkflowRun()
  async run(order: string) {
    const log = workflowLogger();
    log.log(`reserving ${order}`);
    await this.stock.reserve(order);
    log.warn(`waiting for approval of ${order}`);
    await condition(() => this.approved);
    log.error(`approved ${order}`, new Error('only a test'));
    log.debug('done');
    return 'done';
  }
}

/** A logger that keeps every line, with its level. */
function capture(lines: string[]): RedurableLogger {
  return {
    log: (m) => lines.push(`log ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m, stack) => lines.push(`error ${m}${stack ? ` [${stack.split('\n')[0]}]` : ''}`),
    debug: (m) => lines.push(`debug ${m}`),
  };
}

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

test('each line is printed once with the workflow type, id and run id, also when a new worker replays the history', async () => {
  const first: string[] = [];
  t = await createTestApp([StockActivities, LoggingWorkflow], { logger: capture(first) });
  const handle = await t.client.start(LoggingWorkflow, { workflowId: 'logged-1', args: ['order-7'] });
  const ours = (lines: string[]) => lines.filter((l) => l.includes('LoggingWorkflow logged-1'));
  await until('the line before the wait', () => ours(first).some((l) => l.includes('waiting for approval')));
  const { runId } = await handle.describe();
  const { prefix } = t;
  await t.close();

  // A new worker has no cached execution: the signal's task replays the history from the start.
  const second: string[] = [];
  t = await createTestApp([StockActivities, LoggingWorkflow], { logger: capture(second), prefix });
  await t.client.getHandle('logged-1').signal('approve');
  expect(await t.client.getHandle('logged-1').result()).toBe('done');

  const id = `LoggingWorkflow logged-1 (run ${runId})`;
  expect(ours(first)).toEqual([`log ${id}: reserving order-7`, `warn ${id}: waiting for approval of order-7`]);
  expect(ours(second)).toEqual([`error ${id}: approved order-7 [Error: only a test]`, `debug ${id}: done`]);
});
