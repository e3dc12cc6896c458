/**
 * ActivitySlots: queued jobs and eager attempts share one task queue's `concurrency`. Pure logic,
 * no Redis.
 */
import { describe, expect, test } from '@jest/globals';
import { ActivitySlots } from '../../libs/redurable/src/engine/activity-slots.js';

describe('activity slots', () => {
  test('eager attempts take free slots only; concurrency is never exceeded', () => {
    const slots = new ActivitySlots(2);
    expect(slots.tryTake()).toBe(true);
    expect(slots.tryTake()).toBe(true);
    expect(slots.tryTake()).toBe(false); // full: the activity is queued instead
    slots.release();
    expect(slots.tryTake()).toBe(true);
  });

  test('a job waits for a slot, first come first served, and an eager attempt does not jump the queue', async () => {
    const slots = new ActivitySlots(1);
    expect(slots.tryTake()).toBe(true);
    const order: string[] = [];
    const first = slots.take().then(() => order.push('job 1'));
    const second = slots.take().then(() => order.push('job 2'));
    slots.release(); // the eager attempt ends: job 1 gets its slot
    expect(slots.tryTake()).toBe(false); // job 2 waits: no eager attempt takes the slot before it
    await first;
    slots.release();
    await second;
    expect(order).toEqual(['job 1', 'job 2']);
    expect(slots.tryTake()).toBe(false); // job 2 holds the only slot
    slots.release();
    expect(slots.tryTake()).toBe(true);
  });

  test('a releaser gives its slot back once, however often it is called', () => {
    const slots = new ActivitySlots(1);
    expect(slots.tryTake()).toBe(true);
    const free = slots.releaser();
    free();
    free();
    expect(slots.tryTake()).toBe(true);
    expect(slots.tryTake()).toBe(false); // one slot, not two
  });
});
