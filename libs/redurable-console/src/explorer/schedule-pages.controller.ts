import { Controller, Get, Header, Inject, Param, UseFilters, UseGuards, type Type } from '@nestjs/common';
import { ApplicationConfig } from '@nestjs/core';
import { WorkflowClient, RedurableExceptionFilter } from 'redurable';
import { ConsoleGuard } from '../console-auth.js';
import { CONSOLE_OPTIONS, type RedurableConsoleOptions } from '../console-options.js';
import { consolePaths, type ExplorerPaths } from './html.js';
import { scheduleListPage, schedulePage } from './schedule-pages.js';

/** The explorer's schedule pages, mounted at `route` (their own route, so no workflow id is shadowed). */
export function schedulePagesController(route: string, explorerRoute: string): Type<unknown> {
  @Controller(route)
  @UseGuards(ConsoleGuard)
  @UseFilters(RedurableExceptionFilter)
  class SchedulePagesController {
    constructor(
      @Inject(WorkflowClient) private readonly client: WorkflowClient,
      @Inject(CONSOLE_OPTIONS) private readonly options: RedurableConsoleOptions,
      @Inject(ApplicationConfig) private readonly app: ApplicationConfig,
    ) {}

    private paths(): ExplorerPaths {
      return consolePaths(this.app.getGlobalPrefix() ?? '', {
        explorer: explorerRoute,
        schedules: route,
        board: this.options.boardRoute ?? '/queues',
      });
    }

    private heading(): string {
      return `${this.options.boardTitle ?? 'Redurable'} · schedules`;
    }

    @Get()
    @Header('content-type', 'text/html; charset=utf-8')
    async list(): Promise<string> {
      return scheduleListPage(this.paths(), this.heading(), await this.client.schedule.list());
    }

    @Get(':id')
    @Header('content-type', 'text/html; charset=utf-8')
    async schedule(@Param('id') id: string): Promise<string> {
      const d = await this.client.schedule.describe(id);
      return schedulePage(this.paths(), this.heading(), d);
    }
  }
  return SchedulePagesController;
}
