import { afterEach, describe, expect, test } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import {
  Activities,
  Activity,
  ActivityFailure,
  ApplicationFailure,
  CompensationFailure,
  Workflow,
  WorkflowFailedError,
  WorkflowRun,
  activityContext,
} from 'redurable';
import { Saga, proxyActivities } from 'redurable/workflow';
import { createTestApp, type TestApp } from '../support/test-app.js';

/** What ran, in order, per workflow. */
const journal = new Map<string, string[]>();
const log = (entry: string) => {
  const id = activityContext().workflowId;
  journal.set(id, [...(journal.get(id) ?? []), entry]);
};

@Injectable()
@Activities()
class TripActivities {
  @Activity({ compensatedBy: 'cancelFlight' })
  async bookFlight(trip: string): Promise<string> {
    log(`book flight ${trip}`);
    return `F-${trip}`;
  }
  @Activity({ compensatedBy: { activity: 'cancelHotel', args: (_args, result) => [result] } })
  async bookHotel(trip: string): Promise<string> {
    log(`book hotel ${trip}`);
    return `H-${trip}`;
  }
  @Activity({ retry: { maximumAttempts: 1 } })
  async bookCar(trip: string): Promise<string> {
    log(`book car ${trip}`);
    throw ApplicationFailure.nonRetryable('no cars left', 'SoldOut');
  }
  @Activity() async cancelFlight(trip: string): Promise<void> {
    log(`cancel flight ${trip}`);
  }
  @Activity() async cancelHotel(reservation: string): Promise<void> {
    log(`cancel hotel ${reservation}`);
  }
  @Activity({ retry: { initialInterval: '10ms', backoffCoefficient: 1, maximumAttempts: 3 } })
  async cancelHotelBroken(reservation: string): Promise<void> {
    log(`cancel hotel attempt ${activityContext().attempt} ${reservation}`);
    throw new Error('hotel system down');
  }
}

@Workflow({ taskQueue: 'saga' })
class TripWorkflow {
  @WorkflowRun()
  async run(trip: string, mode: 'declarative' | 'parallel' | 'broken' | 'broken-continue') {
    const saga = new Saga({
      parallelCompensation: mode === 'parallel',
      continueAfterFailure: mode === 'broken-continue',
    });
    const trips = saga.proxy(TripActivities);
    const plain = proxyActivities(TripActivities);
    try {
      await trips.bookFlight(trip);
      if (mode.startsWith('broken')) {
        const hotel = await plain.bookHotel(trip);
        saga.addCompensation(() => plain.cancelHotelBroken(hotel), 'bookHotel');
        await saga.step(
          () => plain.bookFlight(`${trip}-return`),
          () => plain.cancelFlight(`${trip}-return`),
          'bookReturnFlight',
        );
      } else {
        await trips.bookHotel(trip);
      }
      await trips.bookCar(trip);
      return 'booked';
    } catch (err) {
      await saga.compensate();
      throw err;
    }
  }
}

let t: TestApp;
afterEach(async () => t?.close());

describe('Saga', () => {
  test('compensatedBy runs the compensations in reverse order when a later step fails, marked in history', async () => {
    t = await createTestApp([TripActivities, TripWorkflow]);
    const handle = await t.client.start(TripWorkflow, { workflowId: 'trip-1', args: ['rome', 'declarative'] });
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(((err as Error).cause as ActivityFailure).activityType).toBe('bookCar');
    expect(journal.get('trip-1')).toEqual([
      'book flight rome',
      'book hotel rome',
      'book car rome',
      'cancel hotel H-rome',
      'cancel flight rome',
    ]);

    const history = await handle.fetchHistory();
    const scheduled = history.flatMap((e) =>
      e.type === 'ActivityTaskScheduled' ? [`${e.activityType}${e.compensation ? ' (compensation)' : ''}`] : [],
    );
    expect(scheduled).toEqual([
      'bookFlight',
      'bookHotel',
      'bookCar',
      'cancelHotel (compensation)',
      'cancelFlight (compensation)',
    ]);
    const description = await handle.describe();
    expect(description.status).toBe('failed');
    expect(description.compensations).toEqual([
      { seq: 4, activityType: 'cancelHotel', status: 'completed' },
      { seq: 5, activityType: 'cancelFlight', status: 'completed' },
    ]);
  });

  test('parallelCompensation schedules every compensation at once', async () => {
    t = await createTestApp([TripActivities, TripWorkflow]);
    const handle = await t.client.start(TripWorkflow, { workflowId: 'trip-2', args: ['oslo', 'parallel'] });
    await handle.result().catch(() => undefined);
    const history = await handle.fetchHistory();
    const firstCompletion = history.findIndex((e) => e.type === 'ActivityTaskCompleted' && e.seq >= 4);
    const compensationSchedules = history
      .filter((e) => e.type === 'ActivityTaskScheduled' && e.compensation)
      .map((e) => e.id);
    expect(compensationSchedules).toHaveLength(2);
    expect(compensationSchedules.every((id) => id < history[firstCompletion].id)).toBe(true);
    expect([...journal.get('trip-2')!.slice(3)].sort()).toEqual(['cancel flight oslo', 'cancel hotel H-oslo']);
  });

  test('a compensation that keeps failing ends the workflow as compensation_failed, listing what was not undone', async () => {
    t = await createTestApp([TripActivities, TripWorkflow]);
    const handle = await t.client.start(TripWorkflow, { workflowId: 'trip-3', args: ['lima', 'broken'] });
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as Error).message).toContain("Workflow 'trip-3'");
    expect((err as Error).message).toContain('compensation_failed');
    const failure = (err as Error).cause as CompensationFailure;
    expect(failure).toBeInstanceOf(CompensationFailure);
    // Reverse order: the return flight was undone; the hotel's compensation failed after 3 attempts; so the first flight was never attempted.
    expect(failure.notUndone).toEqual([
      {
        step: 'bookHotel',
        reason: expect.stringContaining(
          "Activity 'cancelHotelBroken' failed (MAXIMUM_ATTEMPTS_REACHED, attempt 3): hotel system down",
        ),
      },
      { step: 'bookFlight', reason: 'not attempted: an earlier compensation failed' },
    ]);
    expect(journal.get('trip-3')!.filter((e) => e.startsWith('cancel'))).toEqual([
      'cancel flight lima-return',
      'cancel hotel attempt 1 H-lima',
      'cancel hotel attempt 2 H-lima',
      'cancel hotel attempt 3 H-lima',
    ]);
    const description = await handle.describe();
    expect(description.status).toBe('compensation_failed');
    expect(description.failure?.notUndone?.map((n) => n.step)).toEqual(['bookHotel', 'bookFlight']);
    expect(description.compensations.map((c) => `${c.activityType}:${c.status}`)).toEqual([
      'cancelFlight:completed',
      'cancelHotelBroken:failed',
    ]);
  });

  test('continueAfterFailure keeps undoing past a failed compensation', async () => {
    t = await createTestApp([TripActivities, TripWorkflow]);
    const err = await t.client
      .execute(TripWorkflow, { workflowId: 'trip-4', args: ['kyiv', 'broken-continue'] })
      .catch((e: unknown) => e);
    const failure = (err as Error).cause as CompensationFailure;
    expect(failure.notUndone.map((n) => n.step)).toEqual(['bookHotel']);
    expect(journal.get('trip-4')!.filter((e) => e.startsWith('cancel flight'))).toEqual([
      'cancel flight kyiv-return',
      'cancel flight kyiv',
    ]);
  });
});
