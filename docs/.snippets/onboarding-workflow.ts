// The onboarding workflow of docs/concepts/timeouts-and-reset.md, and a WorkflowClient as the app injects it.
import { Signal, Workflow, WorkflowClient, WorkflowRun } from 'redurable';
import { condition } from 'redurable/workflow';

@Workflow({ taskQueue: 'onboarding' })
export class OnboardingWorkflow {
  private verified = false;

  @WorkflowRun()
  async run(userId: string): Promise<string> {
    return (await condition(() => this.verified, '7 days')) ? `${userId} verified` : `${userId} never verified`;
  }

  @Signal()
  verify(): void {
    this.verified = true;
  }
}

/** The app's `WorkflowClient` (inject it in a provider's constructor). */
declare const client: WorkflowClient;
