/**
 * One worker process of the flow-control soak (flow-soak.ts): the soak's module with workers on
 * (env REDIS_URL, PREFIX, WORKER_NAME). The library's warnings and errors go to stderr, one line
 * each with the worker's name, for the soak's log. Prints "ready" once its workers run.
 */
import { NestFactory } from '@nestjs/core';
import type { RedurableLogger } from 'redurable';
import { flowSoakModule } from './flow-soak-app.js';

const name = process.env.WORKER_NAME ?? String(process.pid);
const line = (level: string, message: string) =>
  process.stderr.write(`${new Date().toISOString()} ${name} ${level} ${message.replace(/\n/g, ' | ')}\n`);
const logger: RedurableLogger = {
  log: () => undefined,
  warn: (m) => line('warn', m),
  error: (m, stack) => line('error', stack ? `${m} ${stack}` : m),
};

const app = await NestFactory.createApplicationContext(
  flowSoakModule(process.env.REDIS_URL!, process.env.PREFIX!, true, logger),
  { logger: false },
);
app.enableShutdownHooks();
await app.init();
process.stdout.write('ready\n');
