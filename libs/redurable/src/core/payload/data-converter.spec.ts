import 'reflect-metadata';
import { describe, expect, test } from '@jest/globals';
import { DataConverter } from './data-converter.js';
import { asDeclaredTypes } from './declared-types.js';
import { previewPayload } from './payload-preview.js';

class Money {
  constructor(
    readonly amount: number,
    readonly currency: string,
  ) {
    if (!currency) throw new Error('a currency is required'); // never runs on decode
  }
  format(): string {
    return `${this.amount} ${this.currency}`;
  }
}

class Line {
  sku = '';
  price?: Money;
}

describe('payloadClasses', () => {
  const converter = new DataConverter(1e6, undefined, [Money]);
  const roundTrip = <T>(value: T, c = converter): T => c.decode<T>(c.encode(value, 'x'), 'x');

  test('an instance of a registered class arrives as one, anywhere in a payload, its constructor not run', () => {
    const back = roundTrip({
      total: new Money(5, 'EUR'),
      parts: [new Money(2, 'EUR'), new Money(3, 'EUR')],
      byShop: new Map([['north', new Money(1, 'USD')]]),
      at: new Date(0),
    });
    expect(back.total).toBeInstanceOf(Money);
    expect(back.total.format()).toBe('5 EUR');
    expect(back.parts.map((m) => m.format())).toEqual(['2 EUR', '3 EUR']);
    expect(back.byShop.get('north')).toBeInstanceOf(Money);
    expect(back.at).toBeInstanceOf(Date);
    expect(roundTrip(new Money(7, 'GBP')).format()).toBe('7 GBP');
  });

  test('the history records the class name; plain data stays plain JSON, as before', () => {
    expect(converter.encode(new Money(1, 'EUR'), 'x')).toBe(
      '~sj1{"json":{"amount":1,"currency":"EUR"},"meta":{"values":[["class","Money"]],"v":1}}',
    );
    expect(converter.encode({ amount: 1 }, 'x')).toBe('{"amount":1}');
    // An unregistered class is stored as its fields, as before.
    const line = Object.assign(new Line(), { sku: 'a' });
    expect(converter.encode(line, 'x')).toBe(
      '~sj1{"json":{"sku":"a","price":null},"meta":{"values":{"price":["undefined"]},"v":1}}',
    ); // its field left undefined is kept, as in a plain object
    expect(converter.encode(Object.assign(line, { price: 1 }), 'x')).toBe('{"sku":"a","price":1}');
  });

  test('a process without the class (the command line, the explorer) reads its instances as plain objects', () => {
    const stored = converter.encode({ total: new Money(5, 'EUR'), items: [new Money(1, 'EUR')], at: new Date(0) }, 'x');
    const plain = new DataConverter(1e6);
    const back = plain.decode<{ total: object; items: object[]; at: Date }>(stored, 'x');
    expect(back).toEqual({
      total: { amount: 5, currency: 'EUR' },
      items: [{ amount: 1, currency: 'EUR' }],
      at: new Date(0),
    });
    expect(Object.getPrototypeOf(back.total)).toBe(Object.prototype);
    expect(back.at).toBeInstanceOf(Date);
    expect(plain.decode(converter.encode(new Money(2, 'USD'), 'x'), 'x')).toEqual({ amount: 2, currency: 'USD' });
    expect(previewPayload((s) => plain.decode(s, 'x'), stored)).toEqual({
      json: '{"total":{"amount":5,"currency":"EUR"},"items":[{"amount":1,"currency":"EUR"}],"at":"1970-01-01T00:00:00.000Z"}',
    });
  });
});

