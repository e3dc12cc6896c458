import { Catch, Inject, Optional, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { RedurableError } from '../core/errors/index.js';
import { httpStatusOf } from './error-statuses.js';

/** The body `RedurableExceptionFilter` answers with. */
export interface RedurableErrorBody {
  statusCode: number;
  /** The error's class name, e.g. `WorkflowNotFoundError`. */
  error: string;
  /** The library's explanation (names the workflow, run, step or option, and what to do). */
  message: string;
}

/**
 * A Nest exception filter that answers the library's errors over HTTP: 404 for a workflow,
 * schedule or update that does not exist, 409 for a state that forbids the call (not running,
 * already started, update rejected, schedule busy), 400 for bad input (invalid options or
 * arguments, an unknown signal, query, update or workflow type, a bad list query), 413 for an
 * oversized payload, 503 when Redis (or a worker that could answer) is unavailable, and 500 for
 * faults. The body is `{ statusCode, error, message }` with the error's class name and message.
 * Other errors are left to Nest.
 *
 * @example
 * ```ts
 * // on a controller
 * @UseFilters(RedurableExceptionFilter)
 * // or for the whole app, in a module's providers
 * { provide: APP_FILTER, useClass: RedurableExceptionFilter }
 * ```
 */
@Catch(RedurableError)
export class RedurableExceptionFilter implements ExceptionFilter<RedurableError> {
  constructor(@Optional() @Inject(HttpAdapterHost) private readonly adapterHost?: HttpAdapterHost) {}

  catch(err: RedurableError, host: ArgumentsHost): void {
    // Only HTTP has a status to map to; elsewhere (microservices, websockets) the error goes on as it was.
    if (host.getType() !== 'http') throw err;
    const statusCode = httpStatusOf(err);
    const body: RedurableErrorBody = { statusCode, error: err.name, message: err.message };
    const response = host.switchToHttp().getResponse<unknown>();
    const adapter = this.adapterHost?.httpAdapter;
    // The body is JSON, also on a route that set another type (an HTML page).
    if (adapter) {
      adapter.setHeader(response, 'Content-Type', 'application/json; charset=utf-8');
      return void adapter.reply(response, body, statusCode);
    }
    // `new RedurableExceptionFilter()` (no injection): Express's and Fastify's response APIs.
    const res = response as {
      status?: (code: number) => { json: (b: unknown) => void };
      code?: (code: number) => { send: (b: unknown) => void };
    };
    if (typeof res.code === 'function') res.code(statusCode).send(body);
    else res.status!(statusCode).json(body);
  }
}
