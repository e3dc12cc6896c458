/** Injection token of the ioredis connection the ledger uses (owned by whoever creates the app). */
export const LEDGER_REDIS = Symbol('LEDGER_REDIS');
