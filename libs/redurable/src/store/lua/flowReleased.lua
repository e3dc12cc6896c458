--[[
  The slot of a closed run's holder is free: the holder leaves its shard's release index.

  KEYS: releaseIndex, releaseData (of the workflow's shard)
  O: holder, workflowId, idx
]]
redis.call('ZREM', KEYS[1], O.holder)
redis.call('HDEL', KEYS[2], O.holder)
return R.OK
