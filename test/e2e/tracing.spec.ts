import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createTestApp, testConnectionEnv, type TestApp } from '../support/test-app.js';

/**
 * OpenTelemetry across two processes: this one starts a workflow inside a span of its own; a
 * worker process (test/fixtures/traced-worker.ts) runs its tasks and its activity. The
 * worker's spans belong to this process's trace, the activity's parent being the start span.
 */
const WORKER = fileURLToPath(new URL('../../dist/test/fixtures/traced-worker.js', import.meta.url));
const OUT = fileURLToPath(new URL('../../dist/test-output/tracing/', import.meta.url));
const exporter = new InMemorySpanExporter();
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));

interface ExportedSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Record<string, unknown>;
}

let worker: ChildProcess;
let client: TestApp;
const prefix = `traced-${randomUUID().slice(0, 8)}`;
const spansFile = `${OUT}${prefix}.json`;

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  worker = spawn(process.execPath, [WORKER], {
    env: { ...process.env, ...testConnectionEnv(), PREFIX: prefix, SPANS_FILE: spansFile },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    worker.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    worker.once('exit', (code) => reject(new Error(`the traced worker exited (${code}) before it was ready`)));
  });
  client = await createTestApp([], { prefix, worker: false });
});

afterAll(async () => {
  await client?.close();
  if (worker && worker.exitCode === null) worker.kill('SIGKILL');
});

describe('OpenTelemetry spans', () => {
  test('a workflow started inside a span: its tasks and activity in another process are in that trace', async () => {
    const tracer = trace.getTracer('test');
    let traceId = '';
    const handle = await tracer.startActiveSpan('POST /shout', async (root) => {
      traceId = root.spanContext().traceId;
      try {
        return await client.client.start('TracedWorkflow', {
          workflowId: 'traced-1',
          taskQueue: 'traced',
          args: ['hello'],
        });
      } finally {
        root.end();
      }
    });
    expect(await handle.result()).toBe('HELLO');

    const exited = new Promise((r) => worker.once('exit', r));
    worker.kill('SIGTERM');
    await exited;
    const workerSpans = JSON.parse(readFileSync(spansFile, 'utf8')) as ExportedSpan[];
    const here = exporter.getFinishedSpans();
    const start = here.find((s) => s.name === 'redurable.start_workflow')!;
    expect(start).toBeDefined();
    expect(start.spanContext().traceId).toBe(traceId);
    expect(start.attributes).toMatchObject({ 'workflow.id': 'traced-1', 'workflow.type': 'TracedWorkflow' });

    const tasks = workerSpans.filter((s) => s.name === 'redurable.workflow_task');
    const activities = workerSpans.filter((s) => s.name === 'redurable.activity');
    expect(tasks.length).toBeGreaterThanOrEqual(1);
    expect(activities).toHaveLength(1);
    for (const s of [...tasks, ...activities]) expect(s.traceId).toBe(traceId);
    expect(tasks[0].parentSpanId).toBe(start.spanContext().spanId);
    expect(activities[0].parentSpanId).toBe(start.spanContext().spanId);
    expect(activities[0].attributes).toMatchObject({
      'workflow.id': 'traced-1',
      'activity.type': 'shout',
      'activity.attempt': 1,
      'activity.seq': 2,
    });
    expect(tasks[0].attributes).toMatchObject({ 'workflow.id': 'traced-1', 'workflow.type': 'TracedWorkflow' });
  });
});
