-- Puts an admitted delivery back at the head of its lane without an attempt, and puts its endpoint
-- to sleep: a worker found the receiver's address at its cap (why 'address': the worker wakes the
-- endpoint when the address frees a slot), or the endpoint's rate limit puts its next send far off
-- (why 'rate': a changed limit wakes it, L.configureEndpoint). `untilMs` is the latest it sleeps.
-- Loaded after lanes.lua.
-- ARGV: schedPrefix, nowMs, jobId (`<deliveryId>-<ticket>`), untilMs, why ('address' or 'rate')
-- Returns 1 when parked, 0 when the job's ticket is stale (the delivery had moved on).
L.init(ARGV[1], ARGV[2])
local x, id = L.current(ARGV[3])
if not x then
  return 0
end
L.release(id, x.endpointId, x.subscriberId)
L.sleepEndpoint(x.endpointId, x.subscriberId, L.class(x.endpointId), tonumber(ARGV[4]), ARGV[5] == 'rate' and 'rate' or 'address')
L.pushReady(L.bump(id, x), x, true)
return 1
