--- @include "due-check"
--- @include "set-status"
-- A new run of the same workflow on its meta (continue-as-new, reset), whose history is already
-- written and holds `len` events: the meta's run fields move to it, what belonged to the old run
-- (dispatch mark, task failure, close fields, children) goes, and it waits for its first
-- workflow task. The fence keeps growing, and type, task queue, parent, checkAfter and the build
-- pin stay (a reset run replays the old run's events: its build runs it; continue-as-new unpins).
local function startNextRun(metaKey, newRunId, len, now, workflowId)
  redis.call('HSET', metaKey, M.runId, newRunId, M.startedAt, now, M.historyLength, len, M.dirty, 1, M.lease, '', M.leaseExp, 0)
  redis.call('HDEL', metaKey, M.dispatchAt, M.taskFailure, M.taskAttempt, M.retryAt, M.closeValue, M.closedAt, M.hasChildren, M.startAt, M.startBy)
  setStatus(metaKey, workflowId, 'running')
  checkSoon(metaKey, now)
end
