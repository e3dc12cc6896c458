import superjson, { type SuperJSONResult } from 'superjson';
import { PayloadError, PayloadTooLargeError } from '../errors/library.errors.js';

/** Turns values into the strings stored in history and job data, and back. */
export interface PayloadCodec {
  /** Called with the JSON text of a value; returns what is stored. */
  encode(json: string): string;
  /** Inverse of encode. Throw when the stored text cannot be decoded. */
  decode(stored: string): string;
}

/** Stored text for `undefined`, which JSON cannot express. */
const UNDEFINED = '';

/**
 * Marks a payload in format 1: superjson's `{ json, meta }` as JSON, for values JSON cannot
 * carry (Date, Map, Set, BigInt, undefined, NaN, RegExp, Error, repeated references). JSON text
 * never starts with '~', so plain JSON payloads (the only format before, and still what plain
 * data is stored as) decode as they always did.
 */
const FORMAT_1 = '~sj1';

/** Refuses what no format can store (a function, a symbol), naming where it is in the value. */
function checkStorable(value: unknown, path: string, seen: Set<object>): void {
  const t = typeof value;
  if (t === 'function' || t === 'symbol') {
    throw new PayloadError(
      `the value${path ? ` at ${path}` : ''} is a ${t}, which cannot be stored: pass data (objects, arrays, strings, numbers, booleans, null, dates, maps, sets, bigints)`,
    );
  }
  if (t !== 'object' || value === null || seen.has(value as object)) return;
  seen.add(value as object);
  if (value instanceof Map) {
    let i = 0;
    for (const [k, v] of value) {
      checkStorable(k, `${path}[map key ${i}]`, seen);
      checkStorable(v, `${path}[${typeof k === 'string' ? JSON.stringify(k) : `map entry ${i}`}]`, seen);
      i++;
    }
  } else if (value instanceof Set) {
    let i = 0;
    for (const v of value) checkStorable(v, `${path}[set item ${i++}]`, seen);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => checkStorable(v, `${path}[${i}]`, seen));
  } else {
    for (const [k, v] of Object.entries(value as object)) {
      checkStorable(
        v,
        /^[A-Za-z_$][\w$]*$/.test(k) ? (path ? `${path}.${k}` : k) : `${path}[${JSON.stringify(k)}]`,
        seen,
      );
    }
  }
}

/** A value as the JSON text stored: plain JSON when JSON carries it faithfully, else format 1. */
function serialize(value: unknown): string {
  checkStorable(value, '', new Set());
  const { json, meta } = superjson.serialize(value);
  return meta ? FORMAT_1 + JSON.stringify({ json, meta }) : JSON.stringify(json);
}

function deserialize(text: string): unknown {
  if (!text.startsWith(FORMAT_1)) return JSON.parse(text);
  return superjson.deserialize(JSON.parse(text.slice(FORMAT_1.length)) as SuperJSONResult);
}

/**
 * The one place payloads are encoded: JSON, or superjson's format for values JSON would change
 * (a Date, Map, Set, BigInt, undefined round-trip as what they were), refusing functions and
 * symbols with a PayloadError naming their path; then an optional {@link PayloadCodec} (for
 * example encryption), then a size check.
 */
export class DataConverter {
  constructor(
    readonly maxPayloadBytes: number,
    private readonly codec?: PayloadCodec,
  ) {}

  /** Encodes one value; `what` names it in errors ("argument 1 of workflow 'x'"). */
  encode(value: unknown, what: string): string {
    let json: string;
    if (value === undefined) json = UNDEFINED;
    else {
      try {
        json = serialize(value);
      } catch (err) {
        const reason = err instanceof PayloadError ? err.message : (err as Error).message;
        throw new PayloadError(`Cannot serialize ${what}: ${reason}`);
      }
    }
    const stored = this.codec && json !== UNDEFINED ? this.codec.encode(json) : json;
    const bytes = Buffer.byteLength(stored);
    if (bytes > this.maxPayloadBytes) {
      throw new PayloadTooLargeError(
        `${what} is ${bytes} bytes, over the limit of ${this.maxPayloadBytes} (maxPayloadBytes): store large data elsewhere and pass a reference`,
      );
    }
    return stored;
  }

  encodeAll(values: unknown[], what: string): string[] {
    return values.map((v, i) => this.encode(v, `argument ${i + 1} of ${what}`));
  }

  decode<T = unknown>(stored: string, what: string): T {
    if (stored === UNDEFINED) return undefined as T;
    try {
      const json = this.codec ? this.codec.decode(stored) : stored;
      return deserialize(json) as T;
    } catch (err) {
      throw new PayloadError(
        `Cannot decode ${what}: ${(err as Error).message}. Check that every worker and client uses the same payload codec`,
      );
    }
  }

  decodeAll(stored: string[], what: string): unknown[] {
    return stored.map((s, i) => this.decode(s, `argument ${i + 1} of ${what}`));
  }
}
