import { RedurableError } from './redurable.error.js';

/**
 * Workflow code called something whose result is not in the history and cannot be replayed:
 * `setInterval`, `setImmediate`, `fetch`, Node's network, DNS and file calls, or crypto's byte
 * sources (see the README's determinism rules for the full list). The call throws this error and
 * the workflow task fails with it: retried with backoff and shown by `describe()` and the
 * explorer, with nothing of that task recorded. Move the call where the message says (an
 * activity, `sleep`, `uuid4`), deploy, and the workflow resumes.
 */
export class DeterminismViolationError extends RedurableError {
  constructor(
    /** The call, as written in code: `setInterval()`, `fs.readFile()`. */
    readonly call: string,
    /** What to use instead. */
    readonly fix: string,
    readonly workflowId: string,
    readonly runId: string,
    readonly workflowType: string,
  ) {
    super(
      `${call} cannot be used in workflow code (workflow '${workflowId}', run ${runId}, type '${workflowType}'): ${fix}. The workflow task fails and is retried until a fixed version is deployed`,
    );
  }
}
