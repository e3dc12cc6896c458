import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedRedis, type EmbeddedRedis } from './embedded-redis.js';

/** A private Redis Cluster on free loopback ports, for tests. */
export interface EmbeddedCluster {
  /** `{ host, port }` of each master at creation, as ioredis' Cluster takes them. */
  readonly nodes: { host: string; port: number }[];
  /** Every server, masters and replicas (to stop one, as a failure would). */
  readonly servers: EmbeddedRedis[];
  stop(): Promise<void>;
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    child.once('error', reject);
    // 'close', not 'exit': a process may exit before its output has been read to the end.
    child.once('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${out}`)),
    );
  });
}

/**
 * Starts `masters` redis-servers with `--cluster-enabled yes` (and `replicas` more per master),
 * joins them with `redis-cli --cluster create`, and resolves once every node reports
 * `cluster_state:ok` (and, with replicas, once each master has its replica in sync).
 */
export async function startEmbeddedCluster(masters = 3, replicas = 0): Promise<EmbeddedCluster> {
  const root = mkdtempSync(join(tmpdir(), 'redurable-cluster-'));
  const servers: EmbeddedRedis[] = [];
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) {
      const dir = join(root, `node-${i}`);
      servers.push(
        await startEmbeddedRedis({
          dir,
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(dir, 'nodes.conf'),
            '--cluster-node-timeout',
            '2000',
          ],
        }),
      );
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...servers.map((s) => `127.0.0.1:${s.port}`),
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ]);
    const deadline = Date.now() + 15_000;
    for (;;) {
      const states = await Promise.all(servers.map((s) => run('redis-cli', ['-p', String(s.port), 'cluster', 'info'])));
      const replication = replicas
        ? await Promise.all(servers.map((s) => run('redis-cli', ['-p', String(s.port), 'info', 'replication'])))
        : [];
      const synced =
        replication.filter((info) => info.includes('role:slave') && info.includes('master_link_status:up')).length ===
        masters * replicas;
      if (states.every((info) => info.includes('cluster_state:ok')) && synced) break;
      if (Date.now() > deadline)
        throw new Error(`the cluster did not reach cluster_state:ok within 15s:\n${states.join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  // The masters, as the cluster sees them (`redis-cli --cluster create` picks which servers are replicas).
  const masterPorts = (await run('redis-cli', ['-p', String(servers[0].port), 'cluster', 'nodes']))
    .split('\n')
    .map((line) => line.split(' '))
    .filter((f) => f.length > 2 && f[2].split(',').includes('master'))
    .map((f) => Number(/:(\d+)@/.exec(f[1])?.[1]));
  if (masterPorts.length !== masters)
    throw new Error(`the cluster reports ${masterPorts.length} masters, expected ${masters}`);
  return {
    nodes: masterPorts.map((port) => ({ host: '127.0.0.1', port })),
    servers,
    async stop() {
      await Promise.all(servers.map((s) => s.stop()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}
