/**
 * `npm start`: the money-transfer sample on http://127.0.0.1:3000.
 *
 * Env: REDIS_URL (default: an embedded redis-server with its data and AOF in .redurable/redis),
 * PORT (default 3000), HOST (default 127.0.0.1), REDURABLE_PREFIX (default 'redurable'),
 * APPROVAL_LIMIT (default 10000: larger transfers wait for an approval), APPROVAL_TIMEOUT (default '1 day').
 */
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Duration } from 'redurable';
import { RedisNotInstalledError, startEmbeddedRedis, type EmbeddedRedis } from '../tools/embedded-redis.js';
import { InvalidSampleOptionError, createSampleApp, type SampleApp } from './sample-app.factory.js';

/** The directory holding package.json, above this file (works from sources and from dist/). */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

function parsePort(value: string | undefined): number {
  const port = Number(value ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    fail(`PORT must be a TCP port number (got ${JSON.stringify(value)})`);
  return port;
}

function parseApprovalLimit(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const limit = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(limit))
    fail(`APPROVAL_LIMIT must be a whole number, 0 or more (got ${JSON.stringify(value)})`);
  return limit;
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  const logger = new Logger('Sample');
  const port = parsePort(process.env.PORT);
  const approvalLimit = parseApprovalLimit(process.env.APPROVAL_LIMIT);
  const approvalTimeout = (process.env.APPROVAL_TIMEOUT || undefined) as Duration | undefined; // checked by createSampleApp
  let redis: EmbeddedRedis | undefined;
  let redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    const dir = join(projectRoot(), '.redurable', 'redis');
    try {
      redis = await startEmbeddedRedis({ dir, appendOnly: true });
    } catch (err) {
      fail(
        err instanceof RedisNotInstalledError ? err.message : `could not start redis-server: ${(err as Error).message}`,
      );
    }
    redisUrl = redis.url;
    logger.log(`Started redis-server at ${redisUrl} (data and AOF in ${relative(process.cwd(), dir) || dir})`);
  }

  let sample: SampleApp;
  try {
    sample = await createSampleApp({
      redisUrl,
      port,
      host: process.env.HOST ?? '127.0.0.1',
      prefix: process.env.REDURABLE_PREFIX,
      approvalLimit,
      approvalTimeout,
    });
  } catch (err) {
    await redis?.stop();
    const e = err as NodeJS.ErrnoException;
    if (e instanceof InvalidSampleOptionError) fail(`${e.message} (from APPROVAL_LIMIT / APPROVAL_TIMEOUT)`);
    fail(
      e.code === 'EADDRINUSE'
        ? `port ${port} is already in use: set PORT to another port`
        : `the sample app failed to start: ${e.stack ?? e}`,
    );
  }

  // Nest runs every shutdown hook on SIGINT/SIGTERM (HTTP stops, workers drain), then re-raises
  // the signal. Our own listener stays registered, so the re-raised signal does not kill the
  // process: it waits for the same shutdown, then stops the embedded redis and exits.
  sample.app.enableShutdownHooks();
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal}: stopping`);
    void (async () => {
      try {
        await sample.close();
        await redis?.stop();
        logger.log('Stopped');
        process.exit(0);
      } catch (err) {
        process.stderr.write(`error while stopping: ${(err as Error).stack ?? err}\n`);
        process.exit(1);
      }
    })();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  const { url } = sample;
  logger.log(`Money-transfer sample listening on ${url}`);
  logger.log(`  API:       POST ${url}/accounts  GET ${url}/accounts/:id  POST ${url}/accounts/:id/freeze`);
  logger.log(`             POST ${url}/transfers  GET ${url}/transfers/:id  GET ${url}/transfers/:id/stage`);
  logger.log(`             POST ${url}/transfers/:id/approve|reject {"by":"..."}  POST ${url}/transfers/:id/cancel`);
  logger.log(`  Queues:    ${url}/queues  (Bull Board)`);
  logger.log(`  Metrics:   ${url}/metrics  (Prometheus)`);
  logger.log(`  Workflows: ${url}/workflows  (the explorer; its JSON API: ${url}/api/workflows)`);
  logger.log(
    `Try: curl -s -XPOST ${url}/accounts -H 'content-type: application/json' -d '{"id":"alice","balance":1000}'`,
  );
}

void main().catch((err: Error) => fail(`the sample app failed: ${err.stack ?? err}`));
