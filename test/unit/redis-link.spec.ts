/**
 * RedisLink.call (store/redis-link.ts) over a stub connection: its timeout, restarted by
 * `answered`, never outlives the call.
 */
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, jest, test } from '@jest/globals';
import { RedisUnavailableError } from '../../libs/redurable/src/core/errors/library.errors.js';
import type { RedisClient } from '../../libs/redurable/src/store/redis-client.js';
import { RedisLink } from '../../libs/redurable/src/store/redis-link.js';
import { RecordingLogger } from './support/recorders.js';

function link(timeoutMs: number): RedisLink {
  const redis = Object.assign(new EventEmitter(), { status: 'ready' }) as unknown as RedisClient;
  return new RedisLink(redis, '127.0.0.1:6379', timeoutMs, new RecordingLogger());
}

describe('RedisLink.call', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  test('a call that timed out and goes on calling answered() leaves no timer behind', async () => {
    jest.useFakeTimers();
    let answered!: () => void;
    const call = link(100).call('wait for a lock', (a) => {
      answered = a;
      return new Promise<never>(() => undefined); // a lock wait that outlives the call
    });
    const failed = expect(call).rejects.toBeInstanceOf(RedisUnavailableError);
    await jest.advanceTimersByTimeAsync(100);
    await failed;
    answered(); // Redis answers the lock wait after the caller got its error
    expect(jest.getTimerCount()).toBe(0);
  });

  test('answered() restarts the timeout while the call runs', async () => {
    jest.useFakeTimers();
    let answered!: () => void;
    let done!: (v: string) => void;
    const call = link(100).call('wait for a lock', (a) => {
      answered = a;
      return new Promise<string>((r) => (done = r));
    });
    await jest.advanceTimersByTimeAsync(80);
    answered();
    await jest.advanceTimersByTimeAsync(80);
    done('ok');
    await expect(call).resolves.toBe('ok');
    expect(jest.getTimerCount()).toBe(0);
  });
});
