import type { ChildProcess } from 'node:child_process';

/** Stops a child process gracefully (SIGTERM: a worker drains), SIGKILL if it takes over 10 s; nothing if it has exited. */
export async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
