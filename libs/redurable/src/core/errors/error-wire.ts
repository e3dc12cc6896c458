import * as libraryErrors from './index.js';

/** An error as one process sends it to another (a worker answering a query or an update). */
export interface WireError {
  name: string;
  message: string;
  /** The error's own fields that survive JSON (`workflowId`, `updateName`...). */
  fields?: Record<string, unknown>;
  cause?: WireError;
}

/** The library's error classes by name: an error of one of them is rebuilt as one in the receiving process. */
const CLASSES = new Map<string, new (...args: never[]) => Error>(
  (Object.values(libraryErrors) as unknown[])
    .filter(
      (value): value is new (...args: never[]) => Error =>
        typeof value === 'function' && value.prototype instanceof Error,
    )
    .map((cls) => [cls.name, cls]),
);

/** `err` for another process: name, message, plain fields and cause chain. */
export function toWireError(err: unknown, depth = 0): WireError {
  const e = err instanceof Error ? err : new Error(String(err));
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(e)) {
    if (key === 'name' || key === 'message' || key === 'stack' || key === 'cause') continue;
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) fields[key] = value;
  }
  return {
    name: e.name,
    message: e.message,
    ...(Object.keys(fields).length ? { fields } : {}),
    ...(e.cause !== undefined && depth < 8 ? { cause: toWireError(e.cause, depth + 1) } : {}),
  };
}

/**
 * The error a wire error stands for: an instance of the library's class of that name (so
 * `instanceof` and the fields work as if it had been thrown here), else an Error of that name.
 */
export function fromWireError(wire: WireError, answeredBy: string): Error {
  const cls = CLASSES.get(wire.name);
  const err = cls ? (Object.create(cls.prototype) as Error) : new Error();
  Object.assign(err, wire.fields ?? {});
  Object.defineProperties(err, {
    name: { value: wire.name, writable: true, configurable: true },
    message: { value: wire.message, writable: true, configurable: true },
    stack: {
      value: `${wire.name}: ${wire.message}\n    (answered by ${answeredBy})`,
      writable: true,
      configurable: true,
    },
  });
  if (wire.cause)
    Object.defineProperty(err, 'cause', {
      value: fromWireError(wire.cause, answeredBy),
      writable: true,
      configurable: true,
    });
  return err;
}
