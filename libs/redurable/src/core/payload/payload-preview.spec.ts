import { describe, expect, test } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { AesGcmCodec } from './aes-gcm-codec.js';
import { DataConverter } from './data-converter.js';
import { previewPayload } from './payload-preview.js';

describe('previewPayload', () => {
  const codec = new AesGcmCodec({ keys: [{ id: 'k1', key: randomBytes(32) }] });
  const stored = new DataConverter(1e6, codec).encode({ card: '4111' }, 'x');

  test('decoded JSON with the right codec, reported (never thrown) without it', () => {
    expect(previewPayload((s) => new DataConverter(1e6, codec).decode(s, 'x'), stored)).toEqual({
      json: '{"card":"4111"}',
    });
    expect(previewPayload((s) => new DataConverter(1e6).decode(s, 'x'), stored)).toEqual({
      undecodable: { keyId: 'k1' },
    });
    expect(previewPayload((s) => new DataConverter(1e6).decode(s, 'x'), 'not json')).toEqual({
      undecodable: { keyId: undefined },
    });
    expect(previewPayload(() => 1, undefined)).toEqual({});
  });

  test('values JSON cannot show are shown readably: a Map as its entries, a Set as an array, a BigInt with its n', () => {
    const converter = new DataConverter(1e6);
    const value = {
      at: new Date(0),
      m: new Map([['a', 1]]),
      pairs: new Map([[1, 'x']]),
      s: new Set([2, 3]),
      n: 10n,
      u: undefined,
    };
    expect(previewPayload((s) => converter.decode(s, 'x'), converter.encode(value, 'x'))).toEqual({
      json: '{"at":"1970-01-01T00:00:00.000Z","m":{"a":1},"pairs":[[1,"x"]],"s":[2,3],"n":"10n"}',
    });
  });
});
