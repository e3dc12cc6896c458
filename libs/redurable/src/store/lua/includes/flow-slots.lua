-- The slots of one (limit, key) (see store/flow-store.ts): KEYS[1] holders (a sorted set, holder
-- id → when its slot expires, `+inf` for one that never does), KEYS[2] waiters (holder id →
-- priority * 2^42 + arrival ms: by priority, then first come), KEYS[3] waiter deadlines (holder
-- id → when a waiter that has not asked again is dropped; a waiter without one stays).

-- Frees the slots of holders whose expiry passed and drops waiters gone silent.
local function dropLapsed(holders, waiters, deadlines, now)
  redis.call('ZREMRANGEBYSCORE', holders, '-inf', now)
  local gone = redis.call('ZRANGEBYSCORE', deadlines, '-inf', now)
  if #gone > 0 then
    redis.call('ZREM', waiters, unpack(gone))
    redis.call('ZREM', deadlines, unpack(gone))
  end
end

-- An integer as Redis should read it (tostring would print a large one in exponent form).
local function int(n)
  return string.format('%.0f', n)
end

-- Unused keys disappear `keyTtl` after their last write; a key whose holders or waiters never
-- lapse by themselves (a workflow's) stays while they are there.
local function keep(holders, waiters, deadlines, keyTtl)
  local lasting = redis.call('ZCOUNT', holders, '+inf', '+inf') > 0
    or redis.call('ZCARD', waiters) > redis.call('ZCARD', deadlines)
  for _, key in ipairs({holders, waiters, deadlines}) do
    if lasting then redis.call('PERSIST', key) else redis.call('PEXPIRE', key, keyTtl) end
  end
end
