import { encryptedKeyId } from './aes-gcm-codec.js';

/** A stored payload as a person may see it: its value as JSON, or why it cannot be shown. */
export interface PayloadPreview {
  /** The decoded value as JSON text (indented when asked). */
  json?: string;
  /** Set when it cannot be decoded here: the id of the key it was encrypted with, if it is an AesGcmCodec payload. */
  undecodable?: { keyId?: string };
}

/**
 * Decodes a stored payload for display with `decode` (the app's converter), never throwing:
 * a payload this process cannot decode (no codec, another key) is reported, not shown as garbage.
 * Used by the command line and the explorer.
 */
export function previewPayload(decode: (stored: string) => unknown, stored: string | undefined, indent?: number): PayloadPreview {
  if (stored === undefined) return {};
  try {
    return { json: JSON.stringify(decode(stored), null, indent) ?? 'undefined' };
  } catch {
    return { undecodable: { keyId: encryptedKeyId(stored) } };
  }
}
