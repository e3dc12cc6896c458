--- @include "now"
--- @include "due-check"
--- @include "lease-held"
--- @include "acquire-lease"
--- @include "lease-memo"
--- @include "append-events"
--- @include "activity-claims"
-- Appends an activity/timer/child outcome to the current run, first result wins.
-- Returns 'closed' (nothing written) when the run is not running or is another run, 'dup' when
-- the seq already has its outcome (a retried job, or a copy resent after a lost reply), else
-- appends it, marks the workflow as having new events and returns 'ok'.
local function appendOutcome(metaKey, historyKey, doneKey, runId, seq, eventJson)
  if redis.call('HGET', metaKey, M.status) ~= 'running' or redis.call('HGET', metaKey, M.runId) ~= runId then return 'closed' end
  if redis.call('SADD', doneKey, tostring(seq)) == 0 then return 'dup' end
  dropClaim(metaKey, seq)
  appendFromOutside(metaKey, historyKey, eventJson, nowMs())
  return 'ok'
end
-- After an outcome was appended (or found already there): take the lease when `inline` and it is
-- free, else say whether a task must be enqueued. A duplicate whose events a task has already
-- seen (not dirty) needs nothing: {R.NOT_RUNNING}. One whose events nobody has taken yet is handled like a
-- new outcome, so a copy resent after a lost reply still gets the workflow moving.
local function afterOutcome(metaKey, historyKey, appended, inline, now, ttl, cacheFence, cacheLastId, requestId)
  if appended == 'closed' then return {R.NOT_RUNNING} end
  if appended == 'dup' and redis.call('HGET', metaKey, M.dirty) ~= '1' then return {R.NOT_RUNNING} end
  if inline then
    local acquired = acquireLease(metaKey, historyKey, now, ttl, cacheFence, cacheLastId)
    if acquired and acquired[1] == R.WRONG_BUILD then return {R.NEEDS_TASK, acquired[2]} end
    if acquired then
      setLeaseMemo(metaKey, requestId, {R.ACQUIRED, acquired[2]})
      return acquired
    end
    return {R.OK}
  end
  return wakeReply(metaKey, now)
end
