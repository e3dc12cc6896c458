import { BadRequestException, ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { WorkflowClient, WorkflowNotFoundError, WorkflowNotRunningError, WorkflowUpdateRejectedError } from 'redurable';
import { LedgerService } from '../ledger/ledger.service.js';
import type { CreateTransferDto } from './create-transfer.dto.js';
import { transferStatus, type TransferStatus } from './transfer-status.js';
import type { TransferProgress, TransferStage } from './transfer.types.js';
import { TransferWorkflow } from './transfer.workflow.js';
import { TRANSFERS_CONFIG, type TransfersConfig } from './transfers.config.js';

/** Stages in which a cancellation refunds: the withdrawal is done and the deposit has not started. */
const CANCELLABLE: ReadonlySet<TransferStage> = new Set(['awaiting-approval', 'withdrawn']);

/** Where the transfer's stage answers a decision. */
const DECIDABLE: ReadonlySet<TransferStage> = new Set(['withdrawing', 'awaiting-approval']);

/** What `POST /transfers/:id/approve|reject|cancel` answer: the request is recorded, the workflow acts on it. */
export interface TransferRequestAccepted {
  transferId: string;
  workflowId: string;
  request: 'approve' | 'reject' | 'cancel';
  by?: string;
}

/** Starts transfer workflows, reports on them, and relays approvals and cancellations. */
@Injectable()
export class TransfersService {
  constructor(
    private readonly workflows: WorkflowClient,
    private readonly ledger: LedgerService,
    @Inject(TRANSFERS_CONFIG) private readonly config: TransfersConfig,
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
    const { approvalLimit, approvalTimeout } = this.config;
    await this.workflows.start(TransferWorkflow, {
      workflowId,
      args: [{ transferId, from, to, amount, failDeposit, approvalLimit, approvalTimeout }],
      // Found later with client.list({ query: "fromAccount = 'alice' AND amount >= 100" }), or in the explorer.
      searchAttributes: { fromAccount: from, toAccount: to, amount },
    });
    return { transferId, workflowId };
  }

  /** Status, stage and steps of a transfer, by transfer id or workflow id. */
  async status(id: string): Promise<TransferStatus> {
    const transferId = transferIdOf(id);
    const handle = this.handle(transferId);
    return this.httpErrors(transferId, async () => {
      const description = await handle.describe();
      const history = await handle.fetchHistory();
      // The stage is a bonus here: a history the current code cannot replay still has a status.
      const progress = await handle.query('stage').catch(() => undefined);
      return transferStatus(transferId, description, history, progress);
    });
  }

  /** The `stage` query: replayed from the history in this process, so it answers with no worker running. */
  async progress(id: string): Promise<TransferProgress & { transferId: string; workflowId: string }> {
    const transferId = transferIdOf(id);
    const progress = await this.httpErrors(transferId, () => this.handle(transferId).query('stage'));
    return { transferId, workflowId: workflowIdOf(transferId), ...progress };
  }

  /** Sends `approve(by)` or `reject(by)`; 409 when the transfer is not (or no longer) waiting for a decision. */
  async decide(id: string, decision: 'approve' | 'reject', by: string): Promise<TransferRequestAccepted> {
    const transferId = transferIdOf(id);
    const handle = this.handle(transferId);
    return this.httpErrors(transferId, async () => {
      const { stage, approval } = await handle.query('stage');
      if (!approval)
        throw new ConflictException(
          `transfer ${transferId} needs no approval: its amount is not above the approval limit`,
        );
      if (approval.status !== 'pending') {
        throw new ConflictException(
          `transfer ${transferId} is no longer awaiting approval: it was ${approval.status}${approval.by ? ` by ${approval.by}` : ''}`,
        );
      }
      if (!DECIDABLE.has(stage))
        throw new ConflictException(`transfer ${transferId} is no longer awaiting approval: it is ${stage}`);
      await handle.signal(decision, by);
      return { transferId, workflowId: handle.workflowId, request: decision, by };
    });
  }

  /**
   * Sends the update `changeApprovalLimit(limit)` and answers with where the transfer then
   * stands; 409 when the workflow's validator refuses it (nothing is recorded).
   */
  async changeApprovalLimit(
    id: string,
    limit: number,
  ): Promise<TransferProgress & { transferId: string; workflowId: string }> {
    const transferId = transferIdOf(id);
    const progress = await this.httpErrors(transferId, () =>
      this.handle(transferId).executeUpdate('changeApprovalLimit', limit),
    );
    return { transferId, workflowId: workflowIdOf(transferId), ...progress };
  }

  /**
   * Asks the workflow to cancel: it refunds the withdrawal and ends `canceled`. Only while it
   * awaits its approval or its deposit timer: during a bank call, or once the deposit started,
   * 409 (the deposit is seen through, and the transfer completes or is refunded on its own).
   */
  async cancel(id: string, reason?: string): Promise<TransferRequestAccepted> {
    const transferId = transferIdOf(id);
    const handle = this.handle(transferId);
    return this.httpErrors(transferId, async () => {
      const { stage } = await handle.query('stage');
      if (!CANCELLABLE.has(stage)) {
        const why =
          stage === 'withdrawing'
            ? ': the withdrawal is under way, try again in a moment'
            : stage === 'depositing'
              ? ': the deposit is under way'
              : '';
        throw new ConflictException(`transfer ${transferId} cannot be cancelled: it is ${stage}${why}`);
      }
      await handle.cancel(reason ?? 'cancelled over the API');
      return { transferId, workflowId: handle.workflowId, request: 'cancel' };
    });
  }

  /** A handle typed from the workflow class: message names, arguments and results are checked by the compiler. */
  private handle(transferId: string) {
    return this.workflows.getHandle(TransferWorkflow, workflowIdOf(transferId));
  }

  private async httpErrors<T>(transferId: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new NotFoundException(`transfer ${transferId} was not found`);
      if (err instanceof WorkflowNotRunningError) throw new ConflictException(err.message);
      if (err instanceof WorkflowUpdateRejectedError)
        throw new ConflictException(`transfer ${transferId}: ${(err.cause as Error).message}`);
      throw err;
    }
  }
}

function transferIdOf(id: string): string {
  return id.startsWith('transfer-') ? id.slice('transfer-'.length) : id;
}

function workflowIdOf(transferId: string): string {
  return `transfer-${transferId}`;
}
