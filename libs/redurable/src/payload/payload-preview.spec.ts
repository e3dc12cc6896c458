import { describe, expect, test } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { AesGcmCodec } from './aes-gcm-codec.js';
import { DataConverter } from './data-converter.js';
import { previewPayload } from './payload-preview.js';

describe('previewPayload', () => {
  const codec = new AesGcmCodec({ keys: [{ id: 'k1', key: randomBytes(32) }] });
  const stored = new DataConverter(1e6, codec).encode({ card: '4111' }, 'x');

  test('decoded JSON with the right codec, reported (never thrown) without it', () => {
    expect(previewPayload((s) => new DataConverter(1e6, codec).decode(s, 'x'), stored)).toEqual({ json: '{"card":"4111"}' });
    expect(previewPayload((s) => new DataConverter(1e6).decode(s, 'x'), stored)).toEqual({ undecodable: { keyId: 'k1' } });
    expect(previewPayload((s) => new DataConverter(1e6).decode(s, 'x'), 'not json')).toEqual({ undecodable: { keyId: undefined } });
    expect(previewPayload(() => 1, undefined)).toEqual({});
  });
});
