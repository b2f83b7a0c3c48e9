-- Puts admitted deliveries back at the head of their lanes without an attempt, and puts their
-- endpoints to sleep: a worker found the receiver's address at its cap (why 'address': the worker
-- wakes the endpoint when the address frees a slot), or the endpoint's rate limit puts its next send
-- far off (why 'rate': a changed limit wakes it, L.configureEndpoint), or its subscriber failed too
-- many TLS handshakes in that worker lately (why 'tls': nothing wakes it early). `untilMs` is the
-- latest it sleeps. The parks a worker makes in one event-loop turn come in one call (LaneStore.park), in the
-- order it made them, which for one job's deliveries is their order in the job when they reach
-- their receiver together: they are pushed to the head last first, so that the lane gives them out
-- in that order again. One at a time, each pushed in front of the one parked before it, a job's
-- deliveries came back newest first; they still do when the lane's slots are all taken and its
-- deliveries reach their receiver one release apart, each in a turn of its own.
-- Loaded after lanes.lua.
-- ARGV: schedPrefix, nowMs, then per park: jobId (`<deliveryId>-<ticket>`), untilMs, why
--   ('address', 'rate' or 'tls')
-- Returns, per park in order, 1 when parked, 0 when the job's ticket is stale (the delivery had
-- moved on).
L.init(ARGV[1], ARGV[2])
local out = {}
-- An endpoint parked more than once in the call sleeps until the latest time given, for its reason.
local asleepUntil = {}
for i = #ARGV - 2, 3, -3 do
  local x, id = L.current(ARGV[i])
  local n = (i - 3) / 3 + 1
  out[n] = x and 1 or 0
  if x then
    L.release(id, x.endpointId, x.subscriberId)
    local untilMs = tonumber(ARGV[i + 1])
    if not asleepUntil[x.endpointId] or untilMs > asleepUntil[x.endpointId] then
      asleepUntil[x.endpointId] = untilMs
      local why = ARGV[i + 2]
      L.sleepEndpoint(x.endpointId, x.subscriberId, L.class(x.endpointId), untilMs, (why == 'rate' or why == 'tls') and why or 'address')
    end
    L.pushReady(L.bump(id, x), x, true)
  end
end
return out
