-- Whether a workflow task holds a valid lease (set and not expired at `now`). A run waiting for
-- its concurrency slot counts as held: no task takes it, and writers record without waking it,
-- until the slot is granted (flowGranted.lua clears the mark; the events wait as `dirty`). So
-- does a debounced run before its start time (`startAt`): its delayed task comes then.
local function leaseHeld(metaKey, now)
  if redis.call('HEXISTS', metaKey, M.flowWait) == 1 then return true end
  local startAt = redis.call('HGET', metaKey, M.startAt)
  if startAt and tonumber(startAt) > now then return true end
  local lease = redis.call('HGET', metaKey, M.lease)
  return lease ~= false and lease ~= '' and tonumber(redis.call('HGET', metaKey, M.leaseExp) or '0') > now
end
-- What a writer outside a task answers once its event is recorded: OK when a task holds the
-- lease (it will see the event), else NEEDS_TASK (the caller enqueues one), with the build a
-- pinned run's tasks go to (its build's own queue; see build-pin).
local function wakeReply(metaKey, now)
  if leaseHeld(metaKey, now) then return {R.OK} end
  local pin = redis.call('HGET', metaKey, M.pinnedBuild)
  if pin then return {R.NEEDS_TASK, pin} end
  return {R.NEEDS_TASK}
end
