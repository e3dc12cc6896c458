// Prelude of the concept pages' snippets: the imports they use, a transfer's types, an
// in-memory ledger and the bank's activities (withdraw is undone by refund).
import { Injectable } from '@nestjs/common';
import {
  Activities,
  Activity,
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  CompensationFailure,
  Query,
  Signal,
  TimeoutFailure,
  Update,
  Workflow,
  WorkflowClient,
  WorkflowRun,
  activityContext,
} from 'redurable';
import {
  CancellationScope,
  Saga,
  allHandlersFinished,
  condition,
  continueAsNew,
  executeChild,
  isCancellationRequested,
  nonCancellable,
  proxyActivities,
  proxyLocalActivities,
  sleep,
  startChild,
  withTimeout,
  workflowInfo,
} from 'redurable/workflow';

export interface TransferInput {
  transferId: string;
  from: string;
  to: string;
  amount: number;
}

export interface Receipt {
  transactionId: string;
}

/** A stand-in for the system the activities call: it applies each idempotency key once. */
@Injectable()
export class LedgerService {
  private readonly applied = new Map<string, Receipt>();

  async debit(account: string, amount: number, idempotencyKey: string): Promise<Receipt> {
    return this.apply(`debit ${account} ${amount}`, idempotencyKey);
  }

  async credit(account: string, amount: number, idempotencyKey: string): Promise<Receipt> {
    return this.apply(`credit ${account} ${amount}`, idempotencyKey);
  }

  private apply(_what: string, idempotencyKey: string): Receipt {
    const receipt = this.applied.get(idempotencyKey) ?? { transactionId: `tx-${this.applied.size + 1}` };
    this.applied.set(idempotencyKey, receipt);
    return receipt;
  }
}

@Injectable()
@Activities()
export class BankActivities {
  constructor(private readonly ledger: LedgerService) {}

  @Activity({ retry: { maximumAttempts: 5 }, startToCloseTimeout: '10s', compensatedBy: 'refund' })
  async withdraw(input: TransferInput): Promise<Receipt> {
    return this.ledger.debit(input.from, input.amount, activityContext().idempotencyKey);
  }

  @Activity({ retry: { maximumAttempts: 5 }, startToCloseTimeout: '10s' })
  async deposit(input: TransferInput): Promise<Receipt> {
    return this.ledger.credit(input.to, input.amount, activityContext().idempotencyKey);
  }

  @Activity({ startToCloseTimeout: '10s' })
  async refund(input: TransferInput): Promise<Receipt> {
    return this.ledger.credit(input.from, input.amount, activityContext().idempotencyKey);
  }
}
