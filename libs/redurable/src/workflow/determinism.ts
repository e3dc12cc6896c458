import { workflowStorage } from './context.js';
import { installIntercepts } from './intercepts.js';

/** How many holders need the guard (workers, a query replaying in the caller's process). */
let holders = 0;
let restore: (() => void) | undefined;

/**
 * Makes `Date.now()`, `new Date()` (no arguments), `Math.random()`, `crypto.randomUUID()` and
 * `crypto.getRandomValues()` deterministic inside workflow code (history time, a PRNG seeded by
 * the run id), makes `setTimeout` a durable timer there, and fails the workflow task on calls that
 * cannot be replayed (`setInterval`, `fetch`, network and file I/O, see intercepts.ts). Outside
 * workflow code they behave as usual. Installed while something runs workflow code in this process (the workers, from
 * start to shutdown; a query or an update validator replaying in the caller's process, for that
 * call), and removed when the last of them releases it: importing the library changes nothing.
 * Returns the release function (calling it twice releases once).
 */
export function installDeterminism(): () => void {
  if (holders++ === 0) restore = patchGlobals();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--holders === 0) {
      restore?.();
      restore = undefined;
    }
  };
}

/** Runs `fn` (which runs workflow code) with the guard installed. */
export async function withDeterminism<T>(fn: () => Promise<T>): Promise<T> {
  const release = installDeterminism();
  try {
    return await fn();
  } finally {
    release();
  }
}

/** Patches the globals; returns what puts them back. */
function patchGlobals(): () => void {
  const RealDate = globalThis.Date;
  const originalNow = RealDate.now;
  const originalRandom = Math.random;
  const realNow = originalNow.bind(RealDate);
  const realRandom = originalRandom.bind(Math);

  RealDate.now = () => {
    const activation = workflowStorage.getStore();
    return activation ? activation.now : realNow();
  };
  Math.random = () => {
    const activation = workflowStorage.getStore();
    return activation ? activation.random() : realRandom();
  };
  globalThis.Date = new Proxy(RealDate, {
    construct(target, args, newTarget) {
      const activation = args.length === 0 ? workflowStorage.getStore() : undefined;
      return Reflect.construct(target, activation ? [activation.now] : args, newTarget);
    },
    apply(target, thisArg, args) {
      const activation = workflowStorage.getStore();
      return activation ? new target(activation.now).toString() : Reflect.apply(target, thisArg, args);
    },
  });
  const removeIntercepts = installIntercepts();
  return () => {
    removeIntercepts();
    globalThis.Date = RealDate;
    RealDate.now = originalNow;
    Math.random = originalRandom;
  };
}
