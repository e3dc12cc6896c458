import { toMs, type Duration } from '../duration.js';
import { InvalidArgumentError, InvalidOptionsError } from '../errors/library.errors.js';

/**
 * Flow control options (issue 24): how many of a kind run at once, and how often one may start,
 * per key, across every worker process of the prefix. The limits live in Redis (see
 * store/flow-store.ts); these are their options, their validation at registration, and the key
 * a call computes from its arguments.
 */

/** A limit's key function: the key of one call from its arguments (a tenant, an account). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the arguments are the method's, whose types a decorator cannot name
export type FlowKeyFunction = (...args: any[]) => string;

/**
 * At most `limit` running at once, per key.
 *
 * @example
 * concurrency: { limit: 2, key: (order: Order) => order.accountId }
 */
export interface ConcurrencyLimit {
  /** How many may run at once per key: an integer ≥ 1. */
  limit: number;
  /** The key of a call from its arguments: a non-empty string of at most 256 characters. @default one key for every call */
  key?: FlowKeyFunction;
  /**
   * The limit's name: a metrics label and what `describe().waitingFor` shows. Two activities (or
   * workflows) giving the same name share the limit's slots, so their `limit`s must agree.
   * @default the activity type (or workflow type)
   */
  name?: string;
}

/**
 * At most `limit` starts per `period`, per key, over any window of that length.
 *
 * @example
 * rateLimit: { limit: 100, period: '1s', key: (order: Order) => order.partner }
 */
export interface RateLimit {
  /** How many may start per period per key: an integer ≥ 1. */
  limit: number;
  /** The window: a duration above zero. */
  period: Duration;
  /** The key of a call from its arguments: a non-empty string of at most 256 characters. @default one key for every call */
  key?: FlowKeyFunction;
  /** The limit's name (see {@link ConcurrencyLimit.name}). @default the activity type */
  name?: string;
}

/** A concurrency limit as recorded with a call: its name, the call's key, and the limit then in force. */
export interface RecordedConcurrency {
  name: string;
  /** The key the key function returned; `''` when the limit has no key function (one key for every call). */
  key: string;
  limit: number;
}

/** A rate limit as recorded with a call. */
export interface RecordedRate extends RecordedConcurrency {
  periodMs: number;
}

/** A concurrency limit checked at registration: its name resolved. */
export interface CheckedConcurrency {
  name: string;
  limit: number;
  key?: FlowKeyFunction;
}

/** A rate limit checked at registration: its name resolved, its period in milliseconds. */
export interface CheckedRate extends CheckedConcurrency {
  periodMs: number;
}

/** The longest key a key function may return. */
export const MAX_FLOW_KEY_LENGTH = 256;

const CONCURRENCY_FIELDS = new Set(['limit', 'key', 'name']);
const RATE_FIELDS = new Set(['limit', 'period', 'key', 'name']);

function shown(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'function') return 'a function';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** What is wrong with a limit's common fields (limit, key, name, no unknown field), each named by its path. */
function problemsOf(value: unknown, option: string, fields: Set<string>): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return [`${option} must be an object such as { limit: 5 } (got ${shown(value)})`];
  const o = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const field of Object.keys(o))
    if (!fields.has(field))
      problems.push(`${option}.${field} is not an option (${option} takes ${[...fields].join(', ')})`);
  if (typeof o.limit !== 'number' || !Number.isInteger(o.limit) || o.limit < 1)
    problems.push(`${option}.limit must be an integer ≥ 1 (got ${shown(o.limit)})`);
  if (o.key !== undefined && typeof o.key !== 'function')
    problems.push(`${option}.key must be a function of the call's arguments returning a string (got ${shown(o.key)})`);
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name === '' || o.name.length > MAX_FLOW_KEY_LENGTH))
    problems.push(
      `${option}.name must be a non-empty string of at most ${MAX_FLOW_KEY_LENGTH} characters (got ${shown(o.name)})`,
    );
  return problems;
}

/**
 * Checks a concurrency limit at registration; throws an InvalidOptionsError naming `where` (the
 * class and method, or the workflow class) and every bad field. `defaultName` is the activity or
 * workflow type.
 */
