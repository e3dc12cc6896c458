import { RedurableError } from './redurable.error.js';

/**
 * A search attribute that the workflow type does not declare, or a value of the wrong type. At
 * start nothing is written; from `upsertSearchAttributes` in workflow code the workflow task
 * fails (retried with backoff, shown by `describe()`), not the workflow, and nothing is recorded.
 */
export class InvalidSearchAttributeError extends RedurableError {
  constructor(
    readonly workflowType: string,
    readonly attribute: string,
    readonly problem: string,
    readonly declared: Record<string, string>,
  ) {
    const known =
      Object.entries(declared)
        .map(([name, type]) => `${name} (${type})`)
        .join(', ') || '(none)';
    super(
      `Search attribute '${attribute}' of workflow '${workflowType}': ${problem}. Declared in @Workflow({ searchAttributes }): ${known}`,
    );
  }
}

/**
 * A listing query that cannot be run: a syntax error (`position` is the 0-based offset in the
 * query where it was found), or an attribute no workflow type declares.
 */
export class ListQueryError extends RedurableError {
  constructor(
    readonly query: string,
    readonly position: number,
    problem: string,
  ) {
    super(`Invalid list query at position ${position}: ${problem}\n  ${query}\n  ${' '.repeat(position)}^`);
  }
}
