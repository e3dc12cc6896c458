import type { DurableHealth } from '../core/health-report.js';
import type { RedisClient } from '../store/redis-client.js';
import type { RedisLink } from '../store/redis-link.js';
import type { RecoverySweep } from './recovery-sweep.js';
import type { WorkerHost } from './worker-host.js';

/** What a process's health is read from: its connection, and its workers and sweep when it runs them. */
export interface HealthSources {
  redis: RedisClient;
  link: Pick<RedisLink, 'endpoint'>;
  host?: Pick<WorkerHost, 'status'>;
  sweep?: Pick<RecoverySweep, 'lastPassAt'>;
  settings: { connectTimeoutMs: number; sweepIntervalMs: number };
}

/**
 * Whether a process can do its work: Redis answers a PING (within `connectTimeout`, at most
 * 2 s), its workers run (when it has any), and its recovery sweep has passed within three
 * intervals.
 */
export async function processHealth({
  redis: client,
  link,
  host,
  sweep,
  settings,
}: HealthSources): Promise<DurableHealth> {
  const problems: string[] = [];
  const began = Date.now();
  const pingMs = Math.min(settings.connectTimeoutMs, 2000);
  const redis: DurableHealth['redis'] = await Promise.race([
    client.ping().then(() => ({ reachable: true, latencyMs: Date.now() - began })),
    new Promise<DurableHealth['redis']>((resolve) =>
      setTimeout(() => resolve({ reachable: false, error: `no answer to PING within ${pingMs} ms` }), pingMs).unref(),
    ),
  ]).catch((err: Error) => ({ reachable: false, error: err.message }));
  if (!redis.reachable) problems.push(`Redis at ${link.endpoint} is unreachable: ${redis.error}`);
  const enabled = host !== undefined;
  const workers = { enabled, ...(host?.status() ?? { running: 0, total: 0 }) };
  if (enabled && workers.running < workers.total)
    problems.push(`${workers.total - workers.running} of ${workers.total} workers are not running`);
  const last = sweep?.lastPassAt;
  const lagging =
    sweep !== undefined && (last === undefined || Date.now() - last > 3 * settings.sweepIntervalMs + 1000);
  if (lagging)
    problems.push(
      `the recovery sweep has not completed a pass since ${last ? new Date(last).toISOString() : 'the worker started'}`,
    );
  return {
    healthy: problems.length === 0,
    problems,
    redis,
    workers,
    sweep: { enabled: sweep !== undefined, lastPassAt: last ? new Date(last).toISOString() : undefined, lagging },
  };
}
