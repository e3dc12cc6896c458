/**
 * What the engine and the client need from outside the library's own logic: a logger, a clock
 * and a metrics sink. Each is an interface here; the composition root (runtime.ts) gives the
 * real ones, a unit test its own.
 */

/** Where the library logs. Nest's `Logger` and `LoggerService` fit it; `context` names the source. */
export interface Logger {
  log(message: string, context?: string): void;
  warn(message: string, context?: string): void;
  error(message: string, stack?: string, context?: string): void;
  debug?(message: string, context?: string): void;
  verbose?(message: string, context?: string): void;
}

/** A logger that prints nothing (`logger: false`). */
export const silentLogger: Logger = { log() {}, warn() {}, error() {}, debug() {}, verbose() {} };

/** A logger on the console, `[Redurable]` before each line: the default outside a Nest app. */
export const consoleLogger: Logger = {
  log: (m) => console.log(`[Redurable] ${m}`),
  warn: (m) => console.warn(`[Redurable] ${m}`),
  error: (m, stack) => console.error(`[Redurable] ${m}${stack ? `\n${stack}` : ''}`),
  debug: (m) => console.debug(`[Redurable] ${m}`),
  verbose: (m) => console.debug(`[Redurable] ${m}`),
};

/** A user's logger, called with the library's context name. */
export function withContext(target: Logger, context = 'Redurable'): Logger {
  return {
    log: (m) => target.log(m, context),
    warn: (m) => target.warn(m, context),
    error: (m, stack) => target.error(m, stack, context),
    debug: (m) => target.debug?.(m, context),
    verbose: (m) => target.verbose?.(m, context),
  };
}

/** Workflow time (ms): what outcomes are stamped with and deadlines are set from; a test environment moves it. */
export interface Clock {
  now(): number;
}

/** What the library measures. Every method is cheap and never throws. */
export interface DurableMetrics {
  workflowStarted(workflowType: string): void;
  workflowClosed(workflowType: string, status: string): void;
  /** One workflow task (a replay or a cached step), in seconds. */
  workflowTask(workflowType: string, seconds: number): void;
  cacheLookup(hit: boolean): void;
  /** One activity attempt: `completed`, `failed` (for good) or `retried`. */
  activityAttempt(activityType: string, outcome: 'completed' | 'failed' | 'retried', seconds: number): void;
  /** From scheduling to the first attempt's start, in seconds. */
  activityScheduleToStart(activityType: string, seconds: number): void;
  sweepRepair(reason: string): void;
}

/** Metrics that go nowhere. */
export const noMetrics: DurableMetrics = {
  workflowStarted: () => undefined,
  workflowClosed: () => undefined,
  workflowTask: () => undefined,
  cacheLookup: () => undefined,
  activityAttempt: () => undefined,
  activityScheduleToStart: () => undefined,
  sweepRepair: () => undefined,
};
