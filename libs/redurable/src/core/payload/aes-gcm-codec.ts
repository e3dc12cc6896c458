import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { InvalidOptionsError } from '../errors/library.errors.js';
import type { PayloadCodec } from './data-converter.js';

/** A 256-bit key and the id stored with every payload it encrypts. */
export interface EncryptionKey {
  /** Stored in clear with each payload, so the right key is found later; letters, digits, `.`, `_`, `-`. */
  id: string;
  /** 32 bytes, as a Buffer or base64 text (`openssl rand -base64 32`). */
  key: Buffer | string;
}

/** Options of {@link AesGcmCodec}. */
export interface AesGcmCodecOptions {
  /** Every key payloads may have been encrypted with; old keys stay here until no payload uses them. */
  keys: EncryptionKey[];
  /** Id of the key new payloads are encrypted with. @default the first of `keys` */
  encryptWith?: string;
}

const PREFIX = 'aes256gcm:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The key id of a payload this codec encrypted, or undefined when it is not one (for "encrypted with key x" messages). */
export function encryptedKeyId(stored: string): string | undefined {
  if (!stored.startsWith(PREFIX)) return undefined;
  const end = stored.indexOf(':', PREFIX.length);
  return end > PREFIX.length ? stored.slice(PREFIX.length, end) : undefined;
}

/**
 * Encrypts every stored payload (workflow input and result, activity arguments and results,
 * signal arguments, markers) with AES-256-GCM, so Redis, its backups and Bull Board hold no
 * readable business data. Failure messages are stored as they are: keep secrets out of them. Each payload is
 * `aes256gcm:<key id>:<base64 of iv, tag and ciphertext>`: keys rotate by adding a new key
 * as `encryptWith` while keeping the old ones to decode what they wrote. GCM authenticates, so
 * a payload altered in Redis fails to decode instead of yielding wrong data.
 *
 * @example
 * DurableModule.forRoot({ connection, payloadCodec: new AesGcmCodec({ keys: [{ id: '2026-12', key: process.env.PAYLOAD_KEY! }] }) })
 */
export class AesGcmCodec implements PayloadCodec {
  private readonly keys = new Map<string, Buffer>();
  private readonly current: string;

  constructor(options: AesGcmCodecOptions) {
    if (!options?.keys?.length)
      throw new InvalidOptionsError('AesGcmCodec needs at least one key: { keys: [{ id, key }] }');
    for (const { id, key } of options.keys) {
      if (!/^[\w.-]{1,64}$/.test(id ?? ''))
        throw new InvalidOptionsError(
          `AesGcmCodec key id ${JSON.stringify(id)} is invalid: use 1 to 64 letters, digits, '.', '_' or '-'`,
        );
      const bytes = typeof key === 'string' ? Buffer.from(key, 'base64') : key;
      if (!Buffer.isBuffer(bytes) || bytes.length !== 32) {
        throw new InvalidOptionsError(
          `AesGcmCodec key '${id}' is ${Buffer.isBuffer(bytes) ? bytes.length : 0} bytes: it must be 32 (for example \`openssl rand -base64 32\`)`,
        );
      }
      if (this.keys.has(id)) throw new InvalidOptionsError(`AesGcmCodec key id '${id}' is given twice`);
      this.keys.set(id, bytes);
    }
    this.current = options.encryptWith ?? options.keys[0].id;
    if (!this.keys.has(this.current))
      throw new InvalidOptionsError(
        `AesGcmCodec encryptWith '${this.current}' is not one of the keys (${[...this.keys.keys()].join(', ')})`,
      );
  }

  encode(json: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.current)!, iv);
    const body = Buffer.concat([cipher.update(json, 'utf8'), cipher.final()]);
    return `${PREFIX}${this.current}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  decode(stored: string): string {
    const id = encryptedKeyId(stored);
    if (id === undefined) throw new Error('the payload is not encrypted with AesGcmCodec');
    const key = this.keys.get(id);
    if (!key)
      throw new Error(
        `the payload was encrypted with key '${id}', which this process does not have (it has ${[...this.keys.keys()].map((k) => `'${k}'`).join(', ')})`,
      );
    const raw = Buffer.from(stored.slice(PREFIX.length + id.length + 1), 'base64');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new Error(`the payload encrypted with key '${id}' is truncated`);
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new Error(
        `the payload encrypted with key '${id}' failed authentication: it was altered, or the key with that id is not the one that encrypted it`,
      );
    }
  }
}
