--[[
  Appends the events a workflow task produced, fenced by the lease token, optionally closes
  the run (or continues it as new), and optionally releases the lease. A stale holder (fence
  moved on) writes nothing.

  The dispatch mark: a task that releases the lease before adding its jobs to BullMQ sets
  `dispatchAt`; if the process dies before the jobs exist, the recovery sweep sees an old
  mark and checks that the jobs exist, re-adding what is missing. Only a task that has
  re-dispatched everything outstanding (a replay), or the sweep having checked, clears it.

  KEYS: meta, history, done (of the run), nextHistory (continue-as-new; = history otherwise)
  O: fence, ttl (lease ms), release (give the lease up), closeStatus? ('' | completed | failed |
     compensation_failed | canceled | continued), closeValue? (result payload or failure JSON),
     closedChannel, lastId (the caller's last stream id, for returning new entries),
     dispatchMark? ('set' | 'clear'), retentionMs (of a closed run; 0 = forever), nextRunId?,
     nextStarted? (the next run's WorkflowExecutionStarted JSON), clean (the events hold local
     activities' outcomes: refuse if an event arrived since the caller's view), requestId (a
     resent copy returns the first reply, see lease-memo), sa? (the run's search attributes JSON
     after the events' upserts: replaces the meta's map and its index entries), workflowId, idx,
     runId? (with lastId, kept as the meta's `seen`: the code has run every event up to it, so
     a worker replaying the run logs nothing for them), claims? (seqs of the events' activities
     this worker runs eagerly: claimed for claimOwner for claimTtl ms, see activity-claims),
     pin? (the task ran a pinned type: a run not pinned yet is pinned to O.build, see build-pin)
  ARGV[2..]: event JSONs to append, in order

  Returns
    {LEASE_LOST}                  nothing written
    {CHANGED, kind, history}      clean and an event arrived: nothing written, the lease renewed
                                  and marked seen; the whole history as wholeHistory gives it
                                  (the caller replays it: its code saw local outcomes before
                                  that event, which the history would not say)
    {OK, lastId}                  committed (and released, or kept when not release)
    {OK, lastId, build}           committed and released; new events arrived, but the run was
                                  moved to `build` meanwhile (update-build): the caller enqueues
                                  a task on that build's queue
    {MORE, lastId, entries}       committed; new events arrived meanwhile, lease kept, entries
                                  after the caller's last id are returned for the next round
]]
--- @include "now"
--- @include "due-check"
--- @include "append-events"
--- @include "close-run"
--- @include "continue-run"
--- @include "lease-memo"
--- @include "search-index"
--- @include "activity-claims"
--- @include "build-pin"
local meta = KEYS[1]
local memo = leaseMemo(meta, O.requestId)
if memo then
  if memo[1] == R.MORE then return {R.MORE, memo[2], redis.call('XRANGE', KEYS[2], '(' .. O.lastId, memo[3])} end
  if memo[1] == R.CHANGED then
    local kind, history = wholeHistory(meta, KEYS[2])
    return {R.CHANGED, kind, history}
  end
  return memo
end
local fence = redis.call('HGET', meta, M.fence)
if redis.call('HGET', meta, M.status) ~= 'running' or fence ~= tostring(O.fence) or redis.call('HGET', meta, M.lease) ~= tostring(O.fence) then
  return {R.LEASE_LOST}
end
local now = nowMs()
if O.clean and redis.call('HGET', meta, M.dirty) == '1' then
  redis.call('HSET', meta, M.dirty, 0, M.leaseExp, now + O.ttl)
  setLeaseMemo(meta, O.requestId, {R.CHANGED})
  local kind, history = wholeHistory(meta, KEYS[2])
  return {R.CHANGED, kind, history}
end
local lastId = appendEvents(meta, KEYS[2], ARGV, 2, O.lastId)
if O.sa then setSearchAttributes(meta, O.workflowId, O.sa) end
redis.call('HDEL', meta, M.taskFailure, M.taskAttempt, M.retryAt)
pinOnCommit(meta)
if O.closeStatus == 'continued' then
  continueRun(meta, KEYS[2], KEYS[3], KEYS[4], O.nextRunId, O.nextStarted, O.retentionMs, now, O.workflowId, O.lastId)
  return setLeaseMemo(meta, O.requestId, {R.OK, lastId})
elseif O.closeStatus then
  closeRun(meta, KEYS[2], KEYS[3], O.closeStatus, O.closeValue, O.retentionMs, O.closedChannel, O.workflowId, now)
  return setLeaseMemo(meta, O.requestId, {R.OK, lastId})
end
checkSoon(meta, now) -- the run goes on: the sweep looks at it one lease ttl from now
if O.runId and O.lastId ~= '' then redis.call('HSET', meta, M.seen, O.runId .. '/' .. O.lastId) end
claimActivities(meta, O.runId, O.claims, O.claimOwner, O.claimTtl, now)
if O.dispatchMark == 'set' then
  redis.call('HSET', meta, M.dispatchAt, now)
elseif O.dispatchMark == 'clear' then
  redis.call('HDEL', meta, M.dispatchAt)
end
if not O.release then
  redis.call('HSET', meta, M.leaseExp, now + O.ttl)
  return setLeaseMemo(meta, O.requestId, {R.OK, lastId})
end
if redis.call('HGET', meta, M.dirty) == '1' then
  -- Moved to another build (update-build) while this task ran: the new events are its build's.
  local elsewhere = pinnedElsewhere(meta)
  if elsewhere then
    redis.call('HSET', meta, M.lease, '')
    return setLeaseMemo(meta, O.requestId, {R.OK, lastId, elsewhere})
  end
  redis.call('HSET', meta, M.dirty, 0, M.leaseExp, now + O.ttl)
  local entries = redis.call('XRANGE', KEYS[2], '(' .. O.lastId, '+')
  local tail = entries[#entries]
  setLeaseMemo(meta, O.requestId, {R.MORE, lastId, tail and tail[1] or O.lastId})
  return {R.MORE, lastId, entries}
end
redis.call('HSET', meta, M.lease, '')
return setLeaseMemo(meta, O.requestId, {R.OK, lastId})
