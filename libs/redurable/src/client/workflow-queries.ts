import { handlerNamed, type WorkflowDefinition } from '../core/definitions/registry.js';
import { WorkflowNotFoundError } from '../core/errors/library.errors.js';
import { withDeterminism } from '../workflow/determinism.js';
import type { ClientParts } from './client-parts.js';
import { pinnedElsewhere, replayRun } from './replay-run.js';
import { askWorker } from './worker-messages.js';

/** The parts a query uses. */
export type QueryParts = Pick<ClientParts, 'histories' | 'link' | 'converter' | 'messages' | 'settings'>;

/**
 * Runs a `@Query` handler of run `runId` (undefined: the current run) on its state rebuilt by
 * replaying its history in this process, when `definitionOf` has the workflow's class (and the
 * run is not pinned to another build); else a worker serving the workflow's task queue (of the
 * run's build, for a pinned run) answers (askWorker), within `connectTimeout`.
 */
export async function queryWorkflow(
  parts: QueryParts,
  workflowId: string,
  runId: string | undefined,
  name: string,
  args: unknown[],
  definitionOf: (type: string) => WorkflowDefinition | undefined,
): Promise<unknown> {
  const here = await parts.link.call(`query workflow '${workflowId}'`, async () => {
    const meta = await parts.histories.getMeta(workflowId);
    if (!meta) throw new WorkflowNotFoundError(workflowId);
    const definition = pinnedElsewhere(meta, parts.settings.buildId) ? undefined : definitionOf(meta.type);
    if (!definition) return { remote: true as const, meta };
    const entries = await parts.histories.readEntries(workflowId, runId ?? meta.runId);
    return {
      remote: false as const,
      value: await withDeterminism(async () => {
        const activation = await replayRun(parts, definition, entries);
        return activation.query(handlerNamed(definition.queries, name) ?? name, args);
      }),
    };
  });
  if (!here.remote) return here.value;
  const { meta } = here;
  return (await askWorker(parts, meta, { kind: 'query', runId: runId ?? meta.runId, name, args })).value;
}
