--[[
  A closed child's outcome has reached its parent: it leaves its shard's notify index.

  KEYS: notifyIndex, notifyData (of the child's shard)
  O: workflowId (the child), idx
]]
redis.call('ZREM', KEYS[1], O.workflowId)
redis.call('HDEL', KEYS[2], O.workflowId)
return R.OK
