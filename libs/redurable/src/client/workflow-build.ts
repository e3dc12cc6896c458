import { crashPoint } from '../core/crash-points.js';
import { InvalidArgumentError } from '../core/errors/library.errors.js';
import { WorkflowNotRunningError } from '../core/errors/workflow-control.js';
import type { ClientParts } from './client-parts.js';

/** What `handle.updateBuild()` did: the build the run was pinned to, and whether the new one has a live worker. */
export interface BuildUpdate {
  from: string;
  to: string;
  /** A worker of `to` serving the run's task queue is live now (else the run waits until one comes up). */
  live: boolean;
}

const BUILD_ID = /^[\w.-]{1,64}$/;

/**
 * Moves a running, pinned workflow to another build: its next tasks go to that build's workers
 * (a task running now finishes where it is). For when you know the other build's code replays
 * the run (the old build is gone, or its fix must apply). Nothing is written for a workflow not
 * running (WorkflowNotRunningError), not pinned, or a malformed build id (InvalidArgumentError).
 */
export async function updateBuild(
  parts: Pick<ClientParts, 'builds' | 'dispatcher'>,
  workflowId: string,
  build: string,
): Promise<BuildUpdate> {
  if (!BUILD_ID.test(build))
    throw new InvalidArgumentError(
      `Cannot move workflow '${workflowId}' to build '${build}': a build id holds only letters, digits, _, . and -, at most 64`,
    );
  const res = await parts.builds.move(workflowId, build);
  if (res.kind === 'not-running') throw new WorkflowNotRunningError(workflowId, res.status, 'update the build of');
  if (res.kind === 'not-pinned')
    throw new InvalidArgumentError(
      `Cannot move workflow '${workflowId}' to build '${build}': its run is not pinned (its type's versioning is auto-upgrade, or its first task has not run yet), so any worker runs it`,
    );
  crashPoint('update-build.after-script'); // the script pulled the run's check near: the sweep enqueues a lost task
  if (res.wake)
    await parts.dispatcher.enqueueTask(workflowId, res.runId, res.taskQueue, `moved-${Date.now()}`, {
      build,
      priority: res.priority,
    });
  return { from: res.from, to: build, live: (await parts.builds.liveBuilds(res.taskQueue)).has(build) };
}
