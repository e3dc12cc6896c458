import { Buffer } from 'node:buffer';
import { SuperJSON, type SuperJSONResult, type SuperJSONValue } from 'superjson';
import { PayloadError, PayloadTooLargeError } from '../errors/library.errors.js';
import type { Type } from '../types.js';
import { storable } from './storable.js';

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
 * carry (Date, Map, Set, BigInt, undefined, NaN, RegExp, Error, repeated references, a Buffer as
 * base64, an instance of a `payloadClasses` class as its class name and fields). JSON text
 * never starts with '~', so plain JSON payloads (the only format before, and still what plain
 * data is stored as) decode as they always did.
 */
const FORMAT_1 = '~sj1';

/** Name of the superjson custom type a Buffer is stored as (base64 text). */
const BUFFER = 'Buffer';

/**
 * The annotation tree of a format-1 payload (superjson's `meta.values`: `[type, children?]`
 * nodes, or records of them by path), adapted to what this converter can build: a class tag it
 * does not know (a process without that `payloadClasses` entry, the command line) is dropped,
 * so the value reads as a plain object with the same fields, and a Buffer recorded before Buffers
 * had a type of their own (`typed-array` 'Buffer', which superjson cannot read back) reads as a Buffer.
 */
function adaptTree(tree: unknown, knownClass: (id: string) => boolean): unknown {
  if (!Array.isArray(tree)) {
    if (typeof tree !== 'object' || tree === null) return tree;
    const out: Record<string, unknown> = {};
    for (const [path, sub] of Object.entries(tree)) {
      const adapted = adaptTree(sub, knownClass);
      if (adapted !== undefined) out[path] = adapted;
    }
    return Object.keys(out).length ? out : undefined;
  }
  const [node, children] = tree as [unknown, unknown];
  const kids = children === undefined ? undefined : adaptTree(children, knownClass);
  // A dropped node's children keep their paths: a record of them is a valid tree at its place.
  if (Array.isArray(node) && node[0] === 'class' && !knownClass(String(node[1]))) return kids;
  const type = Array.isArray(node) && node[0] === 'typed-array' && node[1] === BUFFER ? ['custom', BUFFER] : node;
  return kids === undefined ? [type] : [type, kids];
}

/**
 * superjson, per converter (never its global instance): the app's `payloadClasses` registered
 * by class name, and Buffers stored as base64.
 */
function superjsonFor(payloadClasses: readonly Type<object>[]): SuperJSON {
  const sj = new SuperJSON();
  for (const cls of payloadClasses) sj.registerClass(cls, { identifier: cls.name });
  sj.registerCustom<Buffer, string>(
    {
      isApplicable: (v): v is Buffer => Buffer.isBuffer(v),
      serialize: (v) => v.toString('base64'),
      // Before Buffers had a type, one was stored as an array of its bytes.
      deserialize: (v) => (Array.isArray(v) ? Buffer.from(v as number[]) : Buffer.from(v, 'base64')),
    },
    BUFFER,
  );
  return sj;
}

/**
 * Why `payloadClasses` (a module option) cannot be used, or undefined: it must list named
 * classes, no two with the same name (the name is what the history records).
 */
export function payloadClassesProblem(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((c) => typeof c !== 'function' || !c.name))
    return `payloadClasses must be an array of named classes, like [Money] (got ${Array.isArray(value) ? value.map((c) => (typeof c === 'function' ? c.name || 'an anonymous class' : JSON.stringify(c))).join(', ') : JSON.stringify(value)})`;
  const names = (value as Type<object>[]).map((c) => c.name);
  const twice = [...new Set(names.filter((n, i) => names.indexOf(n) !== i))];
  if (twice.length)
    return `payloadClasses has two classes named ${twice.join(', ')}: the class name is what a payload records, so rename one`;
  return undefined;
}

/**
 * The one place payloads are encoded: JSON, or superjson's format for values JSON would change
 * (a Date, Map, Set, BigInt, undefined round-trip as what they were), refusing functions and
 * symbols with a PayloadError naming their path; then an optional {@link PayloadCodec} (for
 * example encryption), then a size check.
 */
export class DataConverter {
  private readonly superjson: SuperJSON;
  private readonly classNames: Set<string>;
  private readonly classes: Set<unknown>;

  /**
   * @param payloadClasses classes whose instances, anywhere in a payload, are recorded with their
   * class name and arrive as instances of them (prototype set, fields copied, constructor not run)
   */
  constructor(
    readonly maxPayloadBytes: number,
    private readonly codec?: PayloadCodec,
    payloadClasses: readonly Type<object>[] = [],
  ) {
    this.superjson = superjsonFor(payloadClasses);
    this.classNames = new Set(payloadClasses.map((c) => c.name));
    this.classes = new Set(payloadClasses);
  }

  /** A value as the JSON text stored: plain JSON when JSON carries it faithfully, else format 1. */
  private serialize(value: unknown): string {
    const { json, meta } = this.superjson.serialize(
      storable(value, (ctor) => this.classes.has(ctor)) as SuperJSONValue,
    );
    return meta ? FORMAT_1 + JSON.stringify({ json, meta }) : JSON.stringify(json);
  }

  private deserialize(text: string): unknown {
    if (!text.startsWith(FORMAT_1)) return JSON.parse(text);
    const payload = JSON.parse(text.slice(FORMAT_1.length)) as SuperJSONResult;
    if (payload.meta?.values && (text.includes('["class",') || text.includes('"typed-array","Buffer"'))) {
      const values = adaptTree(payload.meta.values, (id) => this.classNames.has(id));
      payload.meta = { ...payload.meta, values: values as typeof payload.meta.values };
    }
    return this.superjson.deserialize(payload);
  }

  /** Encodes one value; `what` names it in errors ("argument 1 of workflow 'x'"). */
  encode(value: unknown, what: string): string {
    let json: string;
    if (value === undefined) json = UNDEFINED;
    else {
      try {
        json = this.serialize(value);
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
      return this.deserialize(json) as T;
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
