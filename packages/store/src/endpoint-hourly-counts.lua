-- endpoint-hourly-counts.lua: an endpoint's attempts per hour, which EndpointHourlyCounts
-- (endpoint-hourly-counts.ts) owns and reads. Loaded ahead of record-attempts.lua (DeliveryStore)
-- and called by endpoint-health.lua's EndpointHealth.record, so an attempt is counted in the same
-- round trip that records it, and never for a deleted endpoint (the health hash's `deleted` tombstone).
--
-- Key (keys.ts: endpointHourlyCounts; DeliveryStore passes it per attempt):
--   hash, per hour in which an attempt ended (hours since the epoch, floor(ms / 3600000)):
--   `<hour>d` attempts delivered (2xx), `<hour>f` attempts that failed (retried or not), and `from`,
--   the oldest hour it may still hold
-- Bounded: creating a field (the hour's first delivered or first failed attempt, at most twice an
-- hour) deletes the fields of the hours that fell out of the last `hoursKept` and sets the key to
-- expire `hoursKept` hours later, so an endpoint keeps at most 2 * hoursKept + 1 fields and an idle
-- one none at all. Every other attempt is one HINCRBY.

local EndpointHourlyCounts = {}

local HOUR_MS = 3600000

-- When the hour that `now` (ms) falls in starts, in ms: attempts counted together are counted by it.
function EndpointHourlyCounts.hourStart(now)
  return math.floor(tonumber(now) / HOUR_MS) * HOUR_MS
end

-- Counts `n` attempts (1 when not given) that ended at `now` (ms): ok '1' delivered, '0' failed.
function EndpointHourlyCounts.count(key, ok, now, hoursKept, n)
  n = n or 1
  local hour = math.floor(tonumber(now) / HOUR_MS)
  -- The hour's field is new when it holds just what was added.
  if redis.call('HINCRBY', key, hour .. (ok == '1' and 'd' or 'f'), n) ~= n then
    return
  end
  -- `from`: the oldest hour the hash may still hold. Hours from it to the newest that falls out are
  -- deleted by name, not found by reading every field: usually one hour's two fields, at most
  -- hoursKept hours' (the key expires hoursKept hours after the last field was created).
  local oldest = hour - hoursKept + 1
  local from = tonumber(redis.call('HGET', key, 'from'))
  if from and from < oldest then
    local stale = {}
    for h = math.max(from, oldest - hoursKept), oldest - 1 do
      stale[#stale + 1] = h .. 'd'
      stale[#stale + 1] = h .. 'f'
    end
    redis.call('HDEL', key, unpack(stale))
  end
  if from ~= oldest then
    redis.call('HSET', key, 'from', oldest)
  end
  redis.call('PEXPIRE', key, hoursKept * HOUR_MS)
end
