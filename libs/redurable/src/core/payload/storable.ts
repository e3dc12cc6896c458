import { PayloadError } from '../errors/library.errors.js';

/** A key as a path segment: `.name`, or `["odd key"]`. */
const segment = (path: string, key: string) =>
  /^[A-Za-z_$][\w$]*$/.test(key) ? (path ? `${path}.${key}` : key) : `${path}[${JSON.stringify(key)}]`;

const isNative = (fn: unknown) =>
  typeof fn === 'function' && /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(fn));

/**
 * An instance of an app class that superjson would store as one opaque value (JSON.stringify's
 * own fields, so a Date field became a string and a Map field `{}`): not a plain object, an
 * array, a built-in (Date, Map, RegExp, ...), an Error, binary data, a registered payload class,
 * nor a value that says how to store itself (`toJSON`, as Decimal or Luxon values do).
 */
function isOpaqueInstance(value: object, registered: (ctor: unknown) => boolean): boolean {
  const proto = Object.getPrototypeOf(value) as { constructor?: unknown } | null;
  if (proto === null || proto === Object.prototype || Array.isArray(value)) return false;
  if (value instanceof Error || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return false;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
  return !isNative(proto.constructor) && !registered(proto.constructor);
}

/**
 * The value as it is stored: functions and symbols refused with a PayloadError naming where they
 * are; an instance of an app class that is not a registered payload class becomes a plain object
 * of its own fields, walked like any other, so a Date, Map or Set in it is kept (it arrives as a
 * plain object, or as an instance when an argument declares its class). Containers are copied
 * only where something in them changed; repeated references stay shared.
 */
export function storable(
  value: unknown,
  registered: (ctor: unknown) => boolean,
  path = '',
  memo = new Map<object, unknown>(),
): unknown {
  const t = typeof value;
  if (t === 'function' || t === 'symbol') {
    throw new PayloadError(
      `the value${path ? ` at ${path}` : ''} is a ${t}, which cannot be stored: pass data (objects, arrays, strings, numbers, booleans, null, dates, maps, sets, bigints)`,
    );
  }
  if (t !== 'object' || value === null || ArrayBuffer.isView(value)) return value;
  const object = value as object;
  if (memo.has(object)) return memo.get(object);
  memo.set(object, object); // a cycle back to this value sees it as it is
  const walk = (v: unknown, at: string) => storable(v, registered, at, memo);
  let out: unknown = object;
  if (object instanceof Map) {
    let i = 0;
    let changed = false;
    const entries = [...object].map(([k, v]) => {
      const key = walk(k, `${path}[map key ${i}]`);
      const val = walk(v, `${path}[${typeof k === 'string' ? JSON.stringify(k) : `map entry ${i}`}]`);
      i++;
      changed ||= key !== k || val !== v;
      return [key, val] as const;
    });
    if (changed) out = new Map(entries);
  } else if (object instanceof Set) {
    let i = 0;
    const before = [...object];
    const items = before.map((v) => walk(v, `${path}[set item ${i++}]`));
    if (items.some((v, j) => v !== before[j])) out = new Set(items);
  } else if (Array.isArray(object)) {
    const items = object.map((v, i) => walk(v, `${path}[${i}]`));
    if (items.some((v, i) => v !== object[i])) out = items;
  } else {
    const entries = Object.entries(object).map(([k, v]) => [k, walk(v, segment(path, k))] as const);
    const proto = Object.getPrototypeOf(object) as { constructor?: unknown } | null;
    if (isOpaqueInstance(object, registered)) out = Object.fromEntries(entries);
    // Rebuilt only where superjson copies fields too: a plain object, or a registered class's instance
    // (its prototype kept, so it is still recorded as that class). Anything else is only checked.
    else if (
      (proto === null || proto === Object.prototype || registered(proto.constructor)) &&
      entries.some(([k, v]) => v !== (object as Record<string, unknown>)[k])
    )
      out = Object.setPrototypeOf(Object.fromEntries(entries), proto) as object;
  }
  memo.set(object, out);
  return out;
}
