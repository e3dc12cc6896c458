import { Controller, Get, Inject, NotFoundException, Param } from '@nestjs/common';
import { WorkflowClient, WorkflowNotFoundError, type HistoryEvent, type WorkflowDescription } from 'redurable';

/**
 * A small JSON API over the library's workflow client, for people and tools that want
 * to look inside one execution:
 *
 * - `GET /api/workflows/:id` — status, timestamps, result or failure, pending activities
 * - `GET /api/workflows/:id/history` — the event history, oldest first
 *
 * An unknown id answers 404 with the library's explanation.
 */
@Controller('api/workflows')
export class WorkflowExplorerController {
  constructor(@Inject(WorkflowClient) private readonly client: WorkflowClient) {}

  @Get(':id')
  describe(@Param('id') id: string): Promise<WorkflowDescription> {
    return notFoundAs404(() => this.client.getHandle(id).describe());
  }

  @Get(':id/history')
  async history(@Param('id') id: string): Promise<{ workflowId: string; events: HistoryEvent[] }> {
    const events = await notFoundAs404(() => this.client.getHandle(id).fetchHistory());
    return { workflowId: id, events };
  }
}

async function notFoundAs404<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new NotFoundException(err.message);
    throw err;
  }
}
