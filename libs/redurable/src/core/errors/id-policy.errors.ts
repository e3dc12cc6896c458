import { RedurableError } from './redurable.error.js';

/** The id's last run is closed and the start's `workflowIdReusePolicy` forbids another. Nothing was written. */
export class WorkflowIdReuseError extends RedurableError {
  constructor(
    readonly workflowId: string,
    readonly status: string,
    policy: string,
  ) {
    super(
      `Workflow '${workflowId}' already ran (last run ${status}) and workflowIdReusePolicy is ${policy}: pick another workflowId or another policy`,
    );
  }
}

/** `handle.query()` on a workflow whose class this process does not register. */
export class QueryUnavailableError extends RedurableError {}
