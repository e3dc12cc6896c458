--[[
  Extends a holder's slot of one (limit, key) to ttl from now (see includes/flow-slots).

  KEYS: holders, waiters, deadlines
  O: holder, ttl (ms), keyTtl (ms)

  Returns
    {OK}           renewed
    {NOT_RUNNING}  the holder holds no slot (it lapsed and was dropped): nothing written
]]
--- @include "now"
--- @include "flow-slots"
local holders, waiters, deadlines = KEYS[1], KEYS[2], KEYS[3]
if not redis.call('ZSCORE', holders, O.holder) then return {R.NOT_RUNNING} end
redis.call('ZADD', holders, 'XX', int(nowMs() + O.ttl), O.holder)
keep(holders, waiters, deadlines, O.keyTtl)
return {R.OK}
