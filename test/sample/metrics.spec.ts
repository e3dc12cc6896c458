import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createSampleApp, type SampleApp } from '../../sample-app/sample-app.factory.js';
import { testRedisUrl } from '../support/test-app.js';
import { apiClient } from './sample-http.js';

let sample: SampleApp;

beforeAll(async () => {
  sample = await createSampleApp({
    redisUrl: testRedisUrl(),
    port: 0,
    prefix: `metrics-${randomUUID().slice(0, 8)}`,
    logger: false,
    durable: { leaseTtl: '2s', sweepInterval: '500ms' },
  });
});

afterAll(async () => {
  await sample?.close();
});

/** The value of one sample line of a Prometheus text exposition, or undefined. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** The sum of a metric's series whose labels include `labels` (`a="x",b="y"`), whatever their other labels (how an attempt was dispatched). */
function sum(text: string, metric: string, labels: string): number {
  const wanted = labels.split(',');
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${metric}{`))
    .filter((l) =>
      wanted.every((w) =>
        l
          .slice(l.indexOf('{') + 1, l.indexOf('}'))
          .split(',')
          .includes(w),
      ),
    )
    .reduce((total, l) => total + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

describe('Prometheus metrics of the sample', () => {
  test('/metrics counts started and closed workflows, activity attempts by outcome, and times tasks and activities', async () => {
    const api = apiClient(sample.url);
    const from = await api.openAccount(1000);
    const to = await api.openAccount(0);
    const frozen = await api.openAccount(0);
    await api.post(`/accounts/${frozen}/freeze`);
    const ok = (await api.post('/transfers', { from, to, amount: 10, failDeposit: 1 })).body.transferId;
    const refunded = (await api.post('/transfers', { from, to: frozen, amount: 10 })).body.transferId;
    await api.waitForTransfer(ok);
    await api.waitForTransfer(refunded);

    const res = await fetch(`${sample.url}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(value(text, 'redurable_workflows_started_total{workflow_type="TransferWorkflow"}')).toBe(2);
    expect(value(text, 'redurable_workflows_closed_total{workflow_type="TransferWorkflow",status="completed"}')).toBe(
      1,
    );
    expect(value(text, 'redurable_workflows_closed_total{workflow_type="TransferWorkflow",status="failed"}')).toBe(1);
    expect(sum(text, 'redurable_activity_attempts_total', 'activity_type="withdraw",outcome="completed"')).toBe(2);
    expect(sum(text, 'redurable_activity_attempts_total', 'activity_type="deposit",outcome="retried"')).toBe(1);
    expect(sum(text, 'redurable_activity_attempts_total', 'activity_type="deposit",outcome="completed"')).toBe(1);
    expect(sum(text, 'redurable_activity_attempts_total', 'activity_type="deposit",outcome="failed"')).toBe(1);
    expect(sum(text, 'redurable_activity_attempts_total', 'activity_type="refund",outcome="completed"')).toBe(1);
    // The sample's worker records each step and runs the next activity itself: eager.
    expect(
      value(text, 'redurable_activity_attempts_total{activity_type="withdraw",outcome="completed",dispatch="eager"}'),
    ).toBe(2);
    expect(sum(text, 'redurable_activity_duration_seconds_count', 'activity_type="withdraw",outcome="completed"')).toBe(
      2,
    );
    expect(sum(text, 'redurable_activity_schedule_to_start_seconds_count', 'activity_type="withdraw"')).toBe(2);
    expect(
      value(text, 'redurable_workflow_task_duration_seconds_count{workflow_type="TransferWorkflow"}'),
    ).toBeGreaterThanOrEqual(2);
    const hits = value(text, 'redurable_workflow_cache_lookups_total{result="hit"}') ?? 0;
    const misses = value(text, 'redurable_workflow_cache_lookups_total{result="miss"}') ?? 0;
    expect(hits + misses).toBeGreaterThanOrEqual(2);
    expect(text).toContain('# HELP redurable_sweep_repairs_total');
  });
});
