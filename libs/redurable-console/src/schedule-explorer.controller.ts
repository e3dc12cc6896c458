import {
  Body,
  Controller,
  ForbiddenException,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import {
  WorkflowClient,
  type ScheduleActionRecord,
  type ScheduleDescription,
  type ScheduleSummary,
  RedurableExceptionFilter,
} from 'redurable';
import { ConsoleGuard } from './console-auth.js';
import { CONSOLE_OPTIONS, type RedurableConsoleOptions } from './console-options.js';

const noteOf = (body: { note?: unknown } | undefined): string | undefined =>
  typeof body?.note === 'string' && body.note !== '' ? body.note : undefined;

/**
 * The schedules' JSON API:
 *
 * - `GET /api/schedules` — every schedule (spec, state, next fire, last action)
 * - `GET /api/schedules/:id` — what `client.schedule.describe()` returns
 * - `POST /api/schedules/:id/pause` `{ note? }`, `/unpause` `{ note? }`, `/trigger` — 403 when `readOnly`
 *
 * An unknown id answers 404 with the library's explanation.
 */
@Controller('api/schedules')
@UseGuards(ConsoleGuard)
@UseFilters(RedurableExceptionFilter)
export class ScheduleExplorerController {
  constructor(
    @Inject(WorkflowClient) private readonly client: WorkflowClient,
    @Inject(CONSOLE_OPTIONS) private readonly options: RedurableConsoleOptions,
  ) {}

  @Get()
  list(): Promise<ScheduleSummary[]> {
    return this.client.schedule.list();
  }

  @Get(':id')
  describe(@Param('id') id: string): Promise<ScheduleDescription> {
    return this.client.schedule.describe(id);
  }

  @Post(':id/pause')
  @HttpCode(200)
  async pause(
    @Param('id') id: string,
    @Body() body: { note?: unknown },
  ): Promise<{ scheduleId: string; paused: true }> {
    this.writable();
    await this.client.schedule.pause(id, noteOf(body));
    return { scheduleId: id, paused: true };
  }

  @Post(':id/unpause')
  @HttpCode(200)
  async unpause(
    @Param('id') id: string,
    @Body() body: { note?: unknown },
  ): Promise<{ scheduleId: string; paused: false }> {
    this.writable();
    await this.client.schedule.unpause(id, noteOf(body));
    return { scheduleId: id, paused: false };
  }

  @Post(':id/trigger')
  @HttpCode(200)
  trigger(@Param('id') id: string): Promise<ScheduleActionRecord> {
    this.writable();
    return this.client.schedule.trigger(id);
  }

  private writable(): void {
    if (this.options.readOnly)
      throw new ForbiddenException(
        'The console is read-only (readOnly: true): pause, unpause and trigger are disabled',
      );
  }
}
