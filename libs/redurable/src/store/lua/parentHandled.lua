--[[
  A closed parent's children have had the parent-close policy: it leaves its shard's
  closed-parents index.

  KEYS: closedParentsIndex, closedParentsData (of the parent's shard)
  O: workflowId (the parent), idx
]]
redis.call('ZREM', KEYS[1], O.workflowId)
redis.call('HDEL', KEYS[2], O.workflowId)
return R.OK
