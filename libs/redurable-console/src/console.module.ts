import { Inject, Module, type DynamicModule, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { ApplicationConfig } from '@nestjs/core';
import { createBullBoard } from '@bull-board/api';
import { ExpressAdapter } from '@bull-board/express';
import { BoardQueuesRegistrar } from './board-queues.registrar.js';
import { CONSOLE_OPTIONS, type RedurableConsoleOptions } from './console-options.js';
import { QUEUE_BOARD, QUEUE_BOARD_SERVER, type QueueBoardServer } from './queue-board.js';
import { WorkflowExplorerController } from './workflow-explorer.controller.js';
import { ConsoleAccess, ConsoleGuard } from './console-auth.js';
import { explorerPagesController } from './explorer/explorer-pages.controller.js';
import { schedulePagesController } from './explorer/schedule-pages.controller.js';
import { ScheduleExplorerController } from './schedule-explorer.controller.js';

/**
 * The Redurable console for an Express-based Nest app: Bull Board showing every queue the
 * library uses, and the workflow explorer (pages and a JSON API). Import it next to
 * `DurableModule`; protect it with `auth`.
 *
 * @example
 * imports: [
 *   DurableModule.forRoot({ connection: process.env.REDIS_URL, prefix: 'payments' }),
 *   RedurableConsoleModule.forRoot({ auth: (req) => req.headers['x-api-key'] === process.env.CONSOLE_KEY }),
 * ]
 * // Explorer:    GET /workflows, GET /workflows/:id        (pages)
 * //              GET /schedules, GET /schedules/:id        (schedule pages)
 * //              GET /api/schedules[/:id], POST /api/schedules/:id/pause|unpause|trigger
 * //              GET /api/workflows[/:id[/history|/timeline]], POST /api/workflows/:id/signal|cancel|terminate
 * // Bull Board:  GET /queues
 */
@Module({})
export class RedurableConsoleModule implements NestModule {
  constructor(
    @Inject(QUEUE_BOARD_SERVER) private readonly server: QueueBoardServer,
    @Inject(CONSOLE_OPTIONS) private readonly options: RedurableConsoleOptions,
    @Inject(ApplicationConfig) private readonly appConfig: ApplicationConfig,
    @Inject(ConsoleAccess) private readonly access: ConsoleAccess,
  ) {}

  static forRoot(options: RedurableConsoleOptions = {}): DynamicModule {
    const server = new ExpressAdapter();
    return {
      module: RedurableConsoleModule,
      controllers:
        options.explorer === false
          ? []
          : [
              WorkflowExplorerController,
              explorerPagesController(options.explorerRoute ?? '/workflows'),
              ScheduleExplorerController,
              schedulePagesController(options.schedulesRoute ?? '/schedules', options.explorerRoute ?? '/workflows'),
            ],
      providers: [
        ConsoleAccess,
        ConsoleGuard,
        { provide: CONSOLE_OPTIONS, useValue: options },
        { provide: QUEUE_BOARD_SERVER, useValue: server },
        {
          provide: QUEUE_BOARD,
          useFactory: () =>
            createBullBoard({
              queues: [],
              serverAdapter: server,
              options: { uiConfig: { boardTitle: options.boardTitle ?? 'Redurable' } },
            }),
        },
        BoardQueuesRegistrar,
      ],
      exports: [QUEUE_BOARD, BoardQueuesRegistrar],
    };
  }

  /** Mounts Bull Board's Express router at the board route (after the global prefix). */
  configure(consumer: MiddlewareConsumer): void {
    const route = withSlash(this.options.boardRoute ?? '/queues');
    const prefix = this.appConfig.getGlobalPrefix();
    this.server.setBasePath(prefix ? `${withSlash(prefix)}${route}`.replace(/\/{2,}/g, '/') : route);
    consumer.apply(this.access.middleware() as () => void, this.server.getRouter() as () => void).forRoutes(route);
  }
}

function withSlash(path: string): string {
  return path.startsWith('/') ? path : `/${path}`;
}
