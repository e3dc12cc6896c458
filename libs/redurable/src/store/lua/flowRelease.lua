--[[
  Frees a holder's slot of one (limit, key), or its place among the waiters (see
  includes/flow-slots). Idempotent: a holder that holds nothing is left as it is.

  KEYS: holders, waiters, deadlines
  O: holder, limit? (names the waiters to wake), keyTtl (ms)

  Returns
    {OK, released, wake}  released: 1 when the holder held a slot or waited; wake: the waiters
                          first in line for the free slots (none without `limit`)
]]
--- @include "now"
--- @include "flow-slots"
local holders, waiters, deadlines = KEYS[1], KEYS[2], KEYS[3]
local released = redis.call('ZREM', holders, O.holder) + redis.call('ZREM', waiters, O.holder)
redis.call('ZREM', deadlines, O.holder)
dropLapsed(holders, waiters, deadlines, nowMs())
local wake = {}
if O.limit then
  local free = O.limit - redis.call('ZCARD', holders)
  if free > 0 then wake = redis.call('ZRANGE', waiters, 0, free - 1) end
end
keep(holders, waiters, deadlines, O.keyTtl)
return {R.OK, released > 0 and 1 or 0, wake}
