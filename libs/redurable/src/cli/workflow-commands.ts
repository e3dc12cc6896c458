import { Option, type Command } from 'commander';
import { WorkflowNotFoundError } from '../core/errors/library.errors.js';
import type { HistoryEvent } from '../core/events.js';
import { timelineOf } from '../core/timeline.js';
import { WORKFLOW_STATUSES } from '../core/workflow-state.js';
import { connect, UsageError, type CliSession, type ConnectionFlags } from './connect.js';
import { describeText, eventLine, timelineText, workflowTable } from './format.js';
import { checkPrefixHoldsData } from './prefix-data.js';

export interface GlobalFlags extends ConnectionFlags {
  json?: boolean;
}

export const out = (text: string) => process.stdout.write(`${text}\n`);
export const json = (value: unknown) => out(JSON.stringify(value, null, 2));

/** Runs `body` on a connected session, closing it afterwards whatever happens. */
export function withSession<A extends unknown[]>(
  body: (session: CliSession, flags: GlobalFlags, ...args: A) => Promise<void>,
) {
  return async (...args: [...A, Record<string, unknown>, Command]) => {
    const command = args.at(-1) as Command;
    const flags = command.optsWithGlobals<GlobalFlags & Record<string, unknown>>();
    const session = await connect(flags);
    try {
      await body(session, flags, ...(args.slice(0, -2) as A));
    } finally {
      await session.close();
    }
  };
}

/** Command-line arguments of a message (signal, query, update), each parsed as JSON; anything else is a usage error. */
export function parseArgs(values: string[]): unknown[] {
  return values.map((v, i) => {
    try {
      return JSON.parse(v) as unknown;
    } catch {
      throw new UsageError(
        `argument ${i + 1} (${v}) is not JSON: quote strings, for example '"ada"', and pass numbers and objects as JSON`,
      );
    }
  });
}

