--[[
  Claims the recovery sweep of one shard's due index of a task queue, so that several workers
  split the shards between them: free or already this owner's, it is (re)claimed for `ttl` ms;
  with `release`, the owner gives it back.

  KEYS: lock
  O: owner, ttl, release

  Returns OK when this owner holds it (or released it), BUSY when another owner holds it.
]]
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= O.owner then return R.BUSY end
if O.release then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], O.owner, 'PX', O.ttl)
end
return R.OK
