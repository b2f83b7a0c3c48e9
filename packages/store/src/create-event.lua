-- Stores an event (once) and creates its deliveries, one per endpoint, unless the pair has one
-- already; indexes everything. One script per event keeps a publish to one round trip and one
-- command per event in the enqueue transaction. Trimming and expiring the indexes shared between
-- events is done once per transaction by the caller.
-- KEYS: event, subscriberEvents, then for each endpoint: delivery, subscriberDeliveries,
--       endpointDeliveries, eventDeliveries
-- ARGV: eventJson, eventId, eventType, subscriberId, createdAt, nowMs, retentionMs,
--       then for each endpoint: deliveryId, endpointId
-- Returns one 1 (created) or 0 (existed) per endpoint.
local retention = tonumber(ARGV[7])
local now = tonumber(ARGV[6])
redis.call('SET', KEYS[1], ARGV[1], 'PX', retention, 'NX')
redis.call('ZADD', KEYS[2], 'NX', ARGV[5], ARGV[2])
local created = {}
local n = (#KEYS - 2) / 4
for i = 0, n - 1 do
  local k = 3 + i * 4
  local id = ARGV[8 + i * 2]
  local endpointId = ARGV[9 + i * 2]
  if redis.call('EXISTS', KEYS[k]) == 1 then
    created[#created + 1] = 0
  else
    redis.call('HSET', KEYS[k],
      'id', id, 'eventId', ARGV[2], 'eventType', ARGV[3], 'endpointId', endpointId,
      'subscriberId', ARGV[4], 'state', 'pending', 'attempts', 0, 'createdAt', now, 'updatedAt', now)
    redis.call('PEXPIRE', KEYS[k], retention)
    for j = 1, 3 do
      redis.call('ZADD', KEYS[k + j], now, id)
    end
    created[#created + 1] = 1
  end
end
if n > 0 then
  -- The event's own delivery index never outgrows its fan-out: it only needs the expiry.
  redis.call('PEXPIRE', KEYS[6], retention)
end
return created
