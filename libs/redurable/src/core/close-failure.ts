import type { SerializedFailure } from './errors/failure-codec.js';

/** The failure a closed run ended with, from its status and close value (termination and a timeout are stored as their event: they are turned into a failure). */
export function closeFailure(meta: { status: string; closeValue?: string }): SerializedFailure {
  const stored = JSON.parse(meta.closeValue ?? '{}') as SerializedFailure & {
    reason?: string;
    failure?: SerializedFailure;
  };
  if (meta.status === 'terminated')
    return { kind: 'application', type: 'Terminated', message: `terminated: ${stored.reason}` };
  // A timed-out run's close value is its WorkflowExecutionTimedOut event.
  return meta.status === 'timed_out' && stored.failure ? stored.failure : stored;
}
