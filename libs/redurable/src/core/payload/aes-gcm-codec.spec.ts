import { describe, expect, test } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { InvalidOptionsError } from '../errors/library.errors.js';
import { AesGcmCodec, encryptedKeyId } from './aes-gcm-codec.js';

const k1 = randomBytes(32);
const k2 = randomBytes(32).toString('base64');

describe('AesGcmCodec', () => {
  test('round trip; the stored text holds the key id and no plaintext; each encryption differs', () => {
    const codec = new AesGcmCodec({ keys: [{ id: 'k1', key: k1 }] });
    const stored = codec.encode('{"card":"4111 1111 1111 1111"}');
    expect(stored).toMatch(/^aes256gcm:k1:[A-Za-z0-9+/=]+$/);
    expect(stored).not.toContain('4111');
    expect(codec.encode('{"card":"4111 1111 1111 1111"}')).not.toBe(stored);
    expect(codec.decode(stored)).toBe('{"card":"4111 1111 1111 1111"}');
    expect(encryptedKeyId(stored)).toBe('k1');
    expect(encryptedKeyId('"plain"')).toBeUndefined();
  });

  test('rotation: a new key encrypts, the old one still decodes what it wrote', () => {
    const before = new AesGcmCodec({ keys: [{ id: 'k1', key: k1 }] });
    const after = new AesGcmCodec({
      keys: [
        { id: 'k2', key: k2 },
        { id: 'k1', key: k1 },
      ],
    });
    const old = before.encode('"old"');
    expect(after.decode(old)).toBe('"old"');
    expect(encryptedKeyId(after.encode('"new"'))).toBe('k2');
    expect(() => before.decode(after.encode('"new"'))).toThrow(
      "the payload was encrypted with key 'k2', which this process does not have (it has 'k1')",
    );
  });

  test('an altered payload, or one under a different key with the same id, fails authentication', () => {
    const codec = new AesGcmCodec({ keys: [{ id: 'k1', key: k1 }] });
    const stored = codec.encode('"amount: 100"');
    const raw = Buffer.from(stored.slice('aes256gcm:k1:'.length), 'base64');
    raw[raw.length - 1] ^= 1;
    expect(() => codec.decode(`aes256gcm:k1:${raw.toString('base64')}`)).toThrow(/failed authentication/);
    expect(() => new AesGcmCodec({ keys: [{ id: 'k1', key: k2 }] }).decode(stored)).toThrow(/failed authentication/);
    expect(() => codec.decode('"plain"')).toThrow('the payload is not encrypted with AesGcmCodec');
  });

  test('bad options are typed errors that say what to do', () => {
    expect(() => new AesGcmCodec({ keys: [] })).toThrow(InvalidOptionsError);
    expect(() => new AesGcmCodec({ keys: [{ id: 'k1', key: randomBytes(16) }] })).toThrow(
      "AesGcmCodec key 'k1' is 16 bytes: it must be 32 (for example `openssl rand -base64 32`)",
    );
    expect(() => new AesGcmCodec({ keys: [{ id: 'a:b', key: k1 }] })).toThrow(/key id "a:b" is invalid/);
    expect(() => new AesGcmCodec({ keys: [{ id: 'k1', key: k1 }], encryptWith: 'k9' })).toThrow(
      "AesGcmCodec encryptWith 'k9' is not one of the keys (k1)",
    );
    expect(
      () =>
        new AesGcmCodec({
          keys: [
            { id: 'k1', key: k1 },
            { id: 'k1', key: k2 },
          ],
        }),
    ).toThrow("AesGcmCodec key id 'k1' is given twice");
  });
});
