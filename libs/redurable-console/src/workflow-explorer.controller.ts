import {
  BadRequestException,
  Body,
  Controller,
  ForbiddenException,
  Get,
  HttpCode,
  HttpException,
  Inject,
  InternalServerErrorException,
  Param,
  Post,
  Query,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import {
  RedurableError,
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
 * - `POST /api/workflows/:id/query` `{ name, args?, runId? }` — the query's result (a worker answers when this app lacks the class)
 * - `POST /api/workflows/:id/update` `{ name, args?, updateId? }` — the handler's result, or `{ accepted }` while it still runs (403 when `readOnly`)
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

  /** Runs a query (read-only, so allowed in `readOnly` mode); a worker answers when this app does not register the class. */
  @Post(':id/query')
  @HttpCode(200)
  async query(
    @Param('id') id: string,
    @Body() body: { name?: unknown; args?: unknown; runId?: unknown },
  ): Promise<{ workflowId: string; query: string; result: unknown }> {
    const { name, args } = messageOf(body, 'query');
    const runId = typeof body?.runId === 'string' && body.runId ? body.runId : undefined;
    const result = await withCodeErrors(() => this.client.getHandle(id, runId).query(name, ...args));
    return { workflowId: id, query: name, result };
  }

  /**
   * Sends an update and waits (at most UPDATE_WAIT_MS) for its handler's result; an update
   * still running then answers `{ accepted: true }` with its id (it goes on).
   */
  @Post(':id/update')
  @HttpCode(200)
  async update(
    @Param('id') id: string,
    @Body() body: { name?: unknown; args?: unknown; updateId?: unknown },
  ): Promise<{ workflowId: string; update: string; updateId: string; result?: unknown; accepted?: true }> {
    this.writable();
    const { name, args } = messageOf(body, 'update');
    const handle = this.client.getHandle(id);
    const sent = await withCodeErrors(() =>
      typeof body?.updateId === 'string' && body.updateId
        ? handle.startUpdateWithId(body.updateId, name, ...args)
        : handle.startUpdate(name, ...args),
    );
    const reply = { workflowId: id, update: name, updateId: sent.updateId };
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<'waiting'>((r) => (timer = setTimeout(() => r('waiting'), UPDATE_WAIT_MS)));
    try {
      const result = await withCodeErrors(() => Promise.race([sent.result().then((value) => ({ value })), waited]));
      return result === 'waiting' ? { ...reply, accepted: true } : { ...reply, result: result.value };
    } finally {
      clearTimeout(timer);
    }
  }

  private writable(): void {
    if (this.options.readOnly)
      throw new ForbiddenException(
        'The console is read-only (readOnly: true): signal, update, cancel, terminate and reset are disabled',
      );
  }
}

/** How long `POST :id/update` waits for the handler's result before answering that the update was accepted. */
const UPDATE_WAIT_MS = 10_000;

/** A query's or update's name and arguments from a request body (400 when missing or not an array). */
function messageOf(
  body: { name?: unknown; args?: unknown } | undefined,
  what: string,
): { name: string; args: unknown[] } {
  if (typeof body?.name !== 'string' || body.name === '')
    throw new BadRequestException(`name: the ${what} name is required`);
  if (body.args !== undefined && !Array.isArray(body.args))
    throw new BadRequestException(`args: a JSON array of the ${what}'s arguments`);
  return { name: body.name, args: (body.args as unknown[] | undefined) ?? [] };
}

/**
 * What the workflow's own code threw answering a query (not a library error, which
 * RedurableExceptionFilter answers): a 500 that keeps its message, which is what an operator needs.
 */
async function withCodeErrors<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!(err instanceof Error) || err instanceof HttpException || err instanceof RedurableError) throw err;
    throw new InternalServerErrorException(`${err.name}: ${err.message}`);
  }
}