export function checkConcurrency(value: unknown, where: string, defaultName: string): CheckedConcurrency {
  const problems = problemsOf(value, 'concurrency', CONCURRENCY_FIELDS);
  if (problems.length > 0) throw new InvalidOptionsError(`${where}: ${problems.join('; ')}`);
  const o = value as ConcurrencyLimit;
  return { name: o.name ?? defaultName, limit: o.limit, ...(o.key ? { key: o.key } : {}) };
}

/** Checks a rate limit at registration (see {@link checkConcurrency}); the period must be a duration above zero. */
export function checkRate(value: unknown, where: string, defaultName: string): CheckedRate {
  const problems = problemsOf(value, 'rateLimit', RATE_FIELDS);
  let periodMs = 0;
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const period = (value as { period?: unknown }).period;
    try {
      periodMs = toMs(period as Duration);
    } catch {
      periodMs = -1;
    }
    if (periodMs <= 0)
      problems.push(`rateLimit.period must be a duration above zero, such as '1s' or 60000 (got ${shown(period)})`);
  }
  if (problems.length > 0) throw new InvalidOptionsError(`${where}: ${problems.join('; ')}`);
  const o = value as RateLimit;
  return { name: o.name ?? defaultName, limit: o.limit, periodMs, ...(o.key ? { key: o.key } : {}) };
}

/**
 * The key of one call: the limit's key function applied to the call's arguments (`''` without
 * one). Throws an InvalidArgumentError naming `what` (the activity or workflow type), the limit,
 * and what the function threw or returned, when it throws or returns anything but a non-empty
 * string of at most 256 characters.
 */
export function flowKeyOf(limit: { name: string; key?: FlowKeyFunction }, args: unknown[], what: string): string {
  if (!limit.key) return '';
  let key: unknown;
  try {
    key = limit.key(...args);
  } catch (err) {
    throw new InvalidArgumentError(
      `${what}: the key function of limit '${limit.name}' threw: ${err instanceof Error ? err.message : String(err)}; nothing was recorded`,
    );
  }
  if (typeof key !== 'string' || key === '' || key.length > MAX_FLOW_KEY_LENGTH)
    throw new InvalidArgumentError(
      `${what}: the key function of limit '${limit.name}' returned ${typeof key === 'string' && key.length > 40 ? `a string of ${key.length} characters` : shown(key)}; ` +
        `it must return a non-empty string of at most ${MAX_FLOW_KEY_LENGTH} characters (nothing was recorded)`,
    );
  return key;
}

/** A limit as declared by one activity or workflow, for {@link FlowLimitCatalog}. */
interface Declared {
  limit: number;
  periodMs?: number;
  where: string;
}

/**
 * The limits declared in one process, by kind and name: two declarations of one name share its
 * slots (or its window), so they must agree on `limit` (and `period`); a disagreement stops the
 * app at registration.
 */
export class FlowLimitCatalog {
  private readonly declared = new Map<string, Declared>();

  /** Records a limit declared at `where`; throws an InvalidOptionsError when the name is declared elsewhere with another limit. */
  declare(kind: 'concurrency' | 'rateLimit', limit: CheckedConcurrency | CheckedRate, where: string): void {
    const id = `${kind}\u0000${limit.name}`;
    const periodMs = 'periodMs' in limit ? limit.periodMs : undefined;
    const other = this.declared.get(id);
    if (!other) {
      this.declared.set(id, { limit: limit.limit, periodMs, where });
      return;
    }
    if (other.limit !== limit.limit || other.periodMs !== periodMs)
      throw new InvalidOptionsError(
        `${where}: ${kind} '${limit.name}' is declared with limit ${limit.limit}${periodMs === undefined ? '' : ` per ${periodMs}ms`}, ` +
          `but ${other.where} declares the same name with limit ${other.limit}${other.periodMs === undefined ? '' : ` per ${other.periodMs}ms`}: ` +
          'a name is one shared limit, so give both the same limit (or different names)',
      );
  }
}
