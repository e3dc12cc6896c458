import 'reflect-metadata';
import { ValidationPipe, type INestApplication, type LoggerService, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import type { AddressInfo } from 'node:net';
import type { DurableModuleOptions, Duration } from 'redurable';
import type { RedurableConsoleOptions } from 'redurable-console';
import { SampleAppModule } from './app.module.js';
import { DEFAULT_APPROVAL_LIMIT, DEFAULT_APPROVAL_TIMEOUT } from './transfers/transfer.types.js';
import type { TransfersConfig } from './transfers/transfers.config.js';

/** Options of {@link createSampleApp}. */
export interface SampleAppOptions {
  /** Redis for the workflows and the ledger. */
  redisUrl: string;
  /** HTTP port; 0 picks a free one. @default 3000 */
  port?: number;
  /** Interface to listen on. @default '127.0.0.1' (the console has no authentication) */
  host?: string;
  /** Key prefix of the library (the ledger's `bank:` keys do not use it). @default 'redurable' */
  prefix?: string;
  /** Nest logger; false silences the app and the library. @default Nest's logger */
  logger?: LoggerService | LogLevel[] | false;
  /** Extra DurableModule options (lease, sweep, ...). */
  durable?: Partial<DurableModuleOptions>;
  /** The console's `auth` and `readOnly` (the explorer is at /workflows, Bull Board at /queues). */
  console?: Omit<RedurableConsoleOptions, 'boardRoute' | 'explorerRoute'>;
  /** Transfers of a larger amount wait for `POST /transfers/:id/approve`. @default 10000 */
  approvalLimit?: number;
  /** How long they wait before they are refunded. @default '1 day' */
  approvalTimeout?: Duration;
}

/** A running sample app. */
export interface SampleApp {
  app: INestApplication;
  /** Base URL, for example `http://127.0.0.1:3000`. */
  url: string;
  port: number;
  /** Stops HTTP, drains the workers, then closes the ledger's connection. */
  close(): Promise<void>;
}

/** An option of {@link createSampleApp} is invalid; nothing was started. */
export class InvalidSampleOptionError extends Error {
  override name = 'InvalidSampleOptionError';
}

/** Builds and starts the money-transfer sample; used by `main.ts` and by the tests. */
export async function createSampleApp(options: SampleAppOptions): Promise<SampleApp> {
  const transfers = transfersConfig(options);
  const ledgerRedis = new Redis(options.redisUrl);
  ledgerRedis.on('error', () => undefined); // reconnects on its own; calls fail with the error
  const durable: DurableModuleOptions = {
    connection: options.redisUrl,
    prefix: options.prefix ?? 'redurable',
    metrics: true,
    ...(options.logger === false ? { logger: false } : {}),
    ...options.durable,
  };
  let app: INestApplication | undefined;
  try {
    app = await NestFactory.create(
      SampleAppModule.forRoot({ durable, ledgerRedis, transfers, console: options.console }),
      { logger: options.logger ?? undefined, abortOnError: false },
    );
    app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
    await app.listen(options.port ?? 3000, options.host ?? '127.0.0.1');
  } catch (err) {
    await app?.close().catch(() => undefined);
    await ledgerRedis.quit().catch(() => ledgerRedis.disconnect());
    throw err;
  }
  const started = app;
  const { port, address } = started.getHttpServer().address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  let closing: Promise<void> | undefined;
  return {
    app: started,
    url: `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`,
    port,
    close() {
      closing ??= (async () => {
        await started.close();
        await ledgerRedis.quit().catch(() => ledgerRedis.disconnect());
      })();
      return closing;
    },
  };
}

/** The approval settings, checked here so a bad value fails at startup rather than in every large transfer. */
function transfersConfig(options: SampleAppOptions): TransfersConfig {
  const approvalLimit = options.approvalLimit ?? DEFAULT_APPROVAL_LIMIT;
  const approvalTimeout = options.approvalTimeout ?? DEFAULT_APPROVAL_TIMEOUT;
  if (!Number.isSafeInteger(approvalLimit) || approvalLimit < 0) {
    throw new InvalidSampleOptionError(
      `approvalLimit must be a whole number, 0 or more (got ${JSON.stringify(options.approvalLimit)})`,
    );
  }
  const duration = /^\s*\d+(\.\d+)?\s*(ms|milliseconds?|s|sec|seconds?|m|min|minutes?|h|hours?|d|days?)?\s*$/i;
  const valid =
    typeof approvalTimeout === 'number'
      ? Number.isFinite(approvalTimeout) && approvalTimeout >= 0
      : duration.test(approvalTimeout);
  if (!valid)
    throw new InvalidSampleOptionError(
      `approvalTimeout must be milliseconds or a duration like '30s', '2h', '1 day' (got ${JSON.stringify(approvalTimeout)})`,
    );
  return { approvalLimit, approvalTimeout };
}
