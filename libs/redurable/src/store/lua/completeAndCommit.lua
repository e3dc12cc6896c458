--[[
  The steady-state step in one script. A worker that holds the workflow's execution in its
  cache has already fed it the activity's (or timer's) outcome; this records that outcome
  and the commands it produced together, provided nobody touched the workflow since the
  worker's last task. Otherwise it records only the outcome, like appendCompletion, and the
  worker falls back to a normal task. "Nobody touched it" means: lease free, fence unchanged,
  and no event (signal, cancellation, another outcome) appended since that task, so the
  worker saw every event in history order.

  KEYS: meta, history, done (of the run), nextHistory (continue-as-new; = history otherwise)
  O: runId, seq, cachedFence (the worker's), ttl (lease ms),
     closeStatus?, closeValue?, closedChannel, dispatch (set the dispatch mark), retentionMs,
     nextRunId?, nextStarted?, keepLease (the lease the commit takes stays with the caller, who
     goes on with local activities under it), requestId (a resent copy returns the first reply,
     see lease-memo), sa? (search attributes JSON after the commands' upserts, see commitTask),
     workflowId, idx, claims? (seqs of the commands' activities this worker runs eagerly: claimed
     for claimOwner for claimTtl ms, see activity-claims), pin? (as commitTask)
  ARGV[2]: the outcome event JSON; ARGV[3..]: command event JSONs

  Returns
    {COMMITTED, fence, lastId}   outcome and commands committed under a new fence; lease free
                                 (or held under that fence with keepLease)
    {NOT_RUNNING} | {OK} | {NEEDS_TASK} | {ACQUIRED, ...}   as appendCompletion: ignored,
                                 recorded (lease busy), recorded (needs a task), recorded and
                                 lease taken
]]
--- @include "now"
--- @include "due-check"
--- @include "lease-held"
--- @include "acquire-lease"
--- @include "append-events"
--- @include "close-run"
--- @include "continue-run"
--- @include "lease-memo"
--- @include "append-outcome"
--- @include "search-index"
--- @include "activity-claims"
--- @include "build-pin"
local meta = KEYS[1]
local now = nowMs()
local memo = leaseMemo(meta, O.requestId)
if memo then
  if memo[1] == R.COMMITTED then return memo end
  local again = leaseAgain(meta, KEYS[2], memo, now)
  if again[1] == R.ACQUIRED then return again end
  -- the lease it took has expired meanwhile: as for any duplicate
  return afterOutcome(meta, KEYS[2], 'dup', true, now, O.ttl, nil, nil, O.requestId)
end
if redis.call('HGET', meta, M.status) ~= 'running' or redis.call('HGET', meta, M.runId) ~= O.runId then
  return {R.NOT_RUNNING}
end
local leaseFree = not leaseHeld(meta, now)
local fence = tonumber(redis.call('HGET', meta, M.fence))
if leaseFree and fence == O.cachedFence and redis.call('HGET', meta, M.dirty) ~= '1' and not pinnedElsewhere(meta) then
  if redis.call('SADD', KEYS[3], tostring(O.seq)) == 0 then return {R.NOT_RUNNING} end
  dropClaim(meta, O.seq)
  pinOnCommit(meta)
  fence = redis.call('HINCRBY', meta, M.fence, 1)
  local lastId = appendEvents(meta, KEYS[2], ARGV, 2, '')
  if O.sa then setSearchAttributes(meta, O.workflowId, O.sa) end
  if O.closeStatus == 'continued' then
    continueRun(meta, KEYS[2], KEYS[3], KEYS[4], O.nextRunId, O.nextStarted, O.retentionMs, now, O.workflowId, nil)
  elseif O.closeStatus then
    closeRun(meta, KEYS[2], KEYS[3], O.closeStatus, O.closeValue, O.retentionMs, O.closedChannel, O.workflowId, now)
  else
    if O.keepLease then
      redis.call('HSET', meta, M.lease, fence, M.leaseExp, now + O.ttl, M.dirty, 0)
    else
      redis.call('HSET', meta, M.lease, '', M.dirty, 0)
    end
    if O.dispatch then redis.call('HSET', meta, M.dispatchAt, now) end
    redis.call('HSET', meta, M.seen, O.runId .. '/' .. lastId) -- the code has run the outcome (see commitTask)
    claimActivities(meta, O.runId, O.claims, O.claimOwner, O.claimTtl, now)
    checkSoon(meta, now)
  end
  return setLeaseMemo(meta, O.requestId, {R.COMMITTED, fence, lastId})
end
-- Someone else moved the workflow on: record the outcome only, as appendCompletion does.
local appended = appendOutcome(meta, KEYS[2], KEYS[3], O.runId, O.seq, ARGV[2])
return afterOutcome(meta, KEYS[2], appended, true, now, O.ttl, nil, nil, O.requestId)