/** Follows a run's history, printing events as they are recorded, until the run closes. */
async function follow(
  session: CliSession,
  workflowId: string,
  runId: string | undefined,
  asJson: boolean,
): Promise<void> {
  const handle = session.client.getHandle(workflowId, runId);
  let printed = 0;
  for (;;) {
    const history: HistoryEvent[] = await handle.fetchHistory();
    for (const e of history.slice(printed)) out(asJson ? JSON.stringify(e) : eventLine(e));
    printed = history.length;
    const description = await handle.describe();
    if (description.status !== 'running' || (runId && description.runId !== runId)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

const QUERY_HELP =
  "search attribute conditions joined by AND, e.g. \"customerId = 'c-1' AND amount >= 100 AND ExecutionStatus = 'running'\"";

/** `--status`: one of the workflow statuses; another is a usage error (exit 2) naming them. */
export function statusOption(): Option {
  return new Option('--status <status>', 'workflow status').choices([...WORKFLOW_STATUSES]);
}

/** `redurable workflow ...`: the subcommands. */
export function addWorkflowCommands(workflow: Command): void {
  workflow
    .command('list')
    .description('workflows, newest first')
    .addOption(statusOption())
    .option('--type <type>', 'workflow type')
    .option('--query <query>', QUERY_HELP)
    .option('--limit <n>', 'page size (at most 1000)', (v) => positiveInt(v, '--limit'), 50)
    .option('--cursor <cursor>', 'the next page (printed after a full page)')
    .option('--waiting', 'only runs waiting for a slot of their concurrency limit')
    .action(
      withSession(async (session, flags) => {
        const { client } = session;
        const f = flags as GlobalFlags & {
          status?: string;
          type?: string;
          query?: string;
          limit: number;
          cursor?: string;
          waiting?: boolean;
        };
        const page = await client.list({
          status: f.status,
          type: f.type,
          query: f.query,
          waiting: f.waiting,
          limit: f.limit,
          cursor: f.cursor,
        });
        if (page.workflows.length === 0 && !f.cursor) await checkPrefixHoldsData(session);
        if (flags.json) {
          json(page);
          return;
        }
        out(page.workflows.length === 0 ? '(no workflows)' : workflowTable(page.workflows));
        if (page.nextCursor) out(`\nmore: --cursor ${page.nextCursor}`);
      }),
    );

  workflow
    .command('count')
    .description('how many workflows match')
    .addOption(statusOption())
    .option('--type <type>', 'workflow type')
    .option('--query <query>', QUERY_HELP)
    .option('--waiting', 'only runs waiting for a slot of their concurrency limit')
    .action(
      withSession(async (session, flags) => {
        const f = flags as GlobalFlags & { status?: string; type?: string; query?: string; waiting?: boolean };
        const count = await session.client.count({
          status: f.status,
          type: f.type,
          query: f.query,
          waiting: f.waiting,
        });
        if (count === 0) await checkPrefixHoldsData(session);
        if (flags.json) json({ count });
        else out(String(count));
      }),
    );

  workflow
    .command('describe')
    .argument('<workflowId>')
    .description('status, times, pending activities and timers, task failure')
    .action(
      withSession(async ({ client, runtime }, flags, workflowId: string) => {
        const d = await client.getHandle(workflowId).describe();
        if (flags.json) json(d);
        else out(describeText(d, runtime.converter));
      }),
    );

  workflow
    .command('show')
    .argument('<workflowId>')
    .description("the run's history as a timeline of steps")
    .option('--run <runId>', 'a run other than the current one')
    .option('--events', 'one line per history event instead of the timeline')
    .option('--follow', 'print events as they are recorded until the run closes')
    .action(
      withSession(async (session, flags, workflowId: string) => {
        const f = flags as GlobalFlags & { run?: string; events?: boolean; follow?: boolean };
        if (f.follow) {
          await follow(session, workflowId, f.run, flags.json === true);
          return;
        }
        const handle = session.client.getHandle(workflowId, f.run);
        const history = await handle.fetchHistory();
        if (history.length === 0) throw new WorkflowNotFoundError(workflowId);
        if (flags.json || f.events) {
          out(flags.json ? JSON.stringify(history, null, 2) : history.map(eventLine).join('\n'));
          return;
        }
        const d = await session.client.getHandle(workflowId).describe();
        out(`${workflowId} (${d.workflowType}, run ${f.run ?? d.runId}): ${d.status}\n`);
        out(timelineText(timelineOf(history), session.runtime.converter));
      }),
    );

  workflow
    .command('result')
    .argument('<workflowId>')
    .description('waits for the workflow to end and prints its result')
    .action(
      withSession(async ({ client }, flags, workflowId: string) => {
        await client.getHandle(workflowId).describe(); // not found: exit 3 at once, rather than waiting
        const result = await client.getHandle(workflowId).result();
        out(flags.json ? JSON.stringify({ result }, null, 2) : (JSON.stringify(result) ?? 'undefined'));
      }),
    );

  workflow
    .command('signal')
    .argument('<workflowId>')
    .argument('<signal>')
    .argument('[args...]', 'signal arguments, each as JSON')
    .description('sends a signal')
    .action(
      withSession(async ({ client }, flags, workflowId: string, signal: string, args: string[]) => {
        await client.getHandle(workflowId).signal(signal, ...parseArgs(args));
        if (flags.json) json({ workflowId, signal, sent: true });
        else out(`Signal '${signal}' recorded in workflow '${workflowId}'`);
      }),
    );

  workflow
    .command('cancel')
    .argument('<workflowId>')
    .description('asks the workflow to cancel (it may compensate first)')
    .option('--reason <reason>', 'recorded with the request')
    .action(
      withSession(async ({ client }, flags, workflowId: string) => {
        await client.getHandle(workflowId).cancel((flags as GlobalFlags & { reason?: string }).reason);
        if (flags.json) json({ workflowId, cancelRequested: true });
        else out(`Cancellation of workflow '${workflowId}' requested`);
      }),
    );

  workflow
    .command('terminate')
    .argument('<workflowId>')
    .description('ends the workflow at once, without running its code')
    .option('--reason <reason>', 'recorded as the reason', 'terminated with the redurable command')
    .action(
      withSession(async ({ client }, flags, workflowId: string) => {
        await client.getHandle(workflowId).terminate((flags as GlobalFlags & { reason: string }).reason);
        if (flags.json) json({ workflowId, terminated: true });
        else out(`Workflow '${workflowId}' terminated`);
      }),
    );

  workflow
    .command('reset')
    .argument('<workflowId>')
    .description("starts a new run from the current run's history up to a point, with the code deployed now")
    .option('--to-event <id>', 'keep the history up to this event id (see show --events)', (v) =>
      positiveInt(v, '--to-event'),
    )
    .option('--to <point>', 'first (re-run from the start) or last (re-run the last workflow task)')
    .requiredOption('--reason <reason>', 'recorded with the reset')
    .option('--no-reapply-signals', 'do not record the signals received after the point in the new run')
    .action(
      withSession(async ({ client }, flags, workflowId: string) => {
        const f = flags as GlobalFlags & { toEvent?: number; to?: string; reason: string; reapplySignals: boolean };
        if (f.to !== undefined && f.to !== 'first' && f.to !== 'last')
          throw new UsageError(`--to must be first or last, not '${f.to}'`);
        const to =
          f.to === undefined
            ? undefined
            : f.to === 'first'
              ? ('firstWorkflowTask' as const)
              : ('lastWorkflowTask' as const);
        const next = await client
          .getHandle(workflowId)
          .reset({ toEventId: f.toEvent, to, reason: f.reason, reapplySignals: f.reapplySignals });
        if (flags.json) json({ workflowId, runId: next.runId });
        else out(`Workflow '${workflowId}' reset: new run ${next.runId}`);
      }),
    );
}

export function positiveInt(value: string, option: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${option} must be a positive whole number, not '${value}'`);
  return n;
}
