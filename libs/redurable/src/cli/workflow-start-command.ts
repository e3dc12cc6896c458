import { Option, type Command } from 'commander';
import { toMs, type Duration } from '../core/duration.js';
import type { IdConflictPolicy, IdReusePolicy } from '../core/workflow-state.js';
import { UsageError } from './connect.js';
import { collect, jsonValue } from './json-input.js';
import { json, out, withSession, type GlobalFlags } from './workflow-commands.js';

const REUSE: IdReusePolicy[] = ['ALLOW_DUPLICATE', 'ALLOW_DUPLICATE_FAILED_ONLY', 'REJECT_DUPLICATE'];
const CONFLICT: IdConflictPolicy[] = ['FAIL', 'USE_EXISTING', 'TERMINATE_EXISTING'];

interface StartFlags extends GlobalFlags {
  workflowId: string;
  taskQueue?: string;
  input?: string[];
  idReusePolicy?: IdReusePolicy;
  idConflictPolicy?: IdConflictPolicy;
  executionTimeout?: string;
  runTimeout?: string;
}

/** A `--…-timeout` value: a positive duration, else a usage error. */
function timeout(value: string | undefined, option: string): Duration | undefined {
  if (value === undefined) return undefined;
  let ms: number;
  try {
    ms = toMs(value as Duration); // text from the command line, checked here
  } catch (err) {
    throw new UsageError(`${option}: ${(err as Error).message}`);
  }
  if (ms <= 0) throw new UsageError(`${option} must be a positive duration such as '1h', not '${value}'`);
  return ms;
}

/**
 * `redurable workflow start <type> --workflow-id <id> [--input <json>]...`: starts a workflow by
 * its type name (this process has no workflow classes: the type must be one a worker of the
 * prefix registered, else UnknownWorkflowTypeError, exit 2, nothing written). The task queue is
 * the one the type's workers registered unless `--task-queue` says otherwise. Prints the
 * workflow id and the run id.
 */
export function addWorkflowStartCommand(workflow: Command): void {
  workflow
    .command('start')
    .argument('<type>', 'workflow type name (the @Workflow name, by default the class name)')
    .description('starts a workflow by type name; prints its id and run id')
    .requiredOption('--workflow-id <id>', 'business id of the workflow')
    .option('--task-queue <queue>', 'task queue to run on (default: the one its workers registered)')
    .option('--input <json>', 'an argument of the @WorkflowRun method, as JSON; repeat it for each, in order', collect)
    .addOption(
      new Option('--id-reuse-policy <policy>', "when the id's last run is closed (default: ALLOW_DUPLICATE)").choices(
        REUSE,
      ),
    )
    .addOption(
      new Option('--id-conflict-policy <policy>', 'when a run with the id is running (default: FAIL)').choices(
        CONFLICT,
      ),
    )
    .option('--execution-timeout <duration>', 'how long the whole execution may take, e.g. 1h (default: unlimited)')
    .option('--run-timeout <duration>', 'how long one run may take (default: unlimited)')
    .action(
      withSession(async ({ client }, flags, type: string) => {
        const f = flags as StartFlags;
        const args = (f.input ?? []).map((v, i) => jsonValue(v, `--input ${i + 1}`));
        const workflowExecutionTimeout = timeout(f.executionTimeout, '--execution-timeout');
        const workflowRunTimeout = timeout(f.runTimeout, '--run-timeout');
        const handle = await client.start(type, {
          workflowId: f.workflowId,
          args,
          ...(f.taskQueue !== undefined ? { taskQueue: f.taskQueue } : {}),
          ...(f.idReusePolicy ? { workflowIdReusePolicy: f.idReusePolicy } : {}),
          ...(f.idConflictPolicy ? { workflowIdConflictPolicy: f.idConflictPolicy } : {}),
          ...(workflowExecutionTimeout !== undefined ? { workflowExecutionTimeout } : {}),
          ...(workflowRunTimeout !== undefined ? { workflowRunTimeout } : {}),
        });
        if (flags.json) json({ workflowId: f.workflowId, runId: handle.runId });
        else out(`Workflow '${f.workflowId}' (${type}) started: run ${handle.runId}`);
      }),
    );
}
