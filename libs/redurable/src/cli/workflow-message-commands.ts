import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { UsageError } from './connect.js';
import { json, out, parseArgs, withSession, type GlobalFlags } from './workflow-commands.js';

/** The output of a query or an update: the value as JSON (`undefined` when there is none), or with --json an object. */
function printResult(flags: GlobalFlags, result: unknown, extra: Record<string, unknown> = {}): void {
  if (flags.json) json({ ...extra, result });
  else out(JSON.stringify(result) ?? 'undefined');
}

/**
 * `redurable workflow query` and `redurable workflow update`: the command line has no workflow
 * class, so a worker serving the workflow's task queue answers (the global `--timeout` bounds
 * the wait for it; none answering is exit code 8).
 */
export function addWorkflowMessageCommands(workflow: Command): void {
  workflow
    .command('query')
    .argument('<workflowId>')
    .argument('<query>', 'the @Query handler')
    .argument('[args...]', 'query arguments, each as JSON')
    .description(
      "runs a query on the workflow's state and prints its result as JSON (a worker serving its task queue answers within --timeout)",
    )
    .option('--run-id <runId>', 'a run other than the current one')
    .action(
      withSession(async ({ client }, flags, workflowId: string, query: string, args: string[]) => {
        const { runId } = flags as GlobalFlags & { runId?: string };
        const result = await client.getHandle(workflowId, runId).query(query, ...parseArgs(args));
        printResult(flags, result);
      }),
    );

  workflow
    .command('update')
    .argument('<workflowId>')
    .argument('<update>', 'the @Update handler')
    .argument('[args...]', 'update arguments, each as JSON')
    .description(
      'sends an update (validated and recorded by a worker serving the task queue within --timeout), waits for its handler and prints its result as JSON',
    )
    .option(
      '--update-id <id>',
      'the update id: sent again with the same id, an update is recorded once (default: a new id)',
    )
    .action(
      withSession(async ({ client }, flags, workflowId: string, update: string, args: string[]) => {
        const f = flags as GlobalFlags & { updateId?: string };
        if (f.updateId !== undefined && (f.updateId === '' || f.updateId.length > 256))
          throw new UsageError('--update-id: give a non-empty id of at most 256 characters');
        const updateId = f.updateId ?? randomUUID();
        const handle = await client.getHandle(workflowId).startUpdateWithId(updateId, update, ...parseArgs(args));
        printResult(flags, await handle.result(), { workflowId, updateId, runId: handle.runId });
      }),
    );
}
