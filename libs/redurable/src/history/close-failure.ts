import type { SerializedFailure } from '../errors/failure-codec.js';

/** The failure a closed run ended with, from its status and close value (termination is stored as its event: it is turned into a failure). */
export function closeFailure(meta: { status: string; closeValue?: string }): SerializedFailure {
  const stored = JSON.parse(meta.closeValue ?? '{}') as SerializedFailure & { reason?: string };
  return meta.status === 'terminated' ? { kind: 'application', type: 'Terminated', message: `terminated: ${stored.reason}` } : stored;
}
