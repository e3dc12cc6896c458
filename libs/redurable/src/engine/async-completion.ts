import type { TimeoutType } from '../core/errors/temporal-failure.js';
import type { ActivityJobData } from '../queues/queue-set.js';

/** A parked attempt with no deadline nearer than this comes back to look anyway (a job not removed after an outside completion ends then). */
export const ASYNC_RECHECK_MS = 60 * 60_000;

/** The timeouts in force for a parked attempt (those of ActivityExecutor.effective). */
interface Timeouts {
  startToCloseMs?: number;
  scheduleToCloseMs?: number;
  heartbeatMs?: number;
}

/** When the last outside heartbeat (`client.activity.heartbeat`) came, from the job's progress. */
export function beatAtOf(progress: unknown): number | undefined {
  const at = typeof progress === 'object' && progress !== null ? (progress as { beatAt?: unknown }).beatAt : undefined;
  return typeof at === 'number' ? at : undefined;
}

/** The first deadline of an attempt waiting to be completed from outside, and which timeout it is; undefined when it has none. */
export function asyncDeadline(
  eff: Timeouts,
  data: Pick<ActivityJobData, 'scheduledAt'>,
  awaiting: { startedAt: number },
  beatAt: number | undefined,
): { at: number; type: TimeoutType } | undefined {
  const candidates: { at: number; type: TimeoutType }[] = [];
  if (eff.startToCloseMs !== undefined)
    candidates.push({ at: awaiting.startedAt + eff.startToCloseMs, type: 'START_TO_CLOSE' });
  if (eff.heartbeatMs !== undefined)
    candidates.push({ at: Math.max(awaiting.startedAt, beatAt ?? 0) + eff.heartbeatMs, type: 'HEARTBEAT' });
  if (eff.scheduleToCloseMs !== undefined)
    candidates.push({ at: data.scheduledAt + eff.scheduleToCloseMs, type: 'SCHEDULE_TO_CLOSE' });
  return candidates.sort((a, b) => a.at - b.at)[0];
}
