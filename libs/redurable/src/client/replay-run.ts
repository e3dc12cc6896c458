import { QueryUnavailableError } from '../core/errors/id-policy.errors.js';
import type { WorkflowDefinition } from '../core/definitions/registry.js';
import type { WorkflowExecutionStarted } from '../core/events.js';
import type { StoredEvent } from '../core/events.js';
import { WorkflowActivation } from '../workflow/activation.js';
import type { ClientParts } from './client-parts.js';

/** The parts a replay in the caller's process uses. */
export type ReplayParts = Pick<ClientParts, 'converter'>;

/**
 * Whether a run is pinned to another build than this process's (`build`): its code may differ
 * from the class here, so its queries and update validators go to a worker of its build.
 */
export function pinnedElsewhere(meta: { pinnedBuild?: string }, build: string | undefined): boolean {
  return meta.pinnedBuild !== undefined && meta.pinnedBuild !== build;
}

/** The workflow class known for a type (`found`), or `unavailable(message)` thrown. */
export function definitionFor(
  workflowId: string,
  workflowType: string,
  what: string,
  found: WorkflowDefinition | undefined,
  unavailable: new (message: string) => Error = QueryUnavailableError,
): WorkflowDefinition {
  const definition = found;
  if (!definition) {
    throw new unavailable(
      `Cannot ${what} workflow '${workflowId}': its type '${workflowType}' is not registered in this app; register the @Workflow class (DurableModule.forFeature or a module's providers)`,
    );
  }
  return definition;
}

/**
 * Rebuilds a run's state in this process by replaying its history (queries, update
 * validators): no worker is involved and nothing is written. The caller runs it, and whatever
 * runs workflow code on the result, inside `withDeterminism`.
 */
export async function replayRun(
  ctx: ReplayParts,
  definition: WorkflowDefinition,
  entries: StoredEvent[],
): Promise<WorkflowActivation> {
  const activation = new WorkflowActivation(definition, entries[0].event as WorkflowExecutionStarted, ctx.converter);
  await activation.activate(entries);
  return activation;
}
