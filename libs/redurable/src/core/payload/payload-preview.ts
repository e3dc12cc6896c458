import { encryptedKeyId } from './aes-gcm-codec.js';

/** A stored payload as a person may see it: its value as JSON, or why it cannot be shown. */
export interface PayloadPreview {
  /** The decoded value as JSON text (indented when asked). */
  json?: string;
  /** Set when it cannot be decoded here: the id of the key it was encrypted with, if it is an AesGcmCodec payload. */
  undecodable?: { keyId?: string };
}

/** Shows what JSON cannot: a Map as its entries ({ key: value } when the keys are strings), a Set as an array, a BigInt as `123n`. */
function readable(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Set) return [...value];
  if (value instanceof Map)
    return [...value.keys()].every((k) => typeof k === 'string') ? Object.fromEntries(value) : [...value];
  return value;
}

/**
 * Decodes a stored payload for display with `decode` (the app's converter), never throwing:
 * a payload this process cannot decode (no codec, another key) is reported, not shown as garbage.
 * Used by the command line and the explorer.
 */
export function previewPayload(
  decode: (stored: string) => unknown,
  stored: string | undefined,
  indent?: number,
): PayloadPreview {
  if (stored === undefined) return {};
  try {
    return { json: JSON.stringify(decode(stored), readable, indent) ?? 'undefined' };
  } catch {
    return { undecodable: { keyId: encryptedKeyId(stored) } };
  }
}
