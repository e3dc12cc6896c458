import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { WorkflowClient, WorkflowNotFoundError } from 'redurable';
import { LedgerService } from '../ledger/ledger.service.js';
import type { CreateTransferDto } from './create-transfer.dto.js';
import { transferStatus, type TransferStatus } from './transfer-status.js';
import { TransferWorkflow } from './transfer.workflow.js';

/** Starts transfer workflows and reports on them. */
@Injectable()
export class TransfersService {
  constructor(
    private readonly workflows: WorkflowClient,
    private readonly ledger: LedgerService,
  ) {}

  /** Checks both accounts exist, then starts the workflow `transfer-<uuid>`. */
  async start(body: CreateTransferDto): Promise<{ transferId: string; workflowId: string }> {
    if (body.from === body.to) throw new BadRequestException(['to must be a different account than from']);
    for (const id of [body.from, body.to]) {
      if (!(await this.ledger.find(id))) throw new NotFoundException(`account ${id} does not exist`);
    }
    const transferId = randomUUID();
    const workflowId = workflowIdOf(transferId);
    const { from, to, amount, failDeposit } = body;
    await this.workflows.start(TransferWorkflow, { workflowId, args: [{ transferId, from, to, amount, failDeposit }] });
    return { transferId, workflowId };
  }

  /** Status and steps of a transfer, by transfer id or workflow id. */
  async status(id: string): Promise<TransferStatus> {
    const transferId = id.startsWith('transfer-') ? id.slice('transfer-'.length) : id;
    const handle = this.workflows.getHandle(workflowIdOf(transferId));
    try {
      const description = await handle.describe();
      const history = await handle.fetchHistory();
      return transferStatus(transferId, description, history);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new NotFoundException(`transfer ${transferId} was not found`);
      throw err;
    }
  }
}

function workflowIdOf(transferId: string): string {
  return `transfer-${transferId}`;
}
