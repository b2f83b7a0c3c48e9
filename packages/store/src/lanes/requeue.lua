-- Puts an admitted delivery back at the head of its lane without an attempt. A worker admits an
-- endpoint's next turns ahead of its share (SchedulingOptions.admitAhead), and those wait in the
-- worker: one whose endpoint has moved to the other lane class since it was admitted must not go
-- out in the lane it left (once a receiver has turned slow, in the fast lane's slots), and those
-- still waiting when their worker shuts down go back for another worker. The endpoint does not
-- sleep: its lane is served by its class's admission. Loaded after lanes.lua.
-- ARGV: schedPrefix, nowMs, jobId (`<deliveryId>-<ticket>`), class (the lane it was admitted in),
--       always ('1': whatever its endpoint's class; '0': only if its endpoint left `class`)
-- Returns 1 when put back, 0 when its endpoint is still in that class (send it), -1 when the
-- job's ticket is stale (the delivery had moved on: nothing to send).
L.init(ARGV[1], ARGV[2])
local x, id = L.current(ARGV[3])
if not x then
  return -1
end
if ARGV[5] ~= '1' and L.class(x.endpointId) == ARGV[4] then
  return 0
end
L.release(id, x.endpointId, x.subscriberId, ARGV[4])
L.pushReady(L.bump(id, x), x, true)
return 1
