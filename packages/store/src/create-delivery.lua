-- Creates a delivery record unless one exists, and indexes it; atomic, so a repeated
-- (event, endpoint) pair is recognised and never enqueued twice. Trimming and expiring the
-- shared indexes is done once per transaction by the caller, not once per delivery.
-- KEYS: delivery, subscriberDeliveries, endpointDeliveries, eventDeliveries
-- ARGV: id, eventId, eventType, endpointId, subscriberId, nowMs, retentionMs
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local now = tonumber(ARGV[6])
redis.call('HSET', KEYS[1],
  'id', ARGV[1], 'eventId', ARGV[2], 'eventType', ARGV[3], 'endpointId', ARGV[4],
  'subscriberId', ARGV[5], 'state', 'pending', 'attempts', 0, 'createdAt', now, 'updatedAt', now)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[7]))
for i = 2, 4 do
  redis.call('ZADD', KEYS[i], now, ARGV[1])
end
return 1
