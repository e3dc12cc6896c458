import { Body, ConflictException, Controller, Get, HttpCode, NotFoundException, Param, Post } from '@nestjs/common';
import { AccountExistsError, AccountNotFoundError } from '../ledger/ledger.errors.js';
import { LedgerService, type Account } from '../ledger/ledger.service.js';
import { CreateAccountDto } from './create-account.dto.js';

/** Opening, reading and freezing accounts. */
@Controller('accounts')
export class AccountsController {
  constructor(private readonly ledger: LedgerService) {}

  @Post()
  open(@Body() body: CreateAccountDto): Promise<Account> {
    return httpErrors(() => this.ledger.open(body.id, body.balance));
  }

  @Get(':id')
  get(@Param('id') id: string): Promise<Account> {
    return httpErrors(() => this.ledger.get(id));
  }

  /** A frozen account refuses deposits: transfers to it are refunded. */
  @Post(':id/freeze')
  @HttpCode(200)
  freeze(@Param('id') id: string): Promise<Account> {
    return httpErrors(() => this.ledger.setFrozen(id, true));
  }

  @Post(':id/unfreeze')
  @HttpCode(200)
  unfreeze(@Param('id') id: string): Promise<Account> {
    return httpErrors(() => this.ledger.setFrozen(id, false));
  }
}

async function httpErrors<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof AccountNotFoundError) throw new NotFoundException(err.message);
    if (err instanceof AccountExistsError) throw new ConflictException(err.message);
    throw err;
  }
}
