import { InvalidTaskTokenError } from './errors/library.errors.js';

export { InvalidTaskTokenError };

/** Where an activity attempt that completes asynchronously is: what its task token carries. */
export interface TaskTokenFields {
  workflowId: string;
  runId: string;
  seq: number;
  attempt: number;
  /** The activity's task queue (its job's queue). */
  taskQueue: string;
}

const VERSION = 1;

/** The opaque token of an attempt: base64url JSON, versioned. */
export function encodeTaskToken(f: TaskTokenFields): string {
  return Buffer.from(JSON.stringify([VERSION, f.workflowId, f.runId, f.seq, f.attempt, f.taskQueue])).toString(
    'base64url',
  );
}

export function decodeTaskToken(token: string): TaskTokenFields {
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(String(token), 'base64url').toString('utf8'));
  } catch {
    parts = undefined;
  }
  if (
    !Array.isArray(parts) ||
    parts[0] !== VERSION ||
    parts.length !== 6 ||
    typeof parts[1] !== 'string' ||
    typeof parts[2] !== 'string' ||
    !Number.isInteger(parts[3]) ||
    !Number.isInteger(parts[4]) ||
    typeof parts[5] !== 'string'
  ) {
    throw new InvalidTaskTokenError(
      `Invalid task token ${JSON.stringify(String(token).slice(0, 40))}: pass the token activityContext().completeAsync() returned, unchanged`,
    );
  }
  return { workflowId: parts[1], runId: parts[2], seq: parts[3], attempt: parts[4], taskQueue: parts[5] };
}
