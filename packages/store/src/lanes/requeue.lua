-- Puts admitted deliveries of one endpoint back at the head of its lane, in their order, without
-- an attempt. A worker admits an endpoint's next turns ahead of its share (admit.lua's runs), and
-- those wait in the worker: once the endpoint has moved to the other lane class they must not go
-- out in the lane it left (once a receiver has turned slow, in the fast lane's slots), and those
-- still waiting when their worker shuts down go back for another worker. The endpoint does not
-- sleep: its lane is served by its class's admission. Loaded after lanes.lua.
-- ARGV: schedPrefix, nowMs, class (the lane they were admitted in), always ('1': whatever the
--       endpoint's class; '0': only if it has left `class`), then the jobs' members
--       (`<deliveryId>-<ticket>`), in their order, all of one endpoint
-- Returns the ids of the deliveries put back; none when the endpoint is still in `class` (send
-- them), and none of those whose ticket is stale (they had moved on).
L.init(ARGV[1], ARGV[2])
local c, always = ARGV[3], ARGV[4] == '1'
local live = {}
for i = 5, #ARGV do
  local x, id = L.current(ARGV[i])
  if x then
    live[#live + 1] = { x = x, id = id }
  end
end
if #live == 0 or (not always and L.class(live[1].x.endpointId) == c) then
  return {}
end
local back = {}
-- Pushed to the head last first, so that the lane gives them out in their order.
for i = #live, 1, -1 do
  local d = live[i]
  L.release(d.id, d.x.endpointId, d.x.subscriberId, c)
  L.pushReady(L.bump(d.id, d.x), d.x, true)
  back[i] = d.id
end
return back
