-- Appends an attempt to a delivery's history, moves its state and updates the endpoint's health,
-- in one round trip (the worker's hot path).
-- KEYS: delivery, deliveryAttempts, endpointHealth, endpointOutcomes
-- ARGV: attemptJson, retentionMs, nowMs, attemptOk ('1'|'0'|'' for no health update),
--       final ('delivered'|'failed'|'none'), then 6 field/value pairs that make the record (id,
--       eventId, eventType, endpointId, subscriberId, createdAt), then field/value pairs of the state
-- Returns {consecutiveFailures, failingSince (0 when none)}.
-- A delivery's first attempt writes its record (create-event.lua leaves that to the attempt).
-- Written for few Redis calls: this runs once per attempt, ~10 calls where each one counts.
local retention = tonumber(ARGV[2])
if redis.call('RPUSH', KEYS[2], ARGV[1]) == 1 then
  redis.call('PEXPIRE', KEYS[2], retention)
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  -- The record's identity and its state in one write.
  redis.call('HSET', KEYS[1], unpack(ARGV, 6, #ARGV))
  redis.call('PEXPIRE', KEYS[1], retention)
else
  -- A field the new state does not name (say nextAttemptAt once delivered) must not linger.
  redis.call('HDEL', KEYS[1], 'nextAttemptAt', 'failureReason', 'lastStatusCode', 'lastErrorKind')
  redis.call('HSET', KEYS[1], unpack(ARGV, 18, #ARGV))
end
if ARGV[4] == '' then
  return { 0, 0 }
end
local now = ARGV[3]
redis.call('LPUSH', KEYS[4], ARGV[4])
redis.call('LTRIM', KEYS[4], 0, 99)
local lastField = ARGV[4] == '1' and 'lastSuccessAt' or 'lastFailureAt'
if ARGV[5] == 'delivered' then
  redis.call('HSET', KEYS[3], lastField, now, 'consecutiveFailures', 0)
  redis.call('HDEL', KEYS[3], 'failingSince')
  return { 0, 0 }
elseif ARGV[5] == 'failed' then
  redis.call('HSET', KEYS[3], lastField, now)
  redis.call('HINCRBY', KEYS[3], 'consecutiveFailures', 1)
  redis.call('HSETNX', KEYS[3], 'failingSince', now)
else
  redis.call('HSET', KEYS[3], lastField, now)
end
local streak = redis.call('HMGET', KEYS[3], 'consecutiveFailures', 'failingSince')
return { tonumber(streak[1] or '0'), tonumber(streak[2] or '0') }
