-- Pinned runs (@Workflow({ versioning: 'pinned' })): the first workflow task a worker commits
-- for a run of a pinned type records that worker's build in the meta (`pin`); from then on only
-- workers of that build take the run's lease (others get WRONG_BUILD and hand the task to the
-- build's own queue), until `update-build` moves it. A new run of the id starts unpinned.

-- The build the run is pinned to when it is not the caller's (O.build), else nil; '' for a run
-- not pinned when the caller takes only runs pinned to its build (O.pinnedOnly: a worker whose
-- task queue a newer build took over, see WorkerHost.supersede), whose task goes back to the
-- task queue's shared queue.
local function pinnedElsewhere(metaKey)
  local pin = redis.call('HGET', metaKey, M.pinnedBuild)
  if pin and pin ~= O.build then return pin end
  if not pin and O.pinnedOnly then return '' end
  return nil
end
-- A commit of a task that ran a pinned type (O.pin) on a build (O.build) pins a run not pinned yet.
local function pinOnCommit(metaKey)
  if O.pin and O.build then redis.call('HSETNX', metaKey, M.pinnedBuild, O.build) end
end
