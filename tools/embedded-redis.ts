/**
 * Starts a private `redis-server` for `npm start`, the tests and the benchmarks.
 *
 * The server listens on 127.0.0.1 on a free port (never 6379), keeps its data
 * in its own directory, and is stopped when the owning process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Thrown when `redis-server` is not on PATH and no `REDIS_URL` was given. */
export class RedisNotInstalledError extends Error {
  override readonly name = 'RedisNotInstalledError';
  constructor() {
    super(
      'redis-server was not found on PATH: install Redis (Debian/Ubuntu: `apt-get install redis-server`, macOS: `brew install redis`) or set REDIS_URL=redis://host:port',
    );
  }
}

export interface EmbeddedRedisOptions {
  /** Data directory. @default a fresh temporary directory, removed on stop */
  dir?: string;
  /** Turn on the append-only file. @default false */
  appendOnly?: boolean;
  /** AOF fsync policy when appendOnly is on. @default 'everysec' */
  appendFsync?: 'always' | 'everysec' | 'no';
  /** Port to listen on (to restart a server where it was). @default a free port */
  port?: number;
  /** More redis-server arguments, for example `['--maxmemory-policy', 'allkeys-lru']`. */
  args?: string[];
}

export interface EmbeddedRedis {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** Stops the server (SIGTERM, or SIGKILL to simulate a crash) and waits for it to exit. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
}

/** A free TCP port on 127.0.0.1, chosen by the OS. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(500);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** Starts redis-server and resolves once it answers PING. */
export async function startEmbeddedRedis(options: EmbeddedRedisOptions = {}): Promise<EmbeddedRedis> {
  const ownsDir = !options.dir;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'redurable-redis-'));
  mkdirSync(dir, { recursive: true });
  const port = options.port ?? (await freePort());
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--maxmemory-policy',
    'noeviction',
    '--daemonize',
    'no',
    '--appendonly',
    options.appendOnly ? 'yes' : 'no',
    '--appendfsync',
    options.appendFsync ?? 'everysec',
    '--loglevel',
    'warning',
    '--logfile',
    join(dir, 'redis.log'),
    // Blocked clients (BullMQ's wait for delayed jobs) time out on Redis' server tick: 10ms, not 100ms.
    '--hz',
    '100',
    ...(options.args ?? []),
  ];
  const child: ChildProcess = spawn('redis-server', args, { stdio: 'ignore' });
  const spawnError = new Promise<never>((_, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ENOENT' ? new RedisNotInstalledError() : err),
    );
    child.once('exit', (code) =>
      reject(new Error(`redis-server exited with code ${code}; see ${join(dir, 'redis.log')}`)),
    );
  });
  spawnError.catch(() => undefined);
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const deadline = Date.now() + 10_000;
  for (;;) {
    const ready = await Promise.race([ping(port), spawnError]);
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port} within 10s`);
    await new Promise((r) => setTimeout(r, 25));
  }

  let stopped = false;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    async stop(signal = 'SIGTERM') {
      if (stopped) return;
      stopped = true;
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill(signal);
        await exited;
      }
      if (ownsDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
