/**
 * Counts the fsync'd writes a redis-server makes while some work runs: `strace -c` attached to
 * the server's process, counting its fsync and fdatasync calls (with `appendfsync always` Redis
 * calls one per event-loop turn that wrote, before it replies). Needs strace and the right to
 * trace the server (root, or the same user with ptrace allowed); `undefined` otherwise.
 */
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { sleepMs } from './stats.js';

/** The server's fsync + fdatasync calls while `work` ran, or undefined when strace cannot attach. */
export async function countFsyncs(url: string, work: () => Promise<void>): Promise<number | undefined> {
  const admin = new Redis(url);
  const pid = /process_id:(\d+)/.exec(await admin.info('server'))?.[1];
  await admin.quit();
  if (!pid) return undefined;
  const tracer = spawn('strace', ['-f', '-c', '-e', 'trace=fsync,fdatasync', '-p', pid], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  tracer.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => {
    tracer.once('error', () => resolve(-1));
    tracer.once('exit', (code) => resolve(code));
  });
  // strace prints "Process N attached" once it traces the server.
  for (const deadline = Date.now() + 3000; !output.includes('attached');) {
    if (Date.now() > deadline || tracer.exitCode !== null) {
      tracer.kill('SIGKILL');
      await exited;
      return undefined;
    }
    await sleepMs(10);
  }
  await work();
  tracer.kill('SIGINT');
  if ((await exited) === -1) return undefined;
  let calls = 0;
  for (const m of output.matchAll(/^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(fsync|fdatasync)\s*$/gm))
    calls += Number(m[1]);
  return calls;
}
