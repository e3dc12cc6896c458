import { PayloadError } from '../errors/library.errors.js';
import { InvalidArgumentError } from '../errors/library.errors.js';
import type { DataConverter } from './data-converter.js';

/**
 * A memo (start option `memo`) encoded field by field with the DataConverter, so that a field
 * another process cannot decode hides only itself. `what` names the workflow in errors.
 */
export function encodeMemo(
  converter: DataConverter,
  memo: Record<string, unknown>,
  what: string,
): Record<string, string> {
  if (memo === null || typeof memo !== 'object' || Array.isArray(memo))
    throw new InvalidArgumentError(`Invalid ${what}: pass an object of name → value`);
  return Object.fromEntries(
    Object.entries(memo).map(([name, value]) => [name, converter.encode(value, `${what}, field '${name}'`)]),
  );
}

/**
 * A recorded memo, decoded field by field: a field this process cannot decode (an operator's
 * shell without the app's codec) is reported as undecodable, and the others still show.
 */
export function decodeMemo(
  converter: DataConverter,
  memo: Record<string, string>,
): { memo: Record<string, unknown>; undecodableMemo?: Record<string, { stored: string; error: string }> } {
  const decoded: Record<string, unknown> = {};
  const undecodable: Record<string, { stored: string; error: string }> = {};
  for (const [name, stored] of Object.entries(memo)) {
    try {
      decoded[name] = converter.decode(stored, `memo field '${name}'`);
    } catch (err) {
      if (!(err instanceof PayloadError)) throw err;
      undecodable[name] = { stored, error: err.message };
    }
  }
  return Object.keys(undecodable).length ? { memo: decoded, undecodableMemo: undecodable } : { memo: decoded };
}
