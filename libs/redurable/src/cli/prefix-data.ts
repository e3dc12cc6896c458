import type { CliSession } from './connect.js';

/**
 * The prefix names no Redurable data on this Redis: most likely not the app's prefix. Thrown by
 * the listing commands instead of printing an empty list (exit code 3).
 */
export class NoDataUnderPrefixError extends Error {
  override name = 'NoDataUnderPrefixError';

  constructor(prefix: string, endpoint: string) {
    super(
      `prefix '${prefix}' holds no Redurable data on ${endpoint}: pass the app's prefix (DurableModule's \`prefix\`) with --prefix or REDURABLE_PREFIX`,
    );
  }
}

/**
 * Whether an app ever used the prefix: every app records the key layout when it connects, workers
 * register their workflow types, and the first task token makes the secret. One key each, read
 * one at a time (they sit in different Cluster slots).
 */
async function holdsData({ runtime }: CliSession): Promise<boolean> {
  const { keys, redis } = runtime;
  for (const key of [keys.layout(), keys.workflowTypes(), keys.tokenSecret()])
    if ((await redis.exists(key)) > 0) return true;
  return false;
}

/**
 * Called by a listing that found nothing: an empty answer from a prefix no app used is a
 * mistake (a wrong or missing --prefix), said on stderr with a non-zero exit code.
 */
export async function checkPrefixHoldsData(session: CliSession): Promise<void> {
  if (!(await holdsData(session)))
    throw new NoDataUnderPrefixError(session.runtime.options.prefix, session.runtime.link.endpoint);
}
