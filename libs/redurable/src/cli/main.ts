#!/usr/bin/env node
/**
 * The `redurable` command: inspect and operate the workflows of an app from a shell or a
 * script. `redurable --help` lists the command groups and the global options, `redurable workflow
 * --help` a group's commands; exit codes are in exit-codes.ts.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { UsageError } from './connect.js';
import { EXIT, exitCodeOf } from './exit-codes.js';
import { addWorkflowCommands } from './workflow-commands.js';
import { addWorkflowMessageCommands } from './workflow-message-commands.js';
import { addScheduleCommands } from './schedule-commands.js';
import { addScheduleFileCommands } from './schedule-file-commands.js';
import { addWorkflowStartCommand } from './workflow-start-command.js';
import { addWorkflowExportCommand } from './workflow-export-command.js';
import { addActivityCommands } from './activity-commands.js';
import { addBuildCommands, addWorkflowUpdateBuildCommand } from './build-commands.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const program = new Command('redurable')
  .version(version, '-v, --version')
  .description('Inspect and operate Redurable workflows')
  .usage('[global options] <command> [options]')
  .showHelpAfterError()
  .configureHelp({ showGlobalOptions: true })
  .exitOverride();
// The options every command takes (before or after its name): where the app's Redis is, and how to print.
program
  .option('--redis <url>', 'Redis of the app (default: $REDIS_URL)')
  .option(
    '--cluster <nodes>',
    'a Redis Cluster instead: some of its nodes, host:port,host:port (default: $REDIS_CLUSTER)',
  )
  .addOption(
    new Option('--prefix <prefix>', "the app's key prefix (DurableModule's `prefix`)")
      .env('REDURABLE_PREFIX')
      .default('redurable'),
  )
  .option('--timeout <duration>', 'how long to wait for Redis, and for a worker to answer a query or update', '5s')
  .option('--codec <module>', "an ES module exporting the app's PayloadCodec, to show payloads decoded")
  .option('--json', 'JSON output, for scripts')
  .addHelpText(
    'after',
    `
Global options go before or after the command: redurable workflow list --prefix my-app --status running.

Exit codes: ${EXIT.ok} done; ${EXIT.error} another error; ${EXIT.usage} a bad command line or input (nothing written);
${EXIT.notFound} no such workflow or schedule, or no Redurable data under the prefix; ${EXIT.notRunning} the workflow is not
running (or the activity no longer waits); ${EXIT.redisUnavailable} Redis unreachable; ${EXIT.workflowFailed} \`workflow result\` of a workflow that did not
complete; ${EXIT.alreadyExists} the workflow or schedule id is taken; ${EXIT.noWorker} no worker answered a query or update within --timeout.`,
  );
/** A command group: its subcommands, added by `adders`, exit through the handler below like the group. */
function group(name: string, description: string, ...adders: ((group: Command) => void)[]): void {
  const command = program.command(name).description(description).exitOverride();
  for (const add of adders) add(command);
  for (const sub of command.commands) sub.exitOverride();
}

group(
  'workflow',
  'start, list, count, describe, show, result, signal, query, update, cancel, terminate, reset, export or update-build workflows',
  addWorkflowCommands,
  addWorkflowStartCommand,
  addWorkflowExportCommand,
  addWorkflowMessageCommands,
  addWorkflowUpdateBuildCommand,
);
group(
  'schedule',
  'create, update, list, describe, pause, unpause, trigger, backfill or delete schedules',
  addScheduleCommands,
  addScheduleFileCommands,
);
group('activity', 'complete or fail an activity that completes asynchronously (completeAsync)', addActivityCommands);
group('build', 'list the builds of the workers (module option buildId)', addBuildCommands);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version end here too, with code 0; commander has printed what it had to.
    process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else {
    process.stderr.write(`redurable: ${(err as Error).message}\n`);
    process.exitCode = err instanceof UsageError ? EXIT.usage : exitCodeOf(err);
  }
}
