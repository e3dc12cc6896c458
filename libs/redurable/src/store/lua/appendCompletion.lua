--[[
  Records the outcome of an activity, timer or child (first result wins) and, when asked and
  the lease is free, takes the workflow-task lease so the caller can run the task inline.

  KEYS: meta, history, done (of the run)
  ARGV[2]: the outcome event JSON
  O: runId, seq, inline (take the lease when free), ttl (lease ms),
     cacheFence?, cacheLastId?, requestId (a resent copy that took the lease gets it again,
     see lease-memo), workflowId, idx

  Returns
    {NOT_RUNNING}                ignored: run not running, another run, or seq already completed
                                 and its events already taken by a task
    {OK}                         recorded; a task holds the lease and will see it
    {NEEDS_TASK}                 recorded; lease free, caller must enqueue a workflow task
    {ACQUIRED, fence, full, entries}   recorded and lease taken (see acquireLease)
]]
--- @include "now"
--- @include "due-check"
--- @include "acquire-lease"
--- @include "lease-memo"
--- @include "append-outcome"
local now = nowMs()
local memo = leaseMemo(KEYS[1], O.requestId)
local appended
if memo then
  local again = leaseAgain(KEYS[1], KEYS[2], memo, now)
  if again[1] == R.ACQUIRED then return again end
  appended = 'dup' -- the lease it took has expired meanwhile: as for any duplicate
else
  appended = appendOutcome(KEYS[1], KEYS[2], KEYS[3], O.runId, O.seq, ARGV[2])
end
return afterOutcome(KEYS[1], KEYS[2], appended, O.inline, now, O.ttl, O.cacheFence, O.cacheLastId, O.requestId)
