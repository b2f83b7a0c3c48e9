-- Creates a delivery record unless one exists, and indexes it; atomic, so a repeated
-- (event, endpoint) pair is recognised and never enqueued twice.
-- KEYS: delivery, subscriberDeliveries, endpointDeliveries, eventDeliveries, outbox
-- ARGV: id, eventId, eventType, endpointId, subscriberId, nowMs, retentionMs
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local now = tonumber(ARGV[6])
local retention = tonumber(ARGV[7])
redis.call('HSET', KEYS[1],
  'id', ARGV[1], 'eventId', ARGV[2], 'eventType', ARGV[3], 'endpointId', ARGV[4],
  'subscriberId', ARGV[5], 'state', 'pending', 'attempts', 0, 'createdAt', now, 'updatedAt', now)
redis.call('PEXPIRE', KEYS[1], retention)
for i = 2, 4 do
  redis.call('ZADD', KEYS[i], now, ARGV[1])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - retention)
  redis.call('PEXPIRE', KEYS[i], retention)
end
redis.call('ZADD', KEYS[5], now, ARGV[1])
return 1
