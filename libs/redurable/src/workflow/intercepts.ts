import { syncBuiltinESMExports } from 'node:module';
import nodeCrypto from 'node:crypto';
import dns from 'node:dns';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import timers from 'node:timers';
import timersPromises from 'node:timers/promises';
import tls from 'node:tls';
import { DeterminismViolationError } from '../core/errors/determinism.errors.js';
import { CancellationScope } from './cancellation-scope.js';
import { workflowStorage, type Activator } from './context.js';
import { sleep, uuid4 } from './workflow-api.js';

/*
 * What workflow code may not call, or gets a deterministic version of (the README's determinism
 * rules list it). Every patch asks `workflowStorage` whether the caller is workflow code: the
 * store is set only while an activation runs the code and in what that code's awaits continue,
 * so BullMQ, ioredis, activities and Nest services in the same process (even interleaved with
 * workflow code, several activations at once) get the real functions. What the library runs
 * for workflow code but that is the app's code (a payload codec, the logger) runs outside it,
 * see `outsideWorkflowCode`.
 */

type Fn = (this: unknown, ...args: unknown[]) => unknown;
type Patchable = Record<string, unknown>;

const ACTIVITY = 'make the call in an activity (proxyActivities) and await its result';
const NETWORK = `network calls are not replayed: ${ACTIVITY}`;
const FILES = `file I/O is not replayed: ${ACTIVITY}`;
const RANDOM_BYTES =
  'its bytes would differ on replay: use uuid4(), crypto.randomUUID(), crypto.getRandomValues() or Math.random() (seeded by the run in workflow code), or call it in an activity';

/** Fails the task with a DeterminismViolationError naming `call`, and throws it so the code goes no further. */
function violate(activation: Activator, call: string, fix: string): never {
  const { workflowId, runId, workflowType } = activation.info;
  const err = new DeterminismViolationError(call, fix, workflowId, runId, workflowType);
  void activation.refuse(err);
  throw err;
}

/** What `setTimeout` returns in workflow code: clearTimeout cancels its durable timer. */
class DurableTimeout {
  private static last = 0;
  readonly id = ++DurableTimeout.last;

  constructor(private readonly scope: CancellationScope) {}

