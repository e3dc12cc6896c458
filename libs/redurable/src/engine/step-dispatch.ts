import { crashPoint } from '../core/crash-points.js';
import type { ChildWorkflowScheduled, CommandEvent, NewCommand, TraceCarrier } from '../core/events.js';
import type { JobDispatcher, Logger } from '../core/ports/index.js';

/** The run whose step is dispatched. */
export interface StepOwner {
  workflowId: string;
  runId: string;
  taskQueue: string;
  trace?: TraceCarrier;
  /** The run's priority (absent: the default). */
  priority?: number;
}

/** Starts the child workflow a parent's command asks for (ChildWorkflows). */
export interface ChildStarter {
  start(parent: StepOwner, cmd: Omit<ChildWorkflowScheduled, 'id' | 'ts'>): Promise<void>;
}

export interface StepDispatchDeps {
  dispatcher: JobDispatcher;
  children: ChildStarter;
  logger: Logger;
}

/**
 * Turns a step's committed commands into work: activity and timer jobs (through the
 * Dispatcher), and child workflows (started at once). Job ids and child starts are idempotent,
 * so dispatching the same commands again (after a crash, on replay) adds nothing.
 */
export class StepDispatch {
  /** Jobs being added after a commit that did not wait for them; shutdown waits for them (settled()). */
  private readonly dispatching = new Set<Promise<void>>();

  constructor(private readonly deps: StepDispatchDeps) {}

  /** `commands` carry `ts` when they were recorded earlier (re-dispatch after replay). */
  async dispatch(workflow: StepOwner, commands: (NewCommand | CommandEvent)[], now: number): Promise<void> {
    const children = commands.filter((c) => c.type === 'ChildWorkflowScheduled');
    await Promise.all([
      this.deps.dispatcher.dispatch(workflow, commands, now),
      ...children.map((cmd) => this.deps.children.start(workflow, cmd)),
    ]);
  }

  /**
   * Dispatches a committed step's commands in the background; never throws: a failure is
   * logged, and the dispatch mark the commit set has the recovery sweep add what is missing.
   */
  track(workflow: StepOwner, commands: NewCommand[], now: number): Promise<void> {
    const { workflowId, runId } = workflow;
    const done: Promise<void> = this.dispatch(workflow, commands, now)
      .then(
        () => crashPoint('task.after-dispatch'),
        (err: Error) =>
          this.deps.logger.warn(
            `Workflow ${workflowId} (run ${runId}): adding the jobs of its step failed (${err.message}); the recovery sweep adds them`,
          ),
      )
      .finally(() => this.dispatching.delete(done));
    this.dispatching.add(done);
    return done;
  }

  /** Resolves once the steps being dispatched in the background are (or failed). */
  async settled(): Promise<void> {
    await Promise.all(this.dispatching);
  }
}
