import type { NewEvent } from '../core/events.js';
import type { NewCommand } from '../workflow/activation.js';

/** A local activity's scheduling command. */
export type LocalCommand = Extract<NewCommand, { type: 'ActivityTaskScheduled' }> & {
  local: { attempt: number; firstScheduledAt: number };
};

/** An activity or timer outcome, stamped with the time the worker gave it. */
export type OutcomeEvent = Extract<
  NewEvent,
  { type: 'ActivityTaskCompleted' | 'ActivityTaskFailed' | 'TimerFired' }
> & {
  ts: number;
};

/** Runs a local activity (all its in-task attempts) and returns the outcome to record. */
export interface LocalActivityRunner {
  runLocal(workflow: { workflowId: string; runId: string; taskQueue: string }, cmd: LocalCommand): Promise<NewEvent>;
}

export function isLocal(cmd: NewCommand): cmd is LocalCommand {
  return cmd.type === 'ActivityTaskScheduled' && cmd.local !== undefined;
}

/** Commands that become jobs or children (markers, update completions and search attribute upserts are only recorded; local activities ran in the task). */
export function jobCommands(commands: NewCommand[]): NewCommand[] {
  return commands.filter(
    (c) =>
      c.type !== 'MarkerRecorded' &&
      c.type !== 'WorkflowUpdateCompleted' &&
      c.type !== 'UpsertWorkflowSearchAttributes' &&
      !isLocal(c),
  );
}

/**
 * A timer is recorded with the workflow time at which the code started it (not the later time
 * of the commit), so its due time is `ts + durationMs` in the history, as in the timer job.
 */
export function withScheduleTime(commands: NewCommand[], now: number): NewEvent[] {
  return commands.map((c) => (c.type === 'TimerStarted' ? ({ ...c, ts: now } as NewEvent) : c));
}

/**
 * Children scheduled in the round that closes their parent start after the close is committed;
 * flagging the parent first puts its close in the closed-parents index, whose sweep starts
 * them if a crash came in between.
 */
export function schedulesChild(commands: NewCommand[]): boolean {
  return commands.some((c) => c.type === 'ChildWorkflowScheduled');
}

/** The attributes of a workflow task's span. */
export function spanAttributes(task: {
  workflowId: string;
  runId: string;
  workflowType?: string;
  taskQueue: string;
}): Record<string, string | undefined> {
  return {
    'workflow.id': task.workflowId,
    'workflow.run_id': task.runId,
    'workflow.type': task.workflowType,
    'workflow.task_queue': task.taskQueue,
  };
}
