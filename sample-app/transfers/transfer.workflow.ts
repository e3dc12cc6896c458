import { ApplicationFailure, Saga, Workflow, WorkflowRun, sleep } from 'redurable';
import { BankActivities } from '../bank/bank.activities.js';
import { TRANSFERS_TASK_QUEUE, type TransferInput, type TransferResult } from './transfer.types.js';

/**
 * Moves money between two accounts: withdraw, a short durable timer, deposit. A saga holds
 * the undo: `withdraw` is `compensatedBy: 'refund'`, so when the deposit fails for good
 * (frozen account, bank down for all attempts) the withdrawal is refunded, durably, and the
 * workflow fails saying so. If the refund itself could not be done, the workflow ends as
 * `compensation_failed` listing it.
 */
@Workflow({ taskQueue: TRANSFERS_TASK_QUEUE })
export class TransferWorkflow {
  @WorkflowRun()
  async run(input: TransferInput): Promise<TransferResult> {
    const { transferId, from, to, amount } = input;
    const saga = new Saga();
    const bank = saga.proxy(BankActivities);
    let withdrawal: TransferResult['withdrawal'];
    try {
      withdrawal = await bank.withdraw({ from, amount, transferId });
    } catch (err) {
      throw ApplicationFailure.nonRetryable(`Transfer ${transferId} failed, no money moved: ${reason(err)}`, 'TransferFailed');
    }

    await sleep('1s'); // a durable timer: survives restarts, visible in the history

    try {
      const deposit = await bank.deposit({ to, amount, transferId, failFirstAttempts: input.failDeposit ?? 0 });
      return { status: 'completed', transferId, from, to, amount, withdrawal, deposit };
    } catch (err) {
      await saga.compensate(); // refund(from, amount), marked as a compensation in the history
      throw ApplicationFailure.nonRetryable(`Transfer ${transferId} was refunded to ${from}: deposit to ${to} failed: ${reason(err)}`, 'TransferRefunded');
    }
  }
}

/** The innermost message of a failure chain (an ActivityFailure wraps the activity's own error). */
function reason(err: unknown): string {
  let e = err as Error | undefined;
  while (e?.cause instanceof Error) e = e.cause;
  return e?.message ?? String(err);
}
