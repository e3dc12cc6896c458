import { Buffer } from 'node:buffer';

/** Whether `value` is an object literal (or `Object.create(null)`), not an instance of some class. */
function isPlainObject(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A built-in (`Object`, `String`, `Date`, `Map`, ...) or Node's Buffer: never a payload class to revive. */
function isBuiltIn(type: object): boolean {
  return type === Buffer || /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(type));
}

/**
 * Arguments as the method declares them: an argument whose declared type (TypeScript's emitted
 * `design:paramtypes`) is a class, and which arrived as a plain object, becomes an instance of
 * that class: its prototype is the class's, its fields are those that arrived, and its
 * constructor does not run (as with a registered `payloadClasses` class). Only the argument
 * itself: its fields stay as they arrived (a registered class anywhere in a payload arrives as
 * an instance of it on its own). Interfaces, type aliases, unions and classes imported with
 * `import type` are emitted as `Object` and left alone, as are built-ins.
 */
export function asDeclaredTypes(target: object, method: string, args: unknown[]): unknown[] {
  const types = Reflect.getMetadata('design:paramtypes', target, method) as unknown[] | undefined;
  if (!types) return args;
  return args.map((arg, i) => {
    const type = types[i];
    if (typeof type !== 'function' || isBuiltIn(type) || !isPlainObject(arg)) return arg;
    // Own data properties, as they arrived: no setter of the class runs, and a "__proto__" key
    // (JSON.parse keeps it as a field) stays a field instead of replacing the instance's prototype.
    return Object.defineProperties(
      Object.create((type as { prototype: object }).prototype) as object,
      Object.getOwnPropertyDescriptors(arg),
    );
  });
}
