--- @include "due-check"
--- @include "set-status"
--- @include "append-events"
-- A run that ended keeps its history and done set for `retention` ms (0 = forever). The done set
-- outlives the run so that a restarted job of its last activity is not run again.
local function expireRun(historyKey, doneKey, retention)
  if retention > 0 then
    redis.call('PEXPIRE', historyKey, retention)
    redis.call('PEXPIRE', doneKey, retention)
  end
end
-- Closes a run: final status and value, lease released, history, meta and done set kept for
-- `retention` ms (0 = forever), and a message on the closed channel. What the parent of a
-- child, or the children of a parent, still need is copied into the index data hashes, so a
-- later run of the same id (which replaces the meta) cannot lose it.
local function closeRun(metaKey, historyKey, doneKey, status, value, retention, channel, workflowId, now)
  forgetCheck(metaKey)
  setStatus(metaKey, workflowId, status)
  redis.call('HSET', metaKey, M.closedAt, now, M.closeValue, value, M.lease, '', M.dirty, 0)
  redis.call('HDEL', metaKey, M.dispatchAt, M.taskFailure, M.taskAttempt, M.retryAt)
  if retention > 0 then redis.call('PEXPIRE', metaKey, retention) end
  expireRun(historyKey, doneKey, retention)
  local runId = redis.call('HGET', metaKey, M.runId)
  local parent = redis.call('HGET', metaKey, M.parent)
  if parent then
    redis.call('ZADD', O.idx .. I.notify, now, workflowId)
    redis.call('HSET', O.idx .. I.notifyData, workflowId,
      cjson.encode({ parent = cjson.decode(parent), status = status, value = value, runId = runId }))
  end
  -- A run with a concurrency slot (or waiting for one): its holder goes to the release index, so
  -- that the slot is freed even if whoever closed the run dies before freeing it (see flowReleaseIndex).
  local flow = redis.call('HGET', metaKey, M.flow)
  if flow then
    local holder = cjson.decode(flow).holder
    redis.call('ZADD', O.idx .. I.flowRelease, now, holder)
    redis.call('HSET', O.idx .. I.flowReleaseData, holder, flow)
    redis.call('HDEL', metaKey, M.flowWait)
    redis.call('ZREM', O.idx .. I.flowWaiting, workflowId)
  end
  redis.call('HDEL', metaKey, M.startAt, M.startBy) -- a debounced run closed before it began
  if redis.call('HEXISTS', metaKey, M.hasChildren) == 1 then
    redis.call('ZADD', O.idx .. I.closedParents, now, workflowId)
    redis.call('HSET', O.idx .. I.closedParentsData, workflowId, runId)
  end
  redis.call('PUBLISH', channel, workflowId)
end
-- closeRun's variant for a reset. The old run ends but the meta does not close: it goes on with
-- the new run (startNextRun gives it its status, lease and indexes), so neither its status, its
-- close fields nor its expiry are set, and no parent or child is told (the workflow still runs).
-- What belongs to the old run ends as in closeRun: a running one records `resetJson` and its
-- running activities are told to abort; its history and done set expire after `retention`; and
-- whoever waits for its result is told (they follow the reset to the new run).
-- Returns whether the old run was running.
local function closeRunForReset(metaKey, historyKey, doneKey, resetJson, retention, cancelChannel, closedChannel, workflowId)
  local running = redis.call('HGET', metaKey, M.status) == 'running'
  if running then
    appendEvent(metaKey, historyKey, resetJson)
    redis.call('PUBLISH', cancelChannel, 'terminate:' .. workflowId)
  end
  redis.call('PUBLISH', closedChannel, workflowId)
  expireRun(historyKey, doneKey, retention)
  return running
end
