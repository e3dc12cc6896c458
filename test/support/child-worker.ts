import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The compiled fixture `name` (test/fixtures/<name>.ts). */
const fixture = (name: string) => fileURLToPath(new URL(`../../dist/test/fixtures/${name}.js`, import.meta.url));

export interface Child {
  process: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

/** Runs a compiled worker fixture (`npm test` builds it; crash-worker unless named) in its own process. */
export function spawnWorker(env: Record<string, string>, name = 'crash-worker'): Child {
  const child = spawn(process.execPath, [fixture(name)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    // 'close': after the process exited and its output was read to the end.
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  return { process: child, exited, output: () => out };
}

/** Graceful stop (SIGTERM: the worker drains), then SIGKILL if it takes over 10s. */
export async function stop(child: Child): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  child.process.kill('SIGTERM');
  const timer = setTimeout(() => child.process.kill('SIGKILL'), 10_000);
  await child.exited;
  clearTimeout(timer);
}
