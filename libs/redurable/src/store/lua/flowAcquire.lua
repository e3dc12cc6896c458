--[[
  Takes a slot of one (limit, key) for a holder (see includes/flow-slots).

  KEYS: holders, waiters, deadlines
  O: holder, limit, ttl? (ms; none: the slot never expires), priority (1..10), waiterTtl? (ms:
     a waiter not asking again within it is dropped; none: it stays), keyTtl (ms)

  A holder that holds a slot is granted again (a lost reply; its expiry is renewed). Otherwise
  it joins the waiters (once: a waiter keeps its place) and takes a free slot when it is among
  the first waiters for the free slots.

  Returns
    {OK}          granted
    {BUSY, ahead} refused: `ahead` waiters are before it
]]
--- @include "now"
--- @include "flow-slots"
local holders, waiters, deadlines = KEYS[1], KEYS[2], KEYS[3]
local now = nowMs()
dropLapsed(holders, waiters, deadlines, now)
local expiry = O.ttl and int(now + O.ttl) or '+inf'
if redis.call('ZSCORE', holders, O.holder) then
  redis.call('ZADD', holders, 'XX', expiry, O.holder)
  keep(holders, waiters, deadlines, O.keyTtl)
  return {R.OK}
end
redis.call('ZADD', waiters, 'NX', int(O.priority * 2^42 + now), O.holder)
if O.waiterTtl then redis.call('ZADD', deadlines, int(now + O.waiterTtl), O.holder) end
local rank = redis.call('ZRANK', waiters, O.holder)
if rank < O.limit - redis.call('ZCARD', holders) then
  redis.call('ZREM', waiters, O.holder)
  redis.call('ZREM', deadlines, O.holder)
  redis.call('ZADD', holders, expiry, O.holder)
  keep(holders, waiters, deadlines, O.keyTtl)
  return {R.OK}
end
keep(holders, waiters, deadlines, O.keyTtl)
return {R.BUSY, rank}
