import { crashPoint } from '../core/crash-points.js';
import { activityHolder, type FlowControl } from '../core/ports/index.js';
import { activityJobId } from './dispatcher.js';
import type { ActivityJobData, QueueSet } from './queue-set.js';

/** The activity an activity holder id names (see activityHolder); undefined for another holder. */
function activityOfHolder(holder: string): { workflowId: string; runId: string; seq: number } | undefined {
  if (!holder.startsWith('act:')) return undefined;
  const last = holder.lastIndexOf('|');
  const runAt = holder.lastIndexOf('|', last - 1);
  if (runAt < 0) return undefined;
  return {
    workflowId: holder.slice(4, runAt),
    runId: holder.slice(runAt + 1, last),
    seq: Number(holder.slice(last + 1)),
  };
}

/**
 * Frees an activity's concurrency slot (idempotent: a slot already freed, or never taken, is
 * left alone) and wakes the waiters first in line for it: their delayed jobs are promoted, so
 * they ask again now instead of at their next look. Best effort: a waiter whose job is elsewhere
 * (another task queue sharing the limit) or not delayed asks again at its next look anyway.
 */
export async function releaseActivitySlot(
  flow: FlowControl,
  queues: QueueSet,
  data: Pick<ActivityJobData, 'workflowId' | 'runId' | 'seq' | 'options'>,
): Promise<void> {
  const limit = data.options.flow?.concurrency;
  if (!limit) return;
  const { wake } = await flow.release(limit, activityHolder(data.workflowId, data.runId, data.seq), limit.limit);
  // A worker dying here wakes nobody: the waiters ask again at their next look (FLOW_RECHECK_MS).
  crashPoint('flow.after-release');
  await Promise.all(
    wake.map(async (holder) => {
      const waiter = activityOfHolder(holder);
      if (!waiter) return;
      const queue = await queues.activityFor(data.options.taskQueue, waiter.workflowId);
      const job = await queue.getJob(activityJobId(waiter.workflowId, waiter.runId, waiter.seq));
      // Not delayed (running, or already promoted): it is asking now.
      await job?.promote().catch(() => undefined);
    }),
  );
}
