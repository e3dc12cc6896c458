import { Option, type Command } from 'commander';
import { ApplicationFailure } from '../core/errors/temporal-failure.js';
import { InvalidTaskTokenError, unverifiedTaskTokenFields } from '../core/task-token.js';
import { connect, UsageError, type CliSession } from './connect.js';
import { jsonValue } from './json-input.js';
import { json, out, type GlobalFlags } from './workflow-commands.js';

interface ActivityFlags extends GlobalFlags {
  taskTokenSecret?: string;
}

const SECRET_HINT =
  "if the app sets DurableModule's taskTokenSecret, pass the same with --task-token-secret or REDURABLE_TASK_TOKEN_SECRET";

/**
 * A session whose task tokens are checked with the app's secret: the one given, else the one the
 * library keeps under the prefix. A prefix with none (the app gives its own) is a usage error:
 * reading it would make one, and every token would be refused.
 */
async function tokenSession(flags: ActivityFlags): Promise<CliSession> {
  const secret = flags.taskTokenSecret;
  if (secret !== undefined && secret.length < 32)
    throw new UsageError(
      `--task-token-secret must be the app's taskTokenSecret (at least 32 characters), not ${secret.length} characters`,
    );
  const session = await connect(flags);
  if (secret === undefined && (await session.runtime.redis.exists(session.runtime.keys.tokenSecret())) === 0) {
    await session.close();
    throw new UsageError(
      `prefix '${flags.prefix}' holds no task token secret: the app sets its own (taskTokenSecret), so pass the same with --task-token-secret or REDURABLE_TASK_TOKEN_SECRET; or --prefix is not the app's`,
    );
  }
  return session;
}

/** Runs a completion with the token's session, closing it afterwards; a refused token says how to give the secret. */
function withTokenSession(
  body: (session: CliSession, flags: ActivityFlags, token: string, value: string | undefined) => Promise<void>,
) {
  return async (token: string, value: string | undefined, _options: unknown, command: Command) => {
    const flags = command.optsWithGlobals<ActivityFlags>();
    const session = await tokenSession(flags);
    try {
      await body(session, flags, token, value);
    } catch (err) {
      if (err instanceof InvalidTaskTokenError && flags.taskTokenSecret === undefined)
        throw new InvalidTaskTokenError(`${err.message} (${SECRET_HINT})`);
      throw err;
    } finally {
      await session.close();
    }
  };
}

/**
 * `activity fail`'s argument: a message (text, or a JSON string), or a JSON object
 * `{ message, type?, details? }`: an ApplicationFailure of that type, which the workflow catches as the cause.
 */
function failureOf(value: string | undefined): Error | string {
  if (value === undefined) return 'failed with the redurable command';
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return value; // plain text: the message
  }
  if (typeof parsed === 'string') return parsed;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return value; // 42, true: text
  const f = parsed as { message?: unknown; type?: unknown; details?: unknown };
  if (
    typeof f.message !== 'string' ||
    (f.type !== undefined && typeof f.type !== 'string') ||
    (f.details !== undefined && !Array.isArray(f.details))
  )
    throw new UsageError(
      `the failure (${value}) must be a message, or JSON { "message": "...", "type"?: "...", "details"?: [...] }`,
    );
  return ApplicationFailure.create({
    message: f.message,
    type: f.type as string | undefined,
    nonRetryable: true,
    details: f.details as unknown[] | undefined,
  });
}

/** The attempt a checked token names, for the output. */
function attemptText(token: string): { workflowId?: string; seq?: number; text: string } {
  const f = unverifiedTaskTokenFields(token);
  return f
    ? { workflowId: f.workflowId, seq: f.seq, text: `Activity seq ${f.seq} of workflow '${f.workflowId}'` }
    : { text: 'Activity' };
}

/**
 * `redurable activity complete|fail <taskToken> ...`: finishes an activity that said it would
 * be completed later (`activityContext().completeAsync()` returned the token). Tokens are
 * signed: the prefix's secret is read from Redis, or given with `--task-token-secret` when the
 * app sets its own.
 */
export function addActivityCommands(activity: Command): void {
  activity.addOption(
    new Option(
      '--task-token-secret <secret>',
      "the app's taskTokenSecret, when it sets one (default: the secret the library keeps in Redis)",
    ).env('REDURABLE_TASK_TOKEN_SECRET'),
  );

  activity
    .command('complete')
    .argument('<taskToken>', 'the token completeAsync() returned')
    .argument('[result]', 'the result the workflow gets, as JSON (default: none)')
    .description('completes the activity attempt with a result')
    .action(
      withTokenSession(async ({ client }, flags, token, value) => {
        const result = value === undefined ? undefined : jsonValue(value, 'the result');
        await client.activity.complete(token, result);
        const { text, workflowId, seq } = attemptText(token);
        if (flags.json) json({ workflowId, seq, completed: true });
        else out(`${text} completed`);
      }),
    );

  activity
    .command('fail')
    .argument('<taskToken>', 'the token completeAsync() returned')
    .argument('[failure]', 'a message, or JSON { "message", "type"?, "details"? } (default: a generic message)')
    .description('fails the activity for good (no retry): the workflow gets an ActivityFailure')
    .action(
      withTokenSession(async ({ client }, flags, token, value) => {
        await client.activity.fail(token, failureOf(value));
        const { text, workflowId, seq } = attemptText(token);
        if (flags.json) json({ workflowId, seq, failed: true });
        else out(`${text} failed`);
      }),
    );
}
