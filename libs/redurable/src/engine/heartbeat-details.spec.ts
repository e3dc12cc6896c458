import { describe, expect, test } from '@jest/globals';
import { HeartbeatDetails } from './heartbeat-details.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('HeartbeatDetails', () => {
  test('writes the latest details at most once a second; flush writes what is pending at once; stop drops it', async () => {
    const writes: string[] = [];
    const details = new HeartbeatDetails(async (encoded) => {
      writes.push(encoded);
    });
    details.record('a');
    details.record('b');
    await tick(20);
    expect(writes).toEqual(['b']); // the first write goes out at once, with the latest
    details.record('c');
    await tick(50);
    expect(writes).toEqual(['b']); // within the second: held back
    await details.flush();
    expect(writes).toEqual(['b', 'c']); // a failing attempt flushes before its retry
    details.record('d');
    details.stop();
    await details.flush();
    expect(writes).toEqual(['b', 'c']);
  });

  test('a failed write does not stop later ones', async () => {
    const writes: string[] = [];
    let fail = true;
    const details = new HeartbeatDetails(async (encoded) => {
      if (fail) throw new Error('Redis unavailable');
      writes.push(encoded);
    });
    details.record('a');
    await details.flush();
    fail = false;
    details.record('b');
    await details.flush();
    expect(writes).toEqual(['b']);
  });
});
