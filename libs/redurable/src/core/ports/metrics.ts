/** How an activity attempt ran: in process after the commit that claimed it, as a BullMQ job, or inside a workflow task. */
export type ActivityDispatch = 'eager' | 'queue' | 'local';

/** What the library measures. Every method is cheap and never throws. */
export interface DurableMetrics {
  workflowStarted(workflowType: string): void;
  workflowClosed(workflowType: string, status: string): void;
  /** One workflow task (a replay or a cached step), in seconds. */
  workflowTask(workflowType: string, seconds: number): void;
  cacheLookup(hit: boolean): void;
  /** One activity attempt: `completed`, `failed` (for good) or `retried`. */
  activityAttempt(
    activityType: string,
    outcome: 'completed' | 'failed' | 'retried',
    seconds: number,
    dispatch: ActivityDispatch,
  ): void;
  /** From scheduling to the first attempt's start, in seconds. */
  activityScheduleToStart(activityType: string, seconds: number, dispatch: ActivityDispatch): void;
  sweepRepair(reason: string): void;
}

/** Metrics that go nowhere. */
export const noMetrics: DurableMetrics = {
  workflowStarted: () => undefined,
  workflowClosed: () => undefined,
  workflowTask: () => undefined,
  cacheLookup: () => undefined,
  activityAttempt: () => undefined,
  activityScheduleToStart: () => undefined,
  sweepRepair: () => undefined,
};