describe('instances of classes that are not registered', () => {
  class Order {
    placedAt = new Date(0);
    lines = new Map([['sku-1', 2]]);
    tags = new Set(['gift']);
    total = new Money(5, 'EUR');
    callback?: () => void;
  }
  const converter = new DataConverter(1e6, undefined, [Money]);

  test('are stored as their fields, walked like plain objects: a Date, Map or Set in them is kept, a registered class too', () => {
    const back = converter.decode<Record<string, unknown>>(converter.encode({ order: new Order() }, 'x'), 'x');
    const order = back.order as Record<string, unknown>;
    expect(Object.getPrototypeOf(order)).toBe(Object.prototype);
    expect(order.placedAt).toEqual(new Date(0));
    expect(order.lines).toEqual(new Map([['sku-1', 2]]));
    expect(order.tags).toEqual(new Set(['gift']));
    expect(order.total).toBeInstanceOf(Money);
  });

  test('a function in one is refused, naming where it is; a repeated reference stays one', () => {
    const order = Object.assign(new Order(), { callback: () => undefined });
    expect(() => converter.encode({ orders: [order] }, 'argument 1')).toThrow(
      'Cannot serialize argument 1: the value at orders[0].callback is a function, which cannot be stored',
    );
    const shared = new Order();
    const back = converter.decode<{ a: object; b: object }>(converter.encode({ a: shared, b: shared }, 'x'), 'x');
    expect(back.a).toBe(back.b);
  });

  test('a value that stores itself (toJSON) and an Error are left to their own format', () => {
    class Cents {
      constructor(private readonly n: number) {}
      toJSON() {
        return `${this.n}c`;
      }
    }
    const back = converter.decode<{ c: string; e: Error }>(
      converter.encode({ c: new Cents(5), e: new Error('boom') }, 'x'),
      'x',
    );
    expect(back.c).toBe('5c');
    expect(back.e).toBeInstanceOf(Error);
    expect(back.e.message).toBe('boom');
  });
});

describe('Buffers', () => {
  const converter = new DataConverter(1e6);

  test('a Buffer arrives as a Buffer, stored as base64', () => {
    const stored = converter.encode({ file: Buffer.from('hello') }, 'x');
    expect(stored).toBe('~sj1{"json":{"file":"aGVsbG8="},"meta":{"values":{"file":[["custom","Buffer"]]},"v":1}}');
    const back = converter.decode<{ file: Buffer }>(stored, 'x');
    expect(Buffer.isBuffer(back.file)).toBe(true);
    expect(back.file.toString()).toBe('hello');
  });

  test('a Buffer stored by an earlier version (an array of bytes, which could not be read back) now reads', () => {
    const earlier = '~sj1{"json":{"file":[104,105]},"meta":{"values":{"file":[["typed-array","Buffer"]]},"v":1}}';
    expect(converter.decode<{ file: Buffer }>(earlier, 'x').file.toString()).toBe('hi');
  });
});

describe('arguments as declared', () => {
  class Shop {
    buy(_price: Money, _line: Line, _note: string, _when: Date, _tags: Record<string, string>): void {}
  }
  Reflect.defineMetadata('design:paramtypes', [Money, Line, String, Date, Object], Shop.prototype, 'buy');

  test('a plain object whose declared type is a class becomes an instance of it; fields stay as they arrived', () => {
    const [price, line, note, when, tags] = asDeclaredTypes(new Shop(), 'buy', [
      { amount: 3, currency: 'EUR' },
      { sku: 'a', price: { amount: 1, currency: 'EUR' } },
      'gift',
      new Date(0),
      { a: 'b' },
    ]) as [Money, Line, string, Date, Record<string, string>];
    expect(price).toBeInstanceOf(Money);
    expect(price.format()).toBe('3 EUR');
    expect(line).toBeInstanceOf(Line);
    expect(line.price).not.toBeInstanceOf(Money); // only the argument itself (register Money to revive it anywhere)
    expect(note).toBe('gift');
    expect(when).toEqual(new Date(0));
    expect(Object.getPrototypeOf(tags)).toBe(Object.prototype);
  });

  test('null, arrays and values that already are instances are left alone; no metadata leaves every argument', () => {
    const money = new Money(1, 'EUR');
    expect(asDeclaredTypes(new Shop(), 'buy', [null, [1], 'x'])).toEqual([null, [1], 'x']);
    expect(asDeclaredTypes(new Shop(), 'buy', [money])[0]).toBe(money);
    const raw = { amount: 1, currency: 'EUR' };
    expect(asDeclaredTypes(new Shop(), 'other', [raw])[0]).toBe(raw);
  });
});
