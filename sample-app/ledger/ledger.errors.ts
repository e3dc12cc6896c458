/** Base class of the ledger's business errors. */
export class LedgerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** No account with that id. */
export class AccountNotFoundError extends LedgerError {
  constructor(readonly accountId: string) {
    super(`account ${accountId} does not exist`);
  }
}

/** An account with that id already exists. */
export class AccountExistsError extends LedgerError {
  constructor(readonly accountId: string) {
    super(`account ${accountId} already exists`);
  }
}

/** A debit asked for more than the balance. Nothing was debited. */
export class InsufficientFundsError extends LedgerError {
  constructor(
    readonly accountId: string,
    readonly balance: number,
    readonly amount: number,
  ) {
    super(`insufficient funds in account ${accountId}: balance ${balance}, needs ${amount}`);
  }
}

/** The account is frozen: it accepts no deposits. Nothing was credited. */
export class AccountFrozenError extends LedgerError {
  constructor(readonly accountId: string) {
    super(`account ${accountId} is frozen`);
  }
}
