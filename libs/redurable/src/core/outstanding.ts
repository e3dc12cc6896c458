import type { ActivityTaskScheduled, ChildWorkflowScheduled, HistoryEvent, TimerStarted } from './events.js';

/** Activities, timers and child workflows a run's history scheduled that have no outcome yet. */
export interface Outstanding {
  activities: ActivityTaskScheduled[];
  timers: (TimerStarted & { dueAt: number })[];
  children: ChildWorkflowScheduled[];
}

/** What a history still waits for (read by describe() and by the recovery sweep). */
export function outstandingOf(history: HistoryEvent[]): Outstanding {
  const activities = new Map<number, ActivityTaskScheduled>();
  const timers = new Map<number, TimerStarted & { dueAt: number }>();
  const children = new Map<number, ChildWorkflowScheduled>();
  for (const e of history) {
    if (e.type === 'ActivityTaskScheduled') activities.set(e.seq, e);
    else if (e.type === 'ActivityTaskCompleted' || e.type === 'ActivityTaskFailed') activities.delete(e.seq);
    else if (e.type === 'TimerStarted') timers.set(e.seq, { ...e, dueAt: e.ts + e.durationMs });
    else if (e.type === 'TimerFired') timers.delete(e.seq);
    else if (e.type === 'ChildWorkflowScheduled') children.set(e.seq, e);
    else if (e.type === 'ChildWorkflowCompleted' || e.type === 'ChildWorkflowFailed') children.delete(e.seq);
  }
  return { activities: [...activities.values()], timers: [...timers.values()], children: [...children.values()] };
}
