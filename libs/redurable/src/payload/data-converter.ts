import { PayloadError, PayloadTooLargeError } from '../errors/library.errors.js';

/** Turns values into the strings stored in history and job data, and back. */
export interface PayloadCodec {
  /** Called with the JSON text of a value; returns what is stored. */
  encode(json: string): string;
  /** Inverse of encode. Throw when the stored text cannot be decoded. */
  decode(stored: string): string;
}

/** Stored text for `undefined`, which JSON cannot express. */
const UNDEFINED = '';

function replacer(this: unknown, key: string, value: unknown): unknown {
  const t = typeof value;
  if (t === 'function' || t === 'symbol' || t === 'bigint') {
    throw new PayloadError(`value ${key ? `at key '${key}' ` : ''}is a ${t}, which cannot be stored: pass plain data (objects, arrays, strings, numbers, booleans, null)`);
  }
  return value;
}

/**
 * The one place payloads are encoded: JSON (rejecting functions, symbols, bigints and cycles),
 * then an optional {@link PayloadCodec} (for example encryption), then a size check.
 */
export class DataConverter {
  constructor(
    readonly maxPayloadBytes: number,
    private readonly codec?: PayloadCodec,
  ) {}

  /** Encodes one value; `what` names it in errors ("argument 1 of workflow 'x'"). */
  encode(value: unknown, what: string): string {
    let json: string;
    if (value === undefined) json = UNDEFINED;
    else {
      try {
        json = JSON.stringify(value, replacer);
      } catch (err) {
        const reason = err instanceof PayloadError ? err.message : (err as Error).message;
        throw new PayloadError(`Cannot serialize ${what}: ${reason}`);
      }
    }
    const stored = this.codec && json !== UNDEFINED ? this.codec.encode(json) : json;
    const bytes = Buffer.byteLength(stored);
    if (bytes > this.maxPayloadBytes) {
      throw new PayloadTooLargeError(
        `${what} is ${bytes} bytes, over the limit of ${this.maxPayloadBytes} (maxPayloadBytes): store large data elsewhere and pass a reference`,
      );
    }
    return stored;
  }

  encodeAll(values: unknown[], what: string): string[] {
    return values.map((v, i) => this.encode(v, `argument ${i + 1} of ${what}`));
  }

  decode<T = unknown>(stored: string, what: string): T {
    if (stored === UNDEFINED) return undefined as T;
    try {
      const json = this.codec ? this.codec.decode(stored) : stored;
      return JSON.parse(json) as T;
    } catch (err) {
      throw new PayloadError(`Cannot decode ${what}: ${(err as Error).message}. Check that every worker and client uses the same payload codec`);
    }
  }

  decodeAll(stored: string[], what: string): unknown[] {
    return stored.map((s, i) => this.decode(s, `argument ${i + 1} of ${what}`));
  }
}
