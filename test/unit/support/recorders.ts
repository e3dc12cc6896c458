import { serializeFailure } from '../../../libs/redurable/src/core/errors/failure-codec.js';
import type { ChildWorkflowScheduled, NewEvent } from '../../../libs/redurable/src/core/events.js';
import type { DataConverter } from '../../../libs/redurable/src/core/payload/data-converter.js';
import type { DurableMetrics, Logger, RunClosing } from '../../../libs/redurable/src/core/ports/index.js';
import type { LocalCommand } from '../../../libs/redurable/src/engine/commands.js';
import type { ChildStarter, StepOwner } from '../../../libs/redurable/src/engine/step-dispatch.js';
import type { LocalActivityRunner } from '../../../libs/redurable/src/engine/task-commits.js';

/** A logger that keeps every line. */
export class RecordingLogger implements Logger {
  readonly lines: { level: 'log' | 'warn' | 'error' | 'debug'; message: string }[] = [];

  log(message: string): void {
    this.lines.push({ level: 'log', message });
  }
  warn(message: string): void {
    this.lines.push({ level: 'warn', message });
  }
  error(message: string): void {
    this.lines.push({ level: 'error', message });
  }
  debug(message: string): void {
    this.lines.push({ level: 'debug', message });
  }

  /** The messages of one level. */
  at(level: 'log' | 'warn' | 'error'): string[] {
    return this.lines.filter((l) => l.level === level).map((l) => l.message);
  }
}

/** What the engine asked of the runs around a closed one (parent, children, jobs). */
export class RecordingRunClosing implements RunClosing {
  readonly afterCloseCalls: { workflowId: string; runId: string; related?: { parent: boolean; children: boolean } }[] =
    [];
  readonly closedFromOutsideCalls: { workflowId: string; runId: string }[] = [];

  async afterClose(workflowId: string, runId: string, related?: { parent: boolean; children: boolean }): Promise<void> {
    this.afterCloseCalls.push({ workflowId, runId, related });
  }

  async closedFromOutside(workflowId: string, runId: string): Promise<void> {
    this.closedFromOutsideCalls.push({ workflowId, runId });
  }
}

/** Child starts a step asked for. */
export class RecordingChildStarter implements ChildStarter {
  readonly started: { parent: StepOwner; cmd: Omit<ChildWorkflowScheduled, 'id' | 'ts'> }[] = [];

  async start(parent: StepOwner, cmd: Omit<ChildWorkflowScheduled, 'id' | 'ts'>): Promise<void> {
    this.started.push({ parent, cmd });
  }
}

/**
 * Local activities by name, each a function of the decoded arguments: a completion with its
 * encoded result, or a final failure when it throws (in-task retries are the ActivityRunner's,
 * not modelled here). `during` runs before each one, to make something happen while it runs.
 */
export class ScriptedLocalActivities implements LocalActivityRunner {
  readonly calls: { activityType: string; seq: number; args: unknown[] }[] = [];
  during?: (cmd: LocalCommand) => unknown;

  constructor(
    private readonly converter: DataConverter,
    private readonly handlers: Record<string, (...args: never[]) => unknown>,
  ) {}

  async runLocal(_workflow: { workflowId: string }, cmd: LocalCommand): Promise<NewEvent> {
    const args = this.converter.decodeAll(cmd.input, cmd.activityType);
    this.calls.push({ activityType: cmd.activityType, seq: cmd.seq, args });
    await this.during?.(cmd);
    const attempt = cmd.local.attempt;
    try {
      const value = await (this.handlers[cmd.activityType] as (...a: unknown[]) => unknown)(...args);
      return { type: 'ActivityTaskCompleted', seq: cmd.seq, result: this.converter.encode(value, 'result'), attempt };
    } catch (err) {
      return { type: 'ActivityTaskFailed', seq: cmd.seq, failure: serializeFailure(err), attempt };
    }
  }
}

/** Metrics that keep what they were told (only what these tests read). */
export class RecordingMetrics implements DurableMetrics {
  readonly repairs: string[] = [];
  readonly closed: string[] = [];
  readonly lookups: boolean[] = [];

  workflowStarted(): void {}
  workflowClosed(workflowType: string, status: string): void {
    this.closed.push(`${workflowType}:${status}`);
  }
  workflowTask(): void {}
  cacheLookup(hit: boolean): void {
    this.lookups.push(hit);
  }
  activityAttempt(): void {}
  activityScheduleToStart(): void {}
  sweepRepair(reason: string): void {
    this.repairs.push(reason);
  }
}
