import {
  BadRequestException,
  Body,
  Controller,
  ForbiddenException,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import {
  WorkflowClient,
  type HistoryEvent,
  type ListWorkflowsPage,
  type WorkflowDescription,
  RedurableExceptionFilter,
} from 'redurable';
import { ConsoleGuard } from './console-auth.js';
import { CONSOLE_OPTIONS, type RedurableConsoleOptions } from './console-options.js';
import {
  explorerListing,
  explorerTimeline,
  listFilter,
  type ExplorerQuery,
  type StatusCount,
  type WorkflowTimeline,
} from './explorer/explorer-data.js';

/**
 * The workflow explorer's JSON API (the explorer's pages use it for refreshes and actions):
 *
 * - `GET /api/workflows?status=&type=&idPrefix=&startedAfter=&startedBefore=&query=&limit=&cursor=` — a page, newest first, and counts per status
 * - `GET /api/workflows/:id` — status, timestamps, result or failure, pending activities and timers
 * - `GET /api/workflows/:id/history` — the event history, oldest first (what `replayHistory` takes)
 * - `GET /api/workflows/:id/timeline` — the run as spans, with decoded payloads, its run chain, parent and children
 * - `POST /api/workflows/:id/signal` `{ name, args? }`, `/cancel` `{ reason? }`, `/terminate` `{ reason? }`,
 *   `/reset` `{ to | toEventId, reason, reapplySignals? }` (400 for a point it cannot reset to) — 403 when `readOnly`
 *
 * The library's errors answer as `RedurableExceptionFilter` maps them (an unknown id 404, a closed
 * workflow 409, an unknown signal 400...), with the error's name and explanation.
 */
@Controller('api/workflows')
@UseGuards(ConsoleGuard)
@UseFilters(RedurableExceptionFilter)
export class WorkflowExplorerController {
  constructor(
    @Inject(WorkflowClient) private readonly client: WorkflowClient,
    @Inject(CONSOLE_OPTIONS) private readonly options: RedurableConsoleOptions,
  ) {}

  @Get()
  async list(@Query() query: ExplorerQuery): Promise<ListWorkflowsPage & { counts: StatusCount[] }> {
    const filter = listFilter(query);
    const [page, counts] = await explorerListing(this.client, filter);
    return { ...page, counts };
  }

  @Get(':id')
  describe(@Param('id') id: string): Promise<WorkflowDescription> {
    return this.client.getHandle(id).describe();
  }

  @Get(':id/history')
  async history(@Param('id') id: string): Promise<{ workflowId: string; events: HistoryEvent[] }> {
    const events = await this.client.getHandle(id).fetchHistory();
    return { workflowId: id, events };
  }

  @Get(':id/timeline')
  timeline(@Param('id') id: string): Promise<WorkflowTimeline> {
    return explorerTimeline(this.client, id);
  }

  @Post(':id/signal')
  @HttpCode(200)
  async signal(
    @Param('id') id: string,
    @Body() body: { name?: unknown; args?: unknown },
  ): Promise<{ workflowId: string; signal: string; sent: true }> {
    this.writable();
    if (typeof body?.name !== 'string' || body.name === '')
      throw new BadRequestException('name: the signal name is required');
    if (body.args !== undefined && !Array.isArray(body.args))
      throw new BadRequestException("args: a JSON array of the signal's arguments");
    await this.client.getHandle(id).signal(body.name as string, ...((body.args as unknown[] | undefined) ?? []));
    return { workflowId: id, signal: body.name, sent: true };
  }

  @Post(':id/cancel')
  @HttpCode(200)
  async cancel(
    @Param('id') id: string,
    @Body() body: { reason?: unknown },
  ): Promise<{ workflowId: string; cancelRequested: true }> {
    this.writable();
    await this.client.getHandle(id).cancel(typeof body?.reason === 'string' && body.reason ? body.reason : undefined);
    return { workflowId: id, cancelRequested: true };
  }

  @Post(':id/terminate')
  @HttpCode(200)
  async terminate(
    @Param('id') id: string,
    @Body() body: { reason?: unknown },
  ): Promise<{ workflowId: string; terminated: true }> {
    this.writable();
    const reason =
      typeof body?.reason === 'string' && body.reason ? body.reason : 'terminated from the workflow explorer';
    await this.client.getHandle(id).terminate(reason);
    return { workflowId: id, terminated: true };
  }

  /** Body: `{ to: 'firstWorkflowTask' | 'lastWorkflowTask' }` or `{ toEventId }`, with `reason` and optional `reapplySignals`. */
  @Post(':id/reset')
  @HttpCode(200)
  async reset(
    @Param('id') id: string,
    @Body() body: { to?: unknown; toEventId?: unknown; reason?: unknown; reapplySignals?: unknown },
  ): Promise<{ workflowId: string; runId: string }> {
    this.writable();
    if (typeof body?.reason !== 'string' || body.reason === '')
      throw new BadRequestException('reason: why the workflow is reset is required (it is recorded)');
    const toEventId = body.toEventId === undefined || body.toEventId === '' ? undefined : Number(body.toEventId);
    const to = body.to === 'firstWorkflowTask' || body.to === 'lastWorkflowTask' ? body.to : undefined;
    const next = await this.client
      .getHandle(id)
      .reset({ to, toEventId, reason: body.reason as string, reapplySignals: body.reapplySignals !== false });
    return { workflowId: id, runId: next.runId! };
  }

  private writable(): void {
    if (this.options.readOnly)
      throw new ForbiddenException(
        'The console is read-only (readOnly: true): signal, cancel, terminate and reset are disabled',
      );
  }
}
