import { Injectable } from '@nestjs/common';
import { Activities, Activity, Query, Signal, Workflow, WorkflowRun } from 'redurable';
import { condition, proxyActivities, sleep } from 'redurable/workflow';

@Injectable()
@Activities()
export class GreetingActivities {
  @Activity({ retry: { maximumAttempts: 3 }, startToCloseTimeout: '10s' })
  async greet(name: string): Promise<string> {
    return `Hello, ${name}`;
  }

  @Activity()
  async shout(text: string): Promise<string> {
    return text.toUpperCase();
  }
}

@Workflow({ taskQueue: 'greetings' })
export class GreetingWorkflow {
  private readonly acts = proxyActivities(GreetingActivities);
  private stage = 'started';
  private mark?: string;

  @WorkflowRun()
  async run(name: string): Promise<string> {
    const greeting = await this.acts.greet(name);
    this.stage = 'sleeping';
    await sleep('200ms');
    this.stage = 'waiting for punctuation';
    await condition(() => this.mark !== undefined);
    return this.acts.shout(`${greeting}${this.mark}`);
  }

  @Signal() punctuate(mark: string): void {
    this.mark = mark;
  }

  @Query() currentStage(): string {
    return this.stage;
  }
}

/** Starts a greeting, queries it while it waits, signals it, and returns what happened. */
export async function greet(client: import('redurable').WorkflowClient, workflowId: string) {
  const handle = await client.start(GreetingWorkflow, { workflowId, args: ['Ada'] });
  let stage = await handle.query('currentStage');
  for (const deadline = Date.now() + 10_000; stage !== 'waiting for punctuation' && Date.now() < deadline;) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    stage = await handle.query('currentStage');
  }
  await handle.signal('punctuate', '!');
  const result: string = await handle.result();
  return { result, stage };
}
