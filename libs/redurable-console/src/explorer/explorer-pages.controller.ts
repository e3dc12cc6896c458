import { Controller, Get, Header, Inject, Param, Query, Res, UseFilters, UseGuards, type Type } from '@nestjs/common';
import { ApplicationConfig } from '@nestjs/core';
import { WorkflowClient, type HistoryEvent, RedurableExceptionFilter } from 'redurable';
import { ConsoleGuard } from '../console-auth.js';
import { CONSOLE_OPTIONS, type RedurableConsoleOptions } from '../console-options.js';
import { EXPLORER_CSS, EXPLORER_JS } from './assets.js';
import { explorerListing, explorerTimeline, listFilter, type ExplorerQuery } from './explorer-data.js';
import { consolePaths, type ExplorerPaths } from './html.js';
import { listPage } from './list-page.js';
import { workflowPage } from './workflow-page.js';

/** The part of Express's response the pages use (structural, so no Express types are needed). */
interface DownloadResponse {
  setHeader(name: string, value: string): unknown;
}

/** The explorer's HTML pages, mounted at `route` (a controller class per route). */
export function explorerPagesController(route: string): Type<unknown> {
  @Controller(route)
  @UseGuards(ConsoleGuard)
  @UseFilters(RedurableExceptionFilter)
  class WorkflowExplorerPagesController {
    constructor(
      @Inject(WorkflowClient) private readonly client: WorkflowClient,
      @Inject(CONSOLE_OPTIONS) private readonly options: RedurableConsoleOptions,
      @Inject(ApplicationConfig) private readonly app: ApplicationConfig,
    ) {}

    private paths(): ExplorerPaths {
      return consolePaths(this.app.getGlobalPrefix() ?? '', {
        explorer: route,
        schedules: this.options.schedulesRoute ?? '/schedules',
        board: this.options.boardRoute ?? '/queues',
      });
    }

    private heading(): string {
      return `${this.options.boardTitle ?? 'Redurable'} · workflows`;
    }

    @Get()
    @Header('content-type', 'text/html; charset=utf-8')
    async list(@Query() query: ExplorerQuery): Promise<string> {
      const filter = listFilter(query);
      const [page, counts] = await explorerListing(this.client, filter);
      return listPage(this.paths(), this.heading(), query, page, counts);
    }

    @Get('assets/explorer.css')
    @Header('content-type', 'text/css; charset=utf-8')
    @Header('cache-control', 'public, max-age=3600')
    css(): string {
      return EXPLORER_CSS;
    }

    @Get('assets/explorer.js')
    @Header('content-type', 'text/javascript; charset=utf-8')
    @Header('cache-control', 'public, max-age=3600')
    js(): string {
      return EXPLORER_JS;
    }

    @Get(':id')
    @Header('content-type', 'text/html; charset=utf-8')
    async workflow(@Param('id') id: string): Promise<string> {
      const timeline = await explorerTimeline(this.client, id);
      return workflowPage(this.paths(), this.heading(), timeline, this.options.readOnly === true);
    }

    /** The history as `replayHistory` takes it, as a file. */
    @Get(':id/history.json')
    async download(
      @Param('id') id: string,
      @Res({ passthrough: true }) res: DownloadResponse,
    ): Promise<HistoryEvent[]> {
      const events = await this.client.getHandle(id).fetchHistory();
      res.setHeader('content-disposition', `attachment; filename="${encodeURIComponent(id)}-history.json"`);
      return events;
    }
  }
  return WorkflowExplorerPagesController;
}
