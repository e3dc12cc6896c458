import { InvalidSearchAttributeError } from '../errors/search.errors.js';

/**
 * The type of a search attribute, which decides how it is indexed and queried:
 * `keyword` (a string, matched whole: `=` and `!=`), `bool` (`=` and `!=`), `number` and
 * `datetime` (`=`, `!=`, `<`, `<=`, `>`, `>=`, `BETWEEN`).
 */
export type SearchAttributeType = 'keyword' | 'number' | 'datetime' | 'bool';

/** Search attributes a workflow type may carry, by name, with their types (`@Workflow({ searchAttributes })`). */
export type SearchAttributeDeclarations = Record<string, SearchAttributeType>;

/** A value of a search attribute as code gives it: a datetime is a Date (or an ISO 8601 string). */
export type SearchAttributeValue = string | number | boolean | Date;

/** Search attributes by name, as given to `start()` and `upsertSearchAttributes()` and returned by `describe()` and `list()`. */
export type SearchAttributes = Record<string, SearchAttributeValue>;

/**
 * How a search attribute is recorded in the history and the run's meta hash: its type with its
 * value (a datetime as epoch milliseconds, so the index scripts can score it without parsing).
 */
export interface RecordedSearchAttribute {
  type: SearchAttributeType;
  value: string | number | boolean;
}
export type RecordedSearchAttributes = Record<string, RecordedSearchAttribute>;

const TYPES: readonly SearchAttributeType[] = ['keyword', 'number', 'datetime', 'bool'];
/** Names are used in index key names and in queries: identifiers only. */
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** Names the query language keeps for the workflow's own fields. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  'WorkflowType',
  'ExecutionStatus',
  'StartTime',
  'CloseTime',
  'WorkflowId',
]);
const MAX_KEYWORD = 256;

/** Checks a `@Workflow({ searchAttributes })` declaration; returns a problem, or undefined when it is valid. */
export function declarationProblem(declared: SearchAttributeDeclarations): string | undefined {
  for (const [name, type] of Object.entries(declared)) {
    if (!NAME.test(name))
      return `'${name}' is not a valid search attribute name (letters, digits and _, at most 64, not starting with a digit)`;
    if (RESERVED_NAMES.has(name)) return `'${name}' is reserved for the workflow's own field in queries`;
    if (!TYPES.includes(type)) return `search attribute '${name}' has type '${String(type)}': use ${TYPES.join(', ')}`;
  }
  return undefined;
}

/** The type a value has when no declaration says (a process without the class and no declaration registered). */
function inferredType(value: unknown): SearchAttributeType | undefined {
  if (typeof value === 'string') return 'keyword';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'bool';
  if (value instanceof Date) return 'datetime';
  return undefined;
}

/** A value converted to its recorded form, or a problem when it does not fit `type`. */
export function recordedValue(
  type: SearchAttributeType,
  value: unknown,
): { value: string | number | boolean } | { problem: string } {
  switch (type) {
    case 'keyword':
      if (typeof value !== 'string') return { problem: `expected a string (keyword), got ${describeValue(value)}` };
      if (value.length > MAX_KEYWORD)
        return { problem: `a keyword is at most ${MAX_KEYWORD} characters, got ${value.length}` };
      return { value };
    case 'number':
      return typeof value === 'number' && Number.isFinite(value)
        ? { value }
        : { problem: `expected a finite number, got ${describeValue(value)}` };
    case 'bool':
      return typeof value === 'boolean' ? { value } : { problem: `expected a boolean, got ${describeValue(value)}` };
    case 'datetime': {
      const ms =
        value instanceof Date
          ? value.getTime()
          : typeof value === 'string' && /^\d{4}-\d\d-\d\d/.test(value)
            ? Date.parse(value)
            : NaN;
      return Number.isFinite(ms)
        ? { value: ms }
        : { problem: `expected a Date or an ISO 8601 date string, got ${describeValue(value)}` };
    }
  }
}

function describeValue(value: unknown): string {
  if (value instanceof Date) return `the invalid Date ${String(value)}`;
  return `${typeof value} ${JSON.stringify(value)?.slice(0, 40)}`;
}

/**
 * Validates values against a workflow type's declaration (or, with none known, infers their
 * types) and converts them to their recorded form. `null` removes an attribute (kept as null so
 * that the change can be merged). Throws InvalidSearchAttributeError naming the workflow type, the
 * attribute and the declared ones.
 */
export function recordSearchAttributes(
  workflowType: string,
  values: Record<string, SearchAttributeValue | null>,
  declared: SearchAttributeDeclarations | undefined,
): Record<string, RecordedSearchAttribute | null> {
  if (values === null || typeof values !== 'object' || Array.isArray(values)) {
    throw new InvalidSearchAttributeError(
      workflowType,
      '(all)',
      'search attributes must be an object of name → value',
      declared ?? {},
    );
  }
  const out: Record<string, RecordedSearchAttribute | null> = {};
  for (const [name, value] of Object.entries(values)) {
    const fail = (problem: string) => new InvalidSearchAttributeError(workflowType, name, problem, declared ?? {});
    if (declared && !(name in declared)) throw fail('it is not declared');
    if (!NAME.test(name) || RESERVED_NAMES.has(name)) throw fail('it is not a valid search attribute name');
    if (value === null || value === undefined) {
      out[name] = null;
      continue;
    }
    const type = declared ? declared[name] : inferredType(value);
    if (!type) throw fail(`a value must be a string, number, boolean or Date, got ${describeValue(value)}`);
    const recorded = recordedValue(type, value);
    if ('problem' in recorded) throw fail(recorded.problem);
    out[name] = { type, value: recorded.value };
  }
  return out;
}

/** Start values without the nulls (a start has nothing to remove). */
export function withoutRemovals(recorded: Record<string, RecordedSearchAttribute | null>): RecordedSearchAttributes {
  return Object.fromEntries(
    Object.entries(recorded).filter((e): e is [string, RecordedSearchAttribute] => e[1] !== null),
  );
}

/** `current` with `change` applied (a null in `change` removes the attribute). */
export function mergeSearchAttributes(
  current: RecordedSearchAttributes,
  change: Record<string, RecordedSearchAttribute | null>,
): RecordedSearchAttributes {
  const merged = { ...current };
  for (const [name, a] of Object.entries(change)) {
    if (a === null) delete merged[name];
    else merged[name] = a;
  }
  return merged;
}

/** Recorded attributes as code sees them: datetimes as Dates. */
export function searchAttributeValues(recorded: RecordedSearchAttributes | undefined): SearchAttributes {
  const out: SearchAttributes = {};
  for (const [name, a] of Object.entries(recorded ?? {}))
    out[name] = a.type === 'datetime' ? new Date(a.value as number) : a.value;
  return out;
}

/**
 * The full map after the last upsert among `events` (set by the workflow activation on each
 * upsert command): what a commit that records them passes to its script, so the script
 * replaces the meta's map and index entries without decoding events. A WeakMap, so the map is
 * not stored in the event itself.
 */
const mapAfter = new WeakMap<object, RecordedSearchAttributes>();

export function noteSearchAttributesAfter(command: object, map: RecordedSearchAttributes): void {
  mapAfter.set(command, map);
}

export function searchAttributesAfter(events: readonly object[]): RecordedSearchAttributes | undefined {
  for (let i = events.length - 1; i >= 0; i--) {
    const map = mapAfter.get(events[i]);
    if (map) return map;
  }
  return undefined;
}
