/**
 * Lua scripts of the ledger. Each one is atomic, and debit/credit are idempotent: the
 * operation key (`KEYS[2]`) is written in the same script as the balance change, so a
 * retried call with the same idempotency key finds it and moves no money.
 *
 * Reply of debit and credit: `{ outcome, balance }` where outcome is
 * ok | replayed | missing | insufficient | frozen.
 */

/** KEYS: account hash, operation key. ARGV: amount, ttl seconds of the operation key. */
export const DEBIT_LUA = `
local prior = redis.call('GET', KEYS[2])
if prior then return {'replayed', prior} end
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing', '0'} end
local balance = tonumber(redis.call('HGET', KEYS[1], 'balance'))
local amount = tonumber(ARGV[1])
if balance < amount then return {'insufficient', tostring(balance)} end
local after = redis.call('HINCRBY', KEYS[1], 'balance', -amount)
redis.call('SET', KEYS[2], after, 'EX', ARGV[2])
return {'ok', tostring(after)}
`;

/** KEYS: account hash, operation key. ARGV: amount, ttl seconds, '1' to credit even a frozen account. */
export const CREDIT_LUA = `
local prior = redis.call('GET', KEYS[2])
if prior then return {'replayed', prior} end
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing', '0'} end
if ARGV[3] ~= '1' and redis.call('HGET', KEYS[1], 'frozen') == '1' then
  return {'frozen', redis.call('HGET', KEYS[1], 'balance')}
end
local after = redis.call('HINCRBY', KEYS[1], 'balance', ARGV[1])
redis.call('SET', KEYS[2], after, 'EX', ARGV[2])
return {'ok', tostring(after)}
`;

/** KEYS: account hash. ARGV: opening balance, created-at ms. Returns 1 when created, 0 when it exists. */
export const OPEN_ACCOUNT_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'balance', ARGV[1], 'frozen', '0', 'createdAt', ARGV[2])
return 1
`;

/** KEYS: account hash. ARGV: '1' to freeze, '0' to unfreeze. Returns 0 when the account does not exist. */
export const SET_FROZEN_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'frozen', ARGV[1])
return 1
`;
