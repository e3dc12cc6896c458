import { describe, expect, test } from '@jest/globals';
import { supersededQueues } from './worker-heartbeat.js';

const w = (build: string | undefined, taskQueues: string[]) => ({ build, taskQueues });

describe('supersededQueues', () => {
  const seen = { old: 1000, new: 2000 };

  test('a task queue that a live worker of a build first seen later also serves is left to it', () => {
    const self = w('old', ['orders', 'emails']);
    expect(supersededQueues(self, [self, w('new', ['orders'])], seen)).toEqual(new Set(['orders']));
  });

  test('an older build, its own build, and workers without a build take nothing from it', () => {
    const self = w('new', ['orders']);
    expect(
      supersededQueues(self, [w('old', ['orders']), w('new', ['orders']), w(undefined, ['orders'])], seen),
    ).toEqual(new Set());
  });

  test('a worker without a build never leaves a task queue', () => {
    expect(supersededQueues(w(undefined, ['orders']), [w('new', ['orders'])], seen)).toEqual(new Set());
  });

  test('a build never seen counts as the oldest', () => {
    expect(supersededQueues(w('unknown', ['orders']), [w('old', ['orders'])], seen)).toEqual(new Set(['orders']));
    expect(supersededQueues(w('old', ['orders']), [w('unknown', ['orders'])], seen)).toEqual(new Set());
  });
});
