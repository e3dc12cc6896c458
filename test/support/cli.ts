import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The `redurable` command: the package's compiled bin, run in its own process. */
export const CLI_BIN = fileURLToPath(new URL('../../libs/redurable/dist/cli/main.js', import.meta.url));

/** What one run of the command printed, and its exit code. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the command with `args` (connection flags are the caller's), without the user's REDIS_URL
 * and REDURABLE_* variables, plus `env`; gives up after 30 s.
 */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => name !== 'REDIS_URL' && !name.startsWith('REDURABLE_')),
  );
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      [CLI_BIN, ...args],
      { env: { ...inherited, ...env }, timeout: 30_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    ),
  );
}
