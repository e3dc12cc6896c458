import { crashPoint } from '../core/crash-points.js';
import type { RecordedActivityFlow } from '../core/flow/activity-flow.js';
import { activityHolder, type FlowControl, type Logger } from '../core/ports/index.js';
import { releaseActivitySlot } from '../queues/activity-flow-slots.js';
import type { ActivityJobData, QueueSet } from '../queues/queue-set.js';

/** A job waiting for a slot asks again at most this long after it last did: a lost wake-up costs no more. */
export const FLOW_RECHECK_MS = 1000;
/** A waiter that has not asked again for this long is gone (its job removed): it no longer keeps its place. */
const WAITER_TTL_MS = 10 * FLOW_RECHECK_MS;

/** Where a waiting job stands: the limit it waits for, and how long to wait before asking again. */
export interface LimitWait {
  delayMs: number;
  waitingFor: NonNullable<ActivityJobData['waitingFor']>;
}

/**
 * The limits an attempt holds while it runs: its concurrency slot, renewed every third of
 * `leaseTtl` (a SIGKILLed worker's slot lapses within `leaseTtl`). `release` frees it and wakes
 * the next waiter, once however often it is called; `keepUntil` holds it for a parked attempt
 * (`completeAsync()`: the work is in flight) until the attempt's job comes back.
 */
export interface HeldLimits {
  release(): Promise<void>;
  keepUntil(at: number): Promise<void>;
}

/** What an attempt with no concurrency limit holds. */
export const NOTHING_HELD: HeldLimits = { release: async () => undefined, keepUntil: async () => undefined };

export interface ActivityLimitsDeps {
  flow: FlowControl;
  queues: QueueSet;
  logger: Logger;
  settings: { leaseTtlMs: number };
}

/**
 * Activity concurrency and rate limits (`@Activity({ concurrency, rateLimit })`, issue 24),
 * across every worker process: before an attempt runs it takes its concurrency slot, then a
 * start of its rate window; refused, it waits (its job is delayed, no attempt used) and asks
 * again when woken or at its next look.
 */
export class ActivityLimits {
  private readonly flow: FlowControl;
  private readonly queues: QueueSet;
  private readonly logger: Logger;
  private readonly leaseTtlMs: number;

  constructor(deps: ActivityLimitsDeps) {
    this.flow = deps.flow;
    this.queues = deps.queues;
    this.logger = deps.logger;
    this.leaseTtlMs = deps.settings.leaseTtlMs;
  }

  /**
   * Takes what attempt `attempt` needs to run: its slot (kept from before when it already holds
   * it: a restarted job), then a start of its rate window (the same attempt asking again takes
   * none). A refused rate start gives the slot back, so the others run meanwhile.
   */
  async enter(data: ActivityJobData, attempt: number): Promise<{ held: HeldLimits } | LimitWait> {
    const flow = data.options.flow;
    if (!flow) return { held: NOTHING_HELD };
    const holder = activityHolder(data.workflowId, data.runId, data.seq);
    const slot = flow.concurrency;
    if (slot) {
      const res = await this.flow.acquire(slot, holder, {
        limit: slot.limit,
        ttlMs: this.leaseTtlMs,
        waiterTtlMs: WAITER_TTL_MS,
        // Waiters of a key are taken by priority (the activity's, recorded when scheduled), then arrival.
        ...(data.options.priority !== undefined ? { priority: data.options.priority } : {}),
      });
      // A worker dying here holds a slot no attempt uses: it lapses within leaseTtl (no renewal), or the job's next attempt takes it again.
      crashPoint('flow.after-acquire');
      if (!res.granted)
        return {
          // The first in line asks again soon; those further back less often (they are woken anyway).
          delayMs: Math.min(FLOW_RECHECK_MS, 200 + 20 * res.ahead),
          waitingFor: { kind: 'concurrency', limit: slot.name, key: slot.key },
        };
    }
    const rate = flow.rate;
    if (rate) {
      const res = await this.flow.takeRate(rate, `${holder}#${attempt}`, rate);
      if (!res.allowed) {
        if (slot) await releaseActivitySlot(this.flow, this.queues, data);
        return {
          // Spread over up to twice the wait, so that many waiters do not all ask at the same instant.
          delayMs: Math.ceil(res.retryAfterMs * (1 + Math.random())),
          waitingFor: { kind: 'rate', limit: rate.name, key: rate.key },
        };
      }
    }
    return { held: slot ? this.hold(data, flow) : NOTHING_HELD };
  }

  /** The slot of an attempt parked for an outside completion, whose job came back: it holds it still. */
  resume(data: ActivityJobData): HeldLimits {
    const flow = data.options.flow;
    return flow?.concurrency ? this.hold(data, flow) : NOTHING_HELD;
  }

  /**
   * Frees the slot of an activity whose outcome is recorded or whose run closed (a parked
   * attempt completed from outside, a job added again): idempotent, so freeing a slot it does
   * not hold does nothing.
   */
  async forget(data: ActivityJobData): Promise<void> {
    await releaseActivitySlot(this.flow, this.queues, data).catch((err: Error) =>
      this.logger.warn?.(`Could not free the slot of ${describe(data)}: ${err.message}; it lapses by itself`),
    );
  }

  private hold(data: ActivityJobData, flow: RecordedActivityFlow): HeldLimits {
    const slot = flow.concurrency!;
    const holder = activityHolder(data.workflowId, data.runId, data.seq);
    let released = false;
    let warned = false;
    const renew = setInterval(() => {
      this.flow.renew(slot, holder, this.leaseTtlMs).then(
        (held) => {
          if (held || warned || released) return;
          warned = true;
          this.logger.warn?.(
            `${describe(data)} lost its '${slot.name}' slot (it was not renewed within leaseTtl, so others may run over the limit); it goes on`,
          );
        },
        () => undefined, // Redis unreachable: the next renewal tries again
      );
    }, this.leaseTtlMs / 3);
    renew.unref();
    return {
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(renew);
        await this.forget(data);
      },
      keepUntil: async (at) => {
        clearInterval(renew);
        released = true; // the parked attempt keeps it; its job's return takes it up again
        await this.flow.renew(slot, holder, Math.max(0, at - Date.now()) + this.leaseTtlMs);
      },
    };
  }
}

function describe(data: ActivityJobData): string {
  return `Activity '${data.activityType}' (seq ${data.seq}) of workflow ${data.workflowId} (run ${data.runId})`;
}
