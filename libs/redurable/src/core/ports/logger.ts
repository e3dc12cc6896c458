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
