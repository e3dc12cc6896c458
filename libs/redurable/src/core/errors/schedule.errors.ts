import { RedurableError } from './redurable.error.js';

/** A schedule's options cannot work (cron, time zone, dates, policies, id). Nothing was written. */
export class InvalidScheduleError extends RedurableError {
  constructor(
    readonly scheduleId: string,
    problem: string,
  ) {
    super(`Invalid schedule '${scheduleId}': ${problem}`);
  }
}

/** `schedule.create()` with the id of a schedule that exists. Nothing was written. */
export class ScheduleAlreadyExistsError extends RedurableError {
  constructor(readonly scheduleId: string) {
    super(
      `Schedule '${scheduleId}' already exists: pick another scheduleId, or change it with schedule.update('${scheduleId}', ...)`,
    );
  }
}

/** No schedule with that id exists under the prefix. */
export class ScheduleNotFoundError extends RedurableError {
  constructor(readonly scheduleId: string) {
    super(
      `Schedule '${scheduleId}' was not found: check the id (schedule.list() lists them), and that the client uses the same Redis and prefix as the app`,
    );
  }
}

/**
 * Another process holds the schedule (it is handling a fire, or an operation on it) and did not
 * let go in time, or took it over from this one. Nothing more was written; try again.
 */
export class ScheduleBusyError extends RedurableError {
  constructor(
    readonly scheduleId: string,
    message: string,
  ) {
    super(message);
  }
}