  cancel(): void {
    this.scope.cancel('clearTimeout()');
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  hasRef(): boolean {
    return true;
  }
  [Symbol.toPrimitive](): number {
    return this.id;
  }
}

/**
 * `setTimeout(callback, ms, ...args)` in workflow code: a durable timer (as `sleep(ms)`, in a
 * scope of its own that `clearTimeout` cancels), then the callback, in workflow code. When the
 * timer is cancelled (clearTimeout, the workflow's or an enclosing scope's cancellation) the
 * callback does not run. A callback that throws fails the workflow task, as an uncaught
 * exception would end a process.
 */
function durableTimeout(activation: Activator, callback: unknown, ms: unknown, args: unknown[]): DurableTimeout {
  if (typeof callback !== 'function')
    throw new TypeError(`setTimeout() in workflow code takes a function, got ${typeof callback}`);
  const delay = Number(ms);
  const scope = new CancellationScope();
  scope
    .run(() => sleep(Number.isFinite(delay) && delay >= 1 ? Math.round(delay) : 1))
    .then(
      () => {
        try {
          (callback as Fn)(...args);
        } catch (err) {
          void activation.refuse(err instanceof Error ? err : new Error(String(err)));
        }
      },
      () => undefined, // cleared or cancelled: the callback does not run
    );
  return new DurableTimeout(scope);
}

/** Bytes from the run's seeded generator, as `crypto.getRandomValues` fills them. */
function seededValues(activation: Activator, array: unknown): unknown {
  if (
    !ArrayBuffer.isView(array) ||
    array instanceof DataView ||
    array instanceof Float32Array ||
    array instanceof Float64Array
  )
    throw new TypeError('crypto.getRandomValues() takes an integer typed array');
  const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(activation.random() * 256);
  return array;
}

/** A replacement for `original`: `inWorkflow` for calls from workflow code, `original` for any other. */
type Replacement = (activation: Activator, original: Fn, self: unknown, args: unknown[]) => unknown;

const forbid =
  (call: string, fix: string): Replacement =>
  (activation) =>
    violate(activation, call, fix);

/**
 * Replaces `target[key]` (a data property, or an accessor such as Node's lazy `fetch`); returns
 * what puts it back, unless someone patched it again since: then ours stays, passing calls through.
 */
function patch(target: Patchable | undefined, key: string, inWorkflow: Replacement): () => void {
  const original = target?.[key];
  if (!target || typeof original !== 'function') return () => undefined;
  const descriptor = Object.getOwnPropertyDescriptor(target, key);
  if (descriptor && !descriptor.configurable) return () => undefined;
  const wrapper = function (this: unknown, ...args: unknown[]): unknown {
    const activation = workflowStorage.getStore();
    return activation ? inWorkflow(activation, original as Fn, this, args) : (original as Fn).apply(this, args);
  };
  // Keep what libraries read off the function (util.promisify.custom on setTimeout, fs.exists...).
  for (const prop of Reflect.ownKeys(original)) {
    if (prop === 'prototype' || prop === 'arguments' || prop === 'caller') continue;
    const own = Object.getOwnPropertyDescriptor(original, prop);
    if (own) Object.defineProperty(wrapper, prop, own);
  }
  Object.defineProperty(target, key, {
    value: wrapper,
    writable: true,
    configurable: true,
    enumerable: descriptor?.enumerable ?? true,
  });
  return () => {
    if (target[key] !== wrapper) return;
    if (descriptor) Object.defineProperty(target, key, descriptor);
    else delete target[key];
  };
}

/** `patch` over several names of one object, each with the violation naming `prefix + name + '()'`. */
function forbidAll(target: Patchable | undefined, prefix: string, names: string[], fix: string): (() => void)[] {
  return names.map((name) => patch(target, name, forbid(`${prefix}${name}()`, fix)));
}

const FS_CALLS = ['readFile', 'writeFile', 'appendFile', 'readdir', 'stat', 'open', 'mkdir', 'rm', 'unlink', 'rename'];
const DNS_CALLS = [
  'lookup',
  'resolve',
  'resolve4',
  'resolve6',
  'resolveAny',
  'resolveCname',
  'resolveMx',
  'resolveTxt',
];

/** Installs every intercept; returns what removes them. */
export function installIntercepts(): () => void {
  const global = globalThis as unknown as Patchable;
  const webCrypto = (globalThis as { crypto?: unknown }).crypto as Patchable | undefined;
  const setTimeoutPatch: Replacement = (activation, _o, _s, [callback, ms, ...args]) =>
    durableTimeout(activation, callback, ms, args);
  const clearTimeoutPatch: Replacement = (_a, original, self, args) =>
    args[0] instanceof DurableTimeout ? args[0].cancel() : original.apply(self, args);
  const seeded: Replacement = (activation, _o, _s, [array]) => seededValues(activation, array);
  const restores = [
    // Timers: setTimeout is a durable timer; the others have no durable meaning.
    patch(global, 'setTimeout', setTimeoutPatch),
    patch(global, 'clearTimeout', clearTimeoutPatch),
    patch(timers as unknown as Patchable, 'setTimeout', setTimeoutPatch),
    patch(timers as unknown as Patchable, 'clearTimeout', clearTimeoutPatch),
    patch(timersPromises as unknown as Patchable, 'setTimeout', (activation, _o, _s, [ms, value, options]) =>
      (options as { signal?: unknown } | undefined)?.signal
        ? violate(
            activation,
            'setTimeout() of node:timers/promises with a signal',
            'use sleep() in a CancellationScope',
          )
        : sleep(Number(ms) >= 1 ? Math.round(Number(ms)) : 1).then(() => value),
    ),
    ...[global, timers as unknown as Patchable].flatMap((target) => [
      patch(
        target,
        'setInterval',
        forbid('setInterval()', 'a repeating timer is not replayed: call sleep() in a loop'),
      ),
      patch(
        target,
        'setImmediate',
        forbid('setImmediate()', 'use `await sleep(ms)` to wait, or `await Promise.resolve()` to yield'),
      ),
    ]),
    ...forbidAll(
      timersPromises as unknown as Patchable,
      'timers/promises ',
      ['setInterval', 'setImmediate'],
      'use sleep()',
    ),
    // Randomness: the run's seeded generator, as for Math.random().
    patch(webCrypto, 'randomUUID', () => uuid4()),
    patch(webCrypto, 'getRandomValues', seeded),
    patch(nodeCrypto as unknown as Patchable, 'randomUUID', () => uuid4()),
    patch(nodeCrypto as unknown as Patchable, 'getRandomValues', seeded),
    ...forbidAll(
      nodeCrypto as unknown as Patchable,
      'crypto.',
      ['randomBytes', 'randomInt', 'randomFill', 'randomFillSync'],
      RANDOM_BYTES,
    ),
    // Network and files: an activity's work.
    patch(global, 'fetch', forbid('fetch()', NETWORK)),
    ...forbidAll(http as unknown as Patchable, 'http.', ['request', 'get'], NETWORK),
    ...forbidAll(https as unknown as Patchable, 'https.', ['request', 'get'], NETWORK),
    ...forbidAll(net as unknown as Patchable, 'net.', ['connect', 'createConnection'], NETWORK),
    ...forbidAll(tls as unknown as Patchable, 'tls.', ['connect'], NETWORK),
    ...forbidAll(dns as unknown as Patchable, 'dns.', DNS_CALLS, NETWORK),
    ...forbidAll(dns.promises as unknown as Patchable, 'dns.promises.', DNS_CALLS, NETWORK),
    ...forbidAll(
      fs as unknown as Patchable,
      'fs.',
      [...FS_CALLS, 'createReadStream', 'createWriteStream', 'writeFileSync', 'appendFileSync'],
      FILES,
    ),
    ...forbidAll(fs.promises as unknown as Patchable, 'fs.promises.', FS_CALLS, FILES),
  ];
  syncBuiltinESMExports(); // `import { readFile } from 'node:fs'` in ESM code sees the patches
  return () => {
    for (const restore of restores.reverse()) restore();
    syncBuiltinESMExports();
  };
}
