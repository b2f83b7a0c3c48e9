-- Records attempts of several deliveries in one call (DeliveryStore gathers the attempts that end in
-- one event-loop turn): per delivery, appends the attempt to its history, moves its state (writing
-- its record on the first attempt), moves it in the scheduler (out of it once ended, into the due
-- set for a retry, counting the attempt's pace towards the slow lane: lanes.lua, loaded ahead of
-- this script) and updates its endpoint's health. Each delivery's part is the same as if it were
-- called alone; one call saves the worker a Redis command per attempt.
-- The health part (last success and failure, the failed-delivery streak the circuit breaker
-- reads, the last 100 outcomes) is EndpointHealthStore's data, written here so that it moves with
-- the attempt; endpoint-health-store.ts reads it.
-- KEYS, per delivery: delivery, deliveryAttempts, endpointHealth, endpointOutcomes
-- ARGV: schedPrefix, slowAfter, fastAfter, then per delivery: n (how many of the following are
--       this delivery's), then attemptJson, retentionMs, nowMs, attemptOk ('1'|'0'|'' for no
--       health update), final ('delivered'|'failed'|'none'), ticket (the job's; '' for an attempt
--       the scheduler did not hand out, such as a test send), lane (the lane class the job ran in),
--       pace ('slow'|'prompt'|''), nextAttemptAt ('' unless retrying), then 6 field/value pairs
--       that make the record (id,
--       eventId, eventType, endpointId, subscriberId, createdAt), then field/value pairs of the state
-- Returns, per delivery, {consecutiveFailures, failingSince (0 when none), laneMove (1: the
-- endpoint moved to the slow lane, 2: back to the fast one, 0: neither)}.
-- Written for few Redis calls: this runs once per attempt, ~10 calls where each one counts.
L.init(ARGV[1], 0)
local slowAfter = tonumber(ARGV[2])
local fastAfter = tonumber(ARGV[3])

-- The scheduler's part: only for the job holding the delivery's current ticket.
local function schedule(id, a)
  local ticket = ARGV[a + 5]
  if ticket == '' then
    return 0
  end
  local x = L.entry(id)
  if not x or x.ticket ~= tonumber(ticket) then
    return 0
  end
  local lane = ARGV[a + 6]
  if ARGV[a + 4] == 'none' then
    L.retryAt(id, x, tonumber(ARGV[a + 8]), lane)
  else
    L.finish(id, x, lane)
  end
  return L.pace(x.endpointId, x.subscriberId, ARGV[a + 7], slowAfter, fastAfter)
end

-- `a` is the index of this delivery's attemptJson in ARGV, `last` of its last value.
local function recordOne(delivery, attempts, health, outcomes, a, last)
  local retention = tonumber(ARGV[a + 1])
  if redis.call('RPUSH', attempts, ARGV[a]) == 1 then
    redis.call('PEXPIRE', attempts, retention)
  end
  if redis.call('EXISTS', delivery) == 0 then
    -- The record's identity and its state in one write.
    redis.call('HSET', delivery, unpack(ARGV, a + 9, last))
    redis.call('PEXPIRE', delivery, retention)
  else
    -- A field the new state does not name (say nextAttemptAt once delivered) must not linger.
    redis.call('HDEL', delivery, 'nextAttemptAt', 'failureReason', 'lastStatusCode', 'lastErrorKind')
    redis.call('HSET', delivery, unpack(ARGV, a + 21, last))
  end
  local laneMove = schedule(ARGV[a + 10], a)
  local ok = ARGV[a + 3]
  if ok == '' then
    return { 0, 0, laneMove }
  end
  local now = ARGV[a + 2]
  local final = ARGV[a + 4]
  redis.call('LPUSH', outcomes, ok)
  redis.call('LTRIM', outcomes, 0, 99)
  local lastField = ok == '1' and 'lastSuccessAt' or 'lastFailureAt'
  if final == 'delivered' then
    redis.call('HSET', health, lastField, now, 'consecutiveFailures', 0)
    redis.call('HDEL', health, 'failingSince')
    return { 0, 0, laneMove }
  elseif final == 'failed' then
    redis.call('HSET', health, lastField, now)
    redis.call('HINCRBY', health, 'consecutiveFailures', 1)
    redis.call('HSETNX', health, 'failingSince', now)
  else
    redis.call('HSET', health, lastField, now)
  end
  local streak = redis.call('HMGET', health, 'consecutiveFailures', 'failingSince')
  return { tonumber(streak[1] or '0'), tonumber(streak[2] or '0'), laneMove }
end

local replies = {}
local k = 1
local a = 4
while a <= #ARGV do
  local n = tonumber(ARGV[a])
  replies[#replies + 1] = recordOne(KEYS[k], KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], a + 1, a + n)
  k = k + 4
  a = a + n + 1
end
return replies
