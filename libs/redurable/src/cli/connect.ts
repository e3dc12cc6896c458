import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import type { WorkflowClient } from '../client/workflow-client.js';
import { toMs, type Duration } from '../core/duration.js';
import { resolveDurableOptions } from '../options.js';
import { DurableRuntime } from '../runtime.js';
import type { PayloadCodec } from '../core/payload/data-converter.js';
import type { RedisConnectionOption } from '../store/connection-option.js';

/** The options every subcommand takes. */
export interface ConnectionFlags {
  redis?: string;
  /** `host:port,host:port`: nodes of a Redis Cluster. */
  cluster?: string;
  prefix: string;
  timeout: string;
  codec?: string;
  /** The app's `taskTokenSecret`, when it sets one (the `activity` commands). */
  taskTokenSecret?: string;
}

/** A client-only runtime on the flags' Redis and prefix (no workers, no sweep). */
export interface CliSession {
  runtime: DurableRuntime;
  client: WorkflowClient;
  close(): Promise<void>;
}

/** Thrown for a command line that cannot work (exit code 2). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * Loads `--codec <module>`: an ES module whose default export (or `codec` export) is the app's
 * PayloadCodec, so payloads are shown decoded, as the app's workers see them.
 */
async function loadCodec(path: string): Promise<PayloadCodec> {
  const mod = (await import(pathToFileURL(resolve(path)).href)) as { default?: PayloadCodec; codec?: PayloadCodec };
  const codec = mod.codec ?? mod.default;
  if (!codec || typeof codec.encode !== 'function' || typeof codec.decode !== 'function') {
    throw new UsageError(
      `--codec ${path}: the module must export a PayloadCodec ({ encode, decode }) as its default export or as 'codec'`,
    );
  }
  return codec;
}

/** The Redis (or Cluster) the flags or the environment name. */
function connectionOf(flags: ConnectionFlags): RedisConnectionOption {
  const clusterNodes = flags.cluster ?? (flags.redis ? undefined : process.env.REDIS_CLUSTER);
  if (flags.redis && flags.cluster) throw new UsageError('pass either --redis or --cluster, not both');
  if (clusterNodes !== undefined) {
    const nodes = clusterNodes
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean)
      .map((n) => {
        const match = /^(.+):(\d+)$/.exec(n);
        if (!match)
          throw new UsageError(`--cluster: '${n}' is not host:port (give some nodes of the cluster, comma-separated)`);
        return { host: match[1], port: Number(match[2]) };
      });
    if (nodes.length === 0) throw new UsageError('--cluster: give some nodes of the cluster, host:port,host:port');
    return { cluster: nodes };
  }
  const url = flags.redis ?? process.env.REDIS_URL;
  if (!url)
    throw new UsageError(
      'no Redis to connect to: pass --redis redis://host:port (or --cluster host:port,...) or set REDIS_URL',
    );
  return url;
}

export async function connect(flags: ConnectionFlags): Promise<CliSession> {
  const connection = connectionOf(flags);
  const payloadCodec = flags.codec ? await loadCodec(flags.codec) : undefined;
  let connectTimeout: number;
  try {
    connectTimeout = toMs(flags.timeout as Duration); // text from the command line, checked here
  } catch (err) {
    throw new UsageError(`--timeout: ${(err as Error).message}`);
  }
  const runtime = new DurableRuntime(
    resolveDurableOptions({
      connection,
      prefix: flags.prefix,
      worker: false,
      logger: false,
      connectTimeout,
      ...(payloadCodec ? { payloadCodec } : {}),
      ...(flags.taskTokenSecret !== undefined ? { taskTokenSecret: flags.taskTokenSecret } : {}),
    }),
  );
  try {
    await runtime.link.ready('reach Redis');
    await runtime.checkLayout({ record: false });
  } catch (err) {
    await runtime.dispose();
    throw err;
  }
  return { runtime, client: runtime.client, close: () => runtime.close() };
}
