--[[
  Records the outcome of an activity or timer (first result wins) and, when asked and the
  lease is free, takes the workflow-task lease so the caller can run the task inline.

  KEYS[1] meta hash   KEYS[2] history stream   KEYS[3] done set
  ARGV[1] runId       ARGV[2] seq              ARGV[3] event JSON
  ARGV[4] inline: 1 to take the lease when free    ARGV[5] lease ttl ms
  ARGV[6] cached fence ('' if none)                ARGV[7] cached last stream id ('' if none)
  ARGV[8] request id (a resent copy that took the lease gets it again, see lease-memo)

  Returns
    {0}                          ignored: run not running, another run, or seq already completed
                                 and its events already taken by a task
    {1}                          recorded; a task holds the lease and will see it
    {3}                          recorded; lease free, caller must enqueue a workflow task
    {2, fence, full, entries}    recorded and lease taken (see acquireLease)
]]
--- @include "now"
--- @include "due-check"
--- @include "acquire-lease"
--- @include "lease-memo"
--- @include "append-outcome"
local now = nowMs()
local memo = leaseMemo(KEYS[1], ARGV[8])
local appended
if memo then
  local again = leaseAgain(KEYS[1], KEYS[2], memo, now)
  if again[1] == 2 then return again end
  appended = 'dup' -- the lease it took has expired meanwhile: as for any duplicate
else
  appended = appendOutcome(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3])
end
return afterOutcome(KEYS[1], KEYS[2], appended, ARGV[4] == '1', now, tonumber(ARGV[5]), ARGV[6], ARGV[7], ARGV[8])
