// The report workflow of docs/concepts/schedules.md, and a WorkflowClient as the app injects it.
import { Injectable } from '@nestjs/common';
import { Activities, Activity, Workflow, WorkflowClient, WorkflowRun } from 'redurable';
import { TestWorkflowEnvironment } from 'redurable/testing';

@Injectable()
@Activities()
export class ReportActivities {
  @Activity()
  async sendWeeklyReport(customerId: string): Promise<void> {}
}

@Workflow({ taskQueue: 'reports' })
export class ReportWorkflow {
  constructor(private readonly reports: ReportActivities) {}

  @WorkflowRun()
  async run(input: { customerId: string }): Promise<void> {
    await this.reports.sendWeeklyReport(input.customerId);
  }
}

/** The app's `WorkflowClient` (inject it in a provider's constructor). */
declare const client: WorkflowClient;
