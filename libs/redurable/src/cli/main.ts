#!/usr/bin/env node
/**
 * The `redurable` command. This version answers `--version` and `--help`; the name is the
 * package's `bin` so that scripts can rely on it.
 */
import { readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
const usage = `redurable ${version}

Usage: redurable [--version | --help]

This version of the command has no subcommands yet. Inspect and operate workflows from your
app with WorkflowClient (list, describe, signal, cancel, terminate, fetchHistory), or mount
redurable-console for Bull Board and the workflow explorer.
`;

const [arg] = process.argv.slice(2);
if (arg === '--version' || arg === '-v') {
  process.stdout.write(`${version}\n`);
} else if (arg === undefined || arg === '--help' || arg === '-h') {
  process.stdout.write(usage);
} else {
  process.stderr.write(`redurable: unknown command '${arg}'\n\n${usage}`);
  process.exitCode = 1;
}
