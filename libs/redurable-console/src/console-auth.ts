import {
  Inject,
  Injectable,
  Logger,
  type CanActivate,
  type ExecutionContext,
  type OnModuleInit,
  type Type,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { CONSOLE_OPTIONS, type ConsoleAuth, type RedurableConsoleOptions } from './console-options.js';

export type { ConsoleAuth };

function isGuardClass(auth: ConsoleAuth): auth is Type<CanActivate> {
  return (
    typeof auth === 'function' &&
    typeof (auth.prototype as Partial<CanActivate> | undefined)?.canActivate === 'function'
  );
}

/** Applies the `auth` option to the explorer's controllers and to Bull Board's routes. */
@Injectable()
export class ConsoleAccess implements OnModuleInit {
  private guard?: CanActivate;
  private check?: (request: unknown) => boolean | Promise<boolean>;

  constructor(
    @Inject(CONSOLE_OPTIONS) private readonly options: RedurableConsoleOptions,
    @Inject(ModuleRef) private readonly moduleRef: ModuleRef,
  ) {}

  async onModuleInit(): Promise<void> {
    const auth = this.options.auth;
    if (!auth) {
      new Logger('RedurableConsole').warn(
        'No `auth` option: the workflow explorer, its API and Bull Board are open to anyone who can reach this server. ' +
          'Pass `auth` (a Nest guard or a function of the request) to RedurableConsoleModule.forRoot, or keep the server on a private network',
      );
    } else if (isGuardClass(auth)) {
      this.guard = await this.moduleRef.create(auth);
    } else if (typeof auth === 'function') {
      this.check = auth as (request: unknown) => boolean | Promise<boolean>;
    } else {
      this.guard = auth;
    }
  }

  /** Whether the request in `context` may use the console. */
  async allows(context: ExecutionContext): Promise<boolean> {
    if (this.guard) {
      const verdict = this.guard.canActivate(context);
      return typeof verdict === 'boolean'
        ? verdict
        : typeof (verdict as Promise<boolean>).then === 'function'
          ? await (verdict as Promise<boolean>)
          : Boolean(verdict);
    }
    if (this.check) return (await this.check(context.switchToHttp().getRequest())) === true;
    return true;
  }

  /** Express middleware for Bull Board's router: 403 unless allowed. */
  middleware(): (
    req: unknown,
    res: { status(code: number): { json(body: unknown): void } },
    next: (err?: unknown) => void,
  ) => void {
    return (req, res, next) => {
      this.allows(new ExecutionContextHost([req, res, next]))
        .then((ok) =>
          ok
            ? next()
            : res
                .status(403)
                .json({ statusCode: 403, message: "Forbidden: the console's `auth` refused this request" }),
        )
        .catch(next);
    };
  }
}

/** The guard on the explorer's pages and API. */
@Injectable()
export class ConsoleGuard implements CanActivate {
  constructor(@Inject(ConsoleAccess) private readonly access: ConsoleAccess) {}

  canActivate(context: ExecutionContext): Promise<boolean> {
    return this.access.allows(context);
  }
}
