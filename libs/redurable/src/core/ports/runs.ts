import type { Lease } from './histories.js';

/**
 * What happens around a run's close that involves other workflows or jobs: its parent is told
 * its outcome, its children get their parent-close policy, and (closed from outside its task) its
 * pending jobs are removed. The engine implements it; the client calls it after it terminates or
 * resets a run.
 */
export interface RunClosing {
  /** After a run closed: report it to its parent and apply its children's parent-close policy (each when `related` says so). */
  afterClose(workflowId: string, runId: string, related?: { parent: boolean; children: boolean }): Promise<void>;
  /** After a run was closed from outside its task (terminated, timed out): its jobs that have not started go, then `afterClose`. */
  closedFromOutside(workflowId: string, runId: string): Promise<void>;
}

/**
 * Eager start: a process that serves a task queue runs the first task of the runs its client
 * starts itself, under the lease the start took, with no task job.
 */
export interface FirstTasks {
  /** Whether this process runs workflow tasks of `taskQueue` now (not shutting down). */
  serves(taskQueue: string): boolean;
  /** Runs the run's first task here in the background; false when it cannot, and a task job is needed. */
  runFirstTask(workflowId: string, runId: string, taskQueue: string, lease?: Lease): boolean;
}
