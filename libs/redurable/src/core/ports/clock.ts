/** Workflow time (ms): what outcomes are stamped with and deadlines are set from; a test environment moves it. */
export interface Clock {
  now(): number;
}
