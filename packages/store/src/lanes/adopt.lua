-- Takes over a delivery queued by a version before the scheduler (a BullMQ job with no ticket):
-- unless it is live already, it gets an entry and joins the tail of its endpoint's lane. Loaded
-- after lanes.lua.
-- ARGV: schedPrefix, nowMs, deliveryId, eventId, endpointId, subscriberId, createdAt, manual ('1'|'0')
-- Returns 1 when adopted, 0 when it was live already.
L.init(ARGV[1], ARGV[2])
if L.live(ARGV[3]) then
  return 0
end
L.enqueue(ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8] == '1')
L.signal(L.class(ARGV[5]))
return 1
