--[[
  The recovery sweep's verdict on a workflow it looked at: when to look again. Written only
  if nothing changed since the sweep read it (same run, history length, fence and lease). If
  something changed, that change meant "look again within checkAfter": the check moves to
  then (never earlier than it is), so a busy workflow does not stay due and crowd out others.

  KEYS: meta, dueIndex (the due index the sweep read)
  O: runId?, len?, fence?, lease? (as the sweep read them; no runId when the workflow was
     missing or closed), nextAt? (next check time, ms; absent when nothing is outstanding:
     leave the index), clearDispatch (the sweep found every job of the last commit in place:
     clear the dispatch mark), workflowId, idx

  Returns OK when the verdict was written, CHANGED when the workflow changed meanwhile,
  NOT_RUNNING when it is not running (it left the index).
]]
--- @include "now"
local m = redis.call('HMGET', KEYS[1], M.status, M.runId, M.historyLength, M.fence, M.lease, M.checkAfter)
if m[1] ~= 'running' then
  redis.call('ZREM', KEYS[2], O.workflowId)
  return R.NOT_RUNNING
end
if m[2] ~= O.runId or m[3] ~= tostring(O.len) or (m[4] or '0') ~= tostring(O.fence) or (m[5] or '') ~= (O.lease or '') then
  redis.call('ZADD', KEYS[2], 'GT', nowMs() + tonumber(m[6] or '30000'), O.workflowId)
  return R.CHANGED
end
if O.clearDispatch then redis.call('HDEL', KEYS[1], M.dispatchAt) end
if O.nextAt then
  redis.call('ZADD', KEYS[2], O.nextAt, O.workflowId)
else
  redis.call('ZREM', KEYS[2], O.workflowId)
end
return R.OK
