-- Appends an attempt to a delivery's history, moves its state and updates the endpoint's health,
-- in one round trip (the worker's hot path).
-- KEYS: delivery, deliveryAttempts, endpointHealth, endpointOutcomes
-- ARGV: attemptJson, retentionMs, nowMs, attemptOk ('1'|'0'|'' for no health update),
--       final ('delivered'|'failed'|'none'), then 6 field/value pairs that make the record (id,
--       eventId, eventType, endpointId, subscriberId, createdAt), then field/value pairs of the state
-- Returns {consecutiveFailures, failingSince (0 when none)}.
-- A delivery's first attempt writes its record (create-event.lua leaves that to the attempt).
local retention = tonumber(ARGV[2])
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[2], retention)
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 6, 17))
  redis.call('PEXPIRE', KEYS[1], retention)
else
  -- A field the new state does not name (say nextAttemptAt once delivered) must not linger.
  redis.call('HDEL', KEYS[1], 'nextAttemptAt', 'failureReason', 'lastStatusCode', 'lastErrorKind')
end
redis.call('HSET', KEYS[1], unpack(ARGV, 18, #ARGV))
if ARGV[4] == '' then
  return { 0, 0 }
end
local now = ARGV[3]
redis.call('LPUSH', KEYS[4], ARGV[4])
redis.call('LTRIM', KEYS[4], 0, 99)
if ARGV[4] == '1' then
  redis.call('HSET', KEYS[3], 'lastSuccessAt', now)
else
  redis.call('HSET', KEYS[3], 'lastFailureAt', now)
end
if ARGV[5] == 'delivered' then
  redis.call('HSET', KEYS[3], 'consecutiveFailures', 0)
  redis.call('HDEL', KEYS[3], 'failingSince')
elseif ARGV[5] == 'failed' then
  redis.call('HINCRBY', KEYS[3], 'consecutiveFailures', 1)
  redis.call('HSETNX', KEYS[3], 'failingSince', now)
end
return { tonumber(redis.call('HGET', KEYS[3], 'consecutiveFailures') or '0'), tonumber(redis.call('HGET', KEYS[3], 'failingSince') or '0') }
