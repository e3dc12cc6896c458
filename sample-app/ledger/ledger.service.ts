import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import {
  AccountExistsError,
  AccountFrozenError,
  AccountNotFoundError,
  InsufficientFundsError,
} from './ledger.errors.js';
import { CREDIT_LUA, DEBIT_LUA, OPEN_ACCOUNT_LUA, SET_FROZEN_LUA } from './ledger.scripts.js';
import { LEDGER_REDIS } from './ledger.tokens.js';

/** An account as the API shows it. Amounts are whole units (for example cents). */
export interface Account {
  id: string;
  balance: number;
  frozen: boolean;
}

/** The outcome of a debit or credit. `replayed` is true when the idempotency key had already been used. */
export interface LedgerReceipt {
  accountId: string;
  amount: number;
  balanceAfter: number;
  replayed: boolean;
}

type Outcome = [kind: 'ok' | 'replayed' | 'missing' | 'insufficient' | 'frozen', balance: string];

interface LedgerCommands {
  ledgerDebit(account: string, op: string, amount: number, ttl: number): Promise<Outcome>;
  ledgerCredit(account: string, op: string, amount: number, ttl: number, allowFrozen: '0' | '1'): Promise<Outcome>;
  ledgerOpen(account: string, balance: number, createdAt: number): Promise<number>;
  ledgerSetFrozen(account: string, frozen: '0' | '1'): Promise<number>;
}

/** How long an idempotency key is remembered: far longer than any retry schedule. */
const OPERATION_TTL_SECONDS = 7 * 24 * 3600;

/**
 * A toy bank ledger in Redis: one hash per account (`bank:{acct:<id>}`), and one key per
 * applied operation (`bank:{acct:<id>}:op:<idempotency key>`) in the same hash slot.
 * Debit and credit are single Lua scripts, so they are atomic and idempotent.
 */
@Injectable()
export class LedgerService {
  private readonly commands: LedgerCommands;

  constructor(@Inject(LEDGER_REDIS) private readonly redis: Redis) {
    redis.defineCommand('ledgerDebit', { numberOfKeys: 2, lua: DEBIT_LUA });
    redis.defineCommand('ledgerCredit', { numberOfKeys: 2, lua: CREDIT_LUA });
    redis.defineCommand('ledgerOpen', { numberOfKeys: 1, lua: OPEN_ACCOUNT_LUA });
    redis.defineCommand('ledgerSetFrozen', { numberOfKeys: 1, lua: SET_FROZEN_LUA });
    this.commands = redis as unknown as LedgerCommands;
  }

  /** Opens an account; throws AccountExistsError when the id is taken. */
  async open(id: string, balance: number): Promise<Account> {
    const created = await this.commands.ledgerOpen(accountKey(id), balance, Date.now());
    if (!created) throw new AccountExistsError(id);
    return { id, balance, frozen: false };
  }

  /** The account, or undefined when it does not exist. */
  async find(id: string): Promise<Account | undefined> {
    const fields = await this.redis.hgetall(accountKey(id));
    if (!fields.balance) return undefined;
    return { id, balance: Number(fields.balance), frozen: fields.frozen === '1' };
  }

  /** The account; throws AccountNotFoundError when it does not exist. */
  async get(id: string): Promise<Account> {
    const account = await this.find(id);
    if (!account) throw new AccountNotFoundError(id);
    return account;
  }

  /** Freezes (or unfreezes) an account: a frozen account refuses deposits. */
  async setFrozen(id: string, frozen: boolean): Promise<Account> {
    const ok = await this.commands.ledgerSetFrozen(accountKey(id), frozen ? '1' : '0');
    if (!ok) throw new AccountNotFoundError(id);
    return this.get(id);
  }

  /**
   * Takes `amount` from the account once per `idempotencyKey`. Throws InsufficientFundsError
   * (nothing debited) when the balance is too low, AccountNotFoundError when it does not exist.
   */
  async debit(id: string, amount: number, idempotencyKey: string): Promise<LedgerReceipt> {
    const [kind, balance] = await this.commands.ledgerDebit(
      accountKey(id),
      operationKey(id, idempotencyKey),
      amount,
      OPERATION_TTL_SECONDS,
    );
    if (kind === 'missing') throw new AccountNotFoundError(id);
    if (kind === 'insufficient') throw new InsufficientFundsError(id, Number(balance), amount);
    return { accountId: id, amount, balanceAfter: Number(balance), replayed: kind === 'replayed' };
  }

  /**
   * Adds `amount` to the account once per `idempotencyKey`. Throws AccountFrozenError when the
   * account is frozen (unless `allowFrozen`, used for refunds), AccountNotFoundError when it does not exist.
   */
  async credit(
    id: string,
    amount: number,
    idempotencyKey: string,
    options: { allowFrozen?: boolean } = {},
  ): Promise<LedgerReceipt> {
    const [kind, balance] = await this.commands.ledgerCredit(
      accountKey(id),
      operationKey(id, idempotencyKey),
      amount,
      OPERATION_TTL_SECONDS,
      options.allowFrozen ? '1' : '0',
    );
    if (kind === 'missing') throw new AccountNotFoundError(id);
    if (kind === 'frozen') throw new AccountFrozenError(id);
    return { accountId: id, amount, balanceAfter: Number(balance), replayed: kind === 'replayed' };
  }
}

function accountKey(id: string): string {
  return `bank:{acct:${id}}`;
}

function operationKey(id: string, idempotencyKey: string): string {
  return `bank:{acct:${id}}:op:${idempotencyKey}`;
}
