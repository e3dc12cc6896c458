import { describe, expect, test } from '@jest/globals';
import { supersededQueues } from './worker-heartbeat.js';

const NOW = 100_000;
const SETTLED = 1_000;
const seen = { old: 1000, new: 2000 };
/** A worker of `build` registering `types` on task queue `orders`, up since `since`. */
const w = (build: string | undefined, types: string[] = ['Order'], since = 0) => ({
  build,
  workflowTypes: { orders: types },
  since,
});
const superseded = (self: ReturnType<typeof w>, live: ReturnType<typeof w>[]) =>
  supersededQueues(self, live, seen, NOW, SETTLED);

describe('supersededQueues', () => {
  test('a task queue where a newer build registers every workflow type this worker does is left to it', () => {
    const self = { build: 'old', workflowTypes: { orders: ['Order'], emails: ['Email'] } };
    expect(supersededQueues(self, [w('new', ['Order', 'Refund'])], seen, NOW, SETTLED)).toEqual(new Set(['orders']));
  });

  test('the types may be spread over several live workers of the newer build', () => {
    expect(superseded(w('old', ['Order', 'Refund']), [w('new', ['Order']), w('new', ['Refund'])])).toEqual(
      new Set(['orders']),
    );
  });

  test('a newer build that lacks one of the types (an activity-only service, another app) takes nothing', () => {
    expect(superseded(w('old', ['Order', 'Refund']), [w('new', ['Order'])])).toEqual(new Set());
    expect(superseded(w('old'), [w('new', [])])).toEqual(new Set());
  });

  test('a newer build counts only once a worker of it has been up for the settling time', () => {
    expect(superseded(w('old'), [w('new', ['Order'], NOW - SETTLED / 2)])).toEqual(new Set());
    expect(superseded(w('old'), [w('new', ['Order'], NOW - SETTLED)])).toEqual(new Set(['orders']));
  });

  test('an older build, its own build and workers without a build take nothing from it', () => {
    expect(superseded(w('new'), [w('old'), w('new'), w(undefined)])).toEqual(new Set());
  });

  test('a worker without a build, or registering no workflow type there, never leaves a task queue', () => {
    expect(superseded(w(undefined), [w('new')])).toEqual(new Set());
    expect(superseded(w('old', []), [w('new')])).toEqual(new Set());
  });

  test('a build never seen counts as the oldest', () => {
    expect(superseded(w('unknown'), [w('old')])).toEqual(new Set(['orders']));
    expect(superseded(w('old'), [w('unknown')])).toEqual(new Set());
  });
});
