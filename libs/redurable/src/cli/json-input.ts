import { UsageError } from './connect.js';

/** A value given on the command line as JSON; `what` names it in the usage error (exit 2) when it is not JSON. */
export function jsonValue(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UsageError(
      `${what} (${text}) is not JSON: quote strings, for example '"ada"', and pass numbers and objects as JSON`,
    );
  }
}

/** Collects a repeatable option's values in the order given (commander's argParser for `--input`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
