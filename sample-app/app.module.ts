import { Module, type DynamicModule } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { DurableModule, type DurableModuleOptions } from 'redurable';
import { RedurableConsoleModule, type RedurableConsoleOptions } from 'redurable-console';
import { AccountsController } from './accounts/accounts.controller.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { BankActivities } from './bank/bank.activities.js';
import { LedgerService } from './ledger/ledger.service.js';
import { LEDGER_REDIS } from './ledger/ledger.tokens.js';
import { TransferWorkflow } from './transfers/transfer.workflow.js';
import { TransfersController } from './transfers/transfers.controller.js';
import { TransfersService } from './transfers/transfers.service.js';
import { TRANSFERS_CONFIG, type TransfersConfig } from './transfers/transfers.config.js';

/** What the sample module needs: the library's options, the ledger's Redis connection, the transfers' approval settings. */
export interface SampleModuleOptions {
  durable: DurableModuleOptions;
  ledgerRedis: Redis;
  transfers: TransfersConfig;
  /** The console's options besides its routes (`auth`, `readOnly`). */
  console?: Omit<RedurableConsoleOptions, 'boardRoute' | 'explorerRoute'>;
}

/** The money-transfer sample: accounts, transfers, the workflow and its activities, and the console. */
@Module({})
export class SampleAppModule {
  static forRoot(options: SampleModuleOptions): DynamicModule {
    return {
      module: SampleAppModule,
      imports: [
        DurableModule.forRoot(options.durable),
        RedurableConsoleModule.forRoot({ boardRoute: '/queues', explorerRoute: '/workflows', ...options.console }),
      ],
      controllers: [AccountsController, TransfersController, MetricsController],
      providers: [
        { provide: LEDGER_REDIS, useValue: options.ledgerRedis },
        { provide: TRANSFERS_CONFIG, useValue: options.transfers },
        LedgerService,
        BankActivities,
        TransferWorkflow,
        TransfersService,
      ],
    };
  }
}
