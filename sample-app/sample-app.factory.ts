import 'reflect-metadata';
import { ValidationPipe, type INestApplication, type LoggerService, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import type { AddressInfo } from 'node:net';
import type { DurableModuleOptions } from 'redurable';
import { SampleAppModule } from './app.module.js';

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

/** Builds and starts the money-transfer sample; used by `main.ts` and by the tests. */
export async function createSampleApp(options: SampleAppOptions): Promise<SampleApp> {
  const ledgerRedis = new Redis(options.redisUrl);
  ledgerRedis.on('error', () => undefined); // reconnects on its own; calls fail with the error
  const durable: DurableModuleOptions = {
    connection: options.redisUrl,
    prefix: options.prefix ?? 'redurable',
    ...(options.logger === false ? { logger: false } : {}),
    ...options.durable,
  };
  let app: INestApplication | undefined;
  try {
    app = await NestFactory.create(SampleAppModule.forRoot({ durable, ledgerRedis }), { logger: options.logger ?? undefined, abortOnError: false });
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
