--[[
  The index of the passes handling a schedule (see KeyNames.scheduleHolds): a member
  `<scheduleId>:<owner>` per pass waiting for or holding a schedule's lock, scored with the time
  (Redis' clock) until which its owner renews it. By `op`:
    hold  (re)scores the member to now + ttl (a pass lists itself before it takes the lock, and
          renews this before the lock: the score is never earlier than the lock's expiry, give
          or take a round trip)
    due   the members scored before now: passes that stopped renewing without unlisting (their
          process died or stalled); at most `limit`

  KEYS: holds
  O: op, member (hold), ttl (hold), limit (due)

  Returns OK (hold), or the members (due). Both may run twice (a resent copy): a later score
  only makes the sweep look later.
]]
--- @include "now"
if O.op == 'hold' then
  redis.call('ZADD', KEYS[1], nowMs() + O.ttl, O.member)
  return R.OK
end
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', nowMs(), 'LIMIT', 0, O.limit)
