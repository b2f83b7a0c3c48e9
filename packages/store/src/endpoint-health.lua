-- endpoint-health.lua: the writes of an endpoint's health, which EndpointHealthStore
-- (endpoint-health-store.ts) owns and reads. Loaded ahead of record-attempts.lua (DeliveryStore)
-- so that the health moves atomically with the attempt that changes it, in the same round trip.
--
-- Keys (keys.ts: endpointHealth, endpointOutcomes, endpointHourlyCounts; DeliveryStore passes them per attempt):
--   health    hash: lastSuccessAt, lastFailureAt (ms), consecutiveFailures, failingSince (ms, only
--             while a streak runs), streak (the current streak's number)
--   outcomes  list: '1' or '0' per attempt, newest first, the last 100 (the success rate)
--   hourly    hash: attempts delivered and failed per hour (endpoint-hourly-counts.lua, loaded ahead of this)
--   Once the endpoint is deleted, the health hash is only `deleted` for the retention period
--   (EndpointStore.delete) and nothing is recorded: an attempt in flight at the delete, or a test
--   send, ending after it brought the keys back with no expiry, for good.
-- and the attempted delivery's record hash, whose `_streak` field says which streak it was counted in.
--
-- consecutiveFailures counts failed deliveries, not attempts: a delivery counts once in a streak,
-- however often a person retries or recovers it (the health hash's `streak` numbers the streaks,
-- and a delivery's `_streak` says which one it was counted in). A delivered attempt ends the
-- streak, as EndpointHealthStore.resetStreak does when a person re-enables the endpoint.

local EndpointHealth = {}

-- The endpoint's failure streak as the circuit breaker reads it: {consecutiveFailures, failingSince
-- (0 when none), laneMove}; laneMove is the caller's, passed through into the attempt's reply.
function EndpointHealth.streak(health, laneMove)
  local s = redis.call('HMGET', health, 'consecutiveFailures', 'failingSince')
  return { tonumber(s[1] or '0'), tonumber(s[2] or '0'), laneMove }
end

-- One attempt's outcome at `now`: ok '1' or '0'; final 'delivered', 'failed' (the delivery ended
-- failed) or 'none' (it will be retried, or it was a test send). Counts it in the endpoint's
-- attempts per hour too (`hourly`, endpoint-hourly-counts.lua, kept `hoursKept` hours), past the
-- same tombstone check. Answers as EndpointHealth.streak.
function EndpointHealth.record(health, outcomes, hourly, delivery, ok, final, now, laneMove, hoursKept)
  local s = redis.call('HMGET', health, 'consecutiveFailures', 'failingSince', 'streak', 'deleted')
  if s[4] then
    return { 0, 0, laneMove }
  end
  EndpointHourlyCounts.count(hourly, ok, now, hoursKept)
  redis.call('LPUSH', outcomes, ok)
  redis.call('LTRIM', outcomes, 0, 99)
  local lastField = ok == '1' and 'lastSuccessAt' or 'lastFailureAt'
  if final == 'delivered' then
    -- Only a streak under way ends (and a new one is numbered): while none runs, no delivery holds
    -- the current streak's number (one is given it only as consecutiveFailures grows, and both
    -- reset together, here and in resetStreak), so the usual delivered attempt is a read and a write.
    if (s[1] and s[1] ~= '0') or s[2] then
      redis.call('HSET', health, lastField, now, 'consecutiveFailures', 0)
      redis.call('HDEL', health, 'failingSince')
      redis.call('HINCRBY', health, 'streak', 1)
    else
      redis.call('HSET', health, lastField, now)
    end
    return { 0, 0, laneMove }
  elseif final == 'failed' then
    redis.call('HSET', health, lastField, now)
    local current = s[3] or '0'
    if redis.call('HGET', delivery, '_streak') ~= current then
      redis.call('HSET', delivery, '_streak', current)
      redis.call('HINCRBY', health, 'consecutiveFailures', 1)
      redis.call('HSETNX', health, 'failingSince', now)
    end
  else
    redis.call('HSET', health, lastField, now)
  end
  return EndpointHealth.streak(health, laneMove)
end

-- The attempts of one endpoint a record-attempts call records, in their order: each {delivery, ok,
-- final, now, laneMove} as EndpointHealth.record takes them, or {read = true} for an attempt
-- recorded before, which answers the streak as it stands at its place (EndpointHealth.streak).
-- Answers one reply per item, as if each were recorded alone. The usual attempt, delivered while
-- no streak runs, changes only lastSuccessAt, the outcomes and the hour's count: a run of them is
-- written once (one LPUSH of all their outcomes, one HINCRBY, one HSET) instead of five commands
-- each; any other attempt first writes the run before it, then records itself as alone.
function EndpointHealth.recordMany(health, outcomes, hourly, items, hoursKept)
  local replies = {}
  local s = redis.call('HMGET', health, 'consecutiveFailures', 'failingSince', 'deleted')
  if s[3] then
    for i, it in ipairs(items) do
      replies[i] = { 0, 0, it.laneMove or 0 }
    end
    return replies
  end
  local running = (s[1] and s[1] ~= '0') or s[2] ~= false
  local pushed, perHour, hours, lastAt = {}, {}, {}, nil
  local function writeRun()
    if #pushed == 0 then
      return
    end
    for _, at in ipairs(hours) do
      EndpointHourlyCounts.count(hourly, '1', at, hoursKept, perHour[at])
    end
    redis.call('LPUSH', outcomes, unpack(pushed))
    redis.call('LTRIM', outcomes, 0, 99)
    redis.call('HSET', health, 'lastSuccessAt', lastAt)
    pushed, perHour, hours, lastAt = {}, {}, {}, nil
  end
  for i, it in ipairs(items) do
    if it.read then
      -- With no streak running the answer needs no read (and a run written or not changes nothing).
      replies[i] = running and EndpointHealth.streak(health, 0) or { 0, 0, 0 }
    elseif it.ok == '1' and it.final == 'delivered' and not running then
      pushed[#pushed + 1] = '1'
      -- Counted by the hour it ended in: attempts of one call rarely straddle an hour, but may.
      local at = EndpointHourlyCounts.hourStart(it.now)
      if not perHour[at] then
        perHour[at] = 0
        hours[#hours + 1] = at
      end
      perHour[at] = perHour[at] + 1
      lastAt = it.now
      replies[i] = { 0, 0, it.laneMove }
    else
      writeRun()
      replies[i] = EndpointHealth.record(health, outcomes, hourly, it.delivery, it.ok, it.final, it.now, it.laneMove, hoursKept)
      running = replies[i][1] ~= 0 or replies[i][2] ~= 0
    end
  end
  writeRun()
  return replies
end
