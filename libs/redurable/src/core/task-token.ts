import { createHmac, timingSafeEqual } from 'node:crypto';
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

/** Version 2: signed. Version 1 tokens (unsigned, from before) are refused like any other. */
const VERSION = 2;

function invalid(token: string, why: string): InvalidTaskTokenError {
  return new InvalidTaskTokenError(
    `Invalid task token ${JSON.stringify(String(token).slice(0, 40))} (${why}): pass the token activityContext().completeAsync() returned, unchanged, to a client of the same prefix`,
  );
}

/**
 * Task tokens, signed: `<payload>.<signature>`, the payload base64url JSON of the attempt, the
 * signature its HMAC-SHA256 under the prefix's secret (the module's `taskTokenSecret`, or one
 * the library generates and keeps in Redis under the prefix). A token altered, made up, or made
 * for another prefix is refused with InvalidTaskTokenError before anything is read or written.
 */
export class TaskTokens {
  private key?: Buffer;
  private loading?: Promise<void>;

  /** `secret` is read once, when a token is first needed (or at `ready()`). */
  constructor(private readonly secret: () => Promise<string>) {}

  /** Loads the secret (the runtime calls it at connect, so that `encode` works in workers). */
  ready(): Promise<void> {
    this.loading ??= this.secret().then(
      (s) => void (this.key = Buffer.from(s, 'utf8')),
      (err: unknown) => {
        this.loading = undefined; // Redis unreachable: the next call reads it again
        throw err;
      },
    );
    return this.loading;
  }

  private sign(payload: string): Buffer {
    if (!this.key) throw new Error('Task tokens are used before the runtime connected (TaskTokens.ready())');
    return createHmac('sha256', this.key).update(payload).digest();
  }

  /** The token of an attempt. */
  encode(f: TaskTokenFields): string {
    const payload = Buffer.from(
      JSON.stringify([VERSION, f.workflowId, f.runId, f.seq, f.attempt, f.taskQueue]),
    ).toString('base64url');
    return `${payload}.${this.sign(payload).toString('base64url')}`;
  }

  /** The attempt a token names; InvalidTaskTokenError when it is malformed or its signature does not match. */
  async decode(token: string): Promise<TaskTokenFields> {
    await this.ready();
    const text = String(token);
    const dot = text.indexOf('.');
    if (dot <= 0) throw invalid(text, 'not a task token');
    const payload = text.slice(0, dot);
    const signature = Buffer.from(text.slice(dot + 1), 'base64url');
    const expected = this.sign(payload);
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected))
      throw invalid(text, 'its signature does not match: altered, made up, or made for another prefix');
    const fields = fieldsOf(payload);
    if (!fields) throw invalid(text, 'not a task token');
    return fields;
  }
}

/** The attempt a token's payload names, or undefined when it is not a token's payload. */
function fieldsOf(payload: string): TaskTokenFields | undefined {
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return undefined;
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
  )
    return undefined;
  return { workflowId: parts[1], runId: parts[2], seq: parts[3], attempt: parts[4], taskQueue: parts[5] };
}

/**
 * What a token says, WITHOUT checking its signature: only to name the attempt in a message once
 * a call that checked it succeeded (the command line's output).
 */
export function unverifiedTaskTokenFields(token: string): TaskTokenFields | undefined {
  const text = String(token);
  const dot = text.indexOf('.');
  return dot > 0 ? fieldsOf(text.slice(0, dot)) : undefined;
}
