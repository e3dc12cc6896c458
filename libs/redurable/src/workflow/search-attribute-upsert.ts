import { InvalidSearchAttributeError } from '../core/errors/search.errors.js';
import type { NewCommand } from '../core/events.js';
import type { WorkflowDefinition } from '../core/definitions/registry.js';
import {
  mergeSearchAttributes,
  noteSearchAttributesAfter,
  recordSearchAttributes,
  searchAttributeValues,
  type RecordedSearchAttribute,
  type RecordedSearchAttributes,
  type SearchAttributeValue,
} from '../core/search/search-attributes.js';
import type { WorkflowInfo } from './context.js';
import { nonCancellableScope } from './scopes.js';

/** What an upsert reads and changes of the execution (WorkflowActivation). */
export interface UpsertHost {
  readonly info: WorkflowInfo;
  readonly definition: WorkflowDefinition;
  recordedSearchAttributes: RecordedSearchAttributes;
  refuse<T>(err: Error): Promise<T>;
  schedule<T>(command: (seq: number) => NewCommand, opts: { immediate: (cmd: NewCommand) => T }): Promise<T>;
}

/**
 * `upsertSearchAttributes(values)`: validated against the workflow's declaration (a bad value
 * fails the task, see WorkflowActivation.refuse), recorded as a command, and applied to
 * `workflowInfo()` at once, on the first run and on replay alike.
 */
export function upsertSearchAttributes(host: UpsertHost, values: Record<string, SearchAttributeValue | null>): void {
  let change: Record<string, RecordedSearchAttribute | null>;
  try {
    change = recordSearchAttributes(host.info.workflowType, values, host.definition.searchAttributes);
  } catch (err) {
    if (!(err instanceof InvalidSearchAttributeError)) throw err;
    void host.refuse(err);
    return;
  }
  // Recorded after a cancellation request too: it changes no outcome, and cleanup code may mark the workflow.
  void nonCancellableScope.run(true, () =>
    host.schedule(
      (seq) => {
        const cmd: NewCommand = { type: 'UpsertWorkflowSearchAttributes', seq, searchAttributes: change };
        host.recordedSearchAttributes = mergeSearchAttributes(host.recordedSearchAttributes, change);
        noteSearchAttributesAfter(cmd, host.recordedSearchAttributes);
        host.info.searchAttributes = searchAttributeValues(host.recordedSearchAttributes);
        return cmd;
      },
      { immediate: () => undefined },
    ),
  );
}
