-- Appends an attempt to a delivery's history, moves its state and updates the endpoint's health,
-- in one round trip (the worker's hot path).
-- KEYS: delivery, deliveryAttempts, endpointHealth, endpointOutcomes
-- ARGV: attemptJson, retentionMs, nowMs, attemptOk ('1'|'0'|'' for no health update),
--       final ('delivered'|'failed'|'none'), then field/value pairs for the delivery hash
-- Returns {written (0|1), consecutiveFailures, failingSince (0 when none)}.
-- Writes nothing to the delivery when its record has expired or never existed.
local written = 0
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('RPUSH', KEYS[2], ARGV[1])
  redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[2]))
  local fields = {}
  for i = 6, #ARGV do
    fields[#fields + 1] = ARGV[i]
  end
  -- A field the new state does not name (say nextAttemptAt once delivered) must not linger.
  redis.call('HDEL', KEYS[1], 'nextAttemptAt', 'failureReason', 'lastStatusCode', 'lastErrorKind')
  redis.call('HSET', KEYS[1], unpack(fields))
  written = 1
end
if ARGV[4] == '' then
  return { written, 0, 0 }
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
return { written, tonumber(redis.call('HGET', KEYS[3], 'consecutiveFailures') or '0'), tonumber(redis.call('HGET', KEYS[3], 'failingSince') or '0') }
