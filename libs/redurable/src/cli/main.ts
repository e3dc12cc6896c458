#!/usr/bin/env node
/**
 * The `redurable` command: inspect and operate the workflows of an app from a shell or a
 * script. `redurable workflow --help` lists the subcommands; exit codes are in exit-codes.ts.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { UsageError } from './connect.js';
import { EXIT, exitCodeOf } from './exit-codes.js';
import { addWorkflowCommands } from './workflow-commands.js';
import { addScheduleCommands } from './schedule-commands.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const program = new Command('redurable')
  .version(version, '-v, --version')
  .description('Inspect and operate Redurable workflows')
  .showHelpAfterError()
  .exitOverride();
/** The options every group of subcommands takes: where the app's Redis is, and how to print. */
function connected(command: Command, codec: string): Command {
  return command
    .option('--redis <url>', 'Redis of the app (default: $REDIS_URL)')
    .option(
      '--cluster <nodes>',
      'a Redis Cluster instead: some of its nodes, host:port,host:port (default: $REDIS_CLUSTER)',
    )
    .option('--prefix <prefix>', "the app's key prefix (DurableModule's `prefix`)", 'redurable')
    .option('--timeout <duration>', 'how long to wait for Redis', '5s')
    .option('--codec <module>', `an ES module exporting the app's PayloadCodec, to show ${codec} decoded`)
    .option('--json', 'JSON output, for scripts')
    .exitOverride();
}
const workflow = connected(
  program.command('workflow').description('list, describe, show, signal, cancel, terminate or reset workflows'),
  'payloads',
);
addWorkflowCommands(workflow);
for (const sub of workflow.commands) sub.exitOverride();
const schedule = connected(
  program.command('schedule').description('list, describe, pause, unpause, trigger or delete schedules'),
  "the action's arguments",
);
addScheduleCommands(schedule);
for (const sub of schedule.commands) sub.exitOverride();

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
