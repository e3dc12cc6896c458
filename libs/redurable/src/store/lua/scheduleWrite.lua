--[[
  Writes a schedule's state (with its definition, for create and update) and the actions it
  took, while the schedule's lock is the writer's: a pass that outlived its lock (a stalled
  process) writes nothing, so the state another process wrote since stands.

  KEYS: lock, state, actions
  O: owner, writeId (unique per write), state (JSON), def? (JSON), keep (actions kept)
  ARGV[2..]: the actions taken, JSON each, oldest first

  Returns OK (written), or BUSY (the lock is not the writer's: nothing written). A copy resent
  after a lost reply finds its writeId on the state and writes nothing more (no action twice).
]]
if redis.call('HGET', KEYS[2], 'wid') == O.writeId then return R.OK end
if redis.call('GET', KEYS[1]) ~= O.owner then return R.BUSY end
if O.def then
  redis.call('HSET', KEYS[2], 'def', O.def, 'state', O.state, 'wid', O.writeId)
else
  redis.call('HSET', KEYS[2], 'state', O.state, 'wid', O.writeId)
end
if #ARGV > 1 then
  redis.call('LPUSH', KEYS[3], unpack(ARGV, 2))
  redis.call('LTRIM', KEYS[3], 0, O.keep - 1)
end
return R.OK
