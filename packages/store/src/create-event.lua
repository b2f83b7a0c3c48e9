-- Stores an event (once) and its new deliveries, one per endpoint, unless the pair has one
-- already; appends each to its history logs. One script per event keeps a publish to one round
-- trip and one command per event in the enqueue transaction.
-- KEYS: event, subscriberEvents, then for each endpoint: delivery, deliveryJob,
--       subscriberDeliveries, endpointDeliveries
-- ARGV: eventJson, eventId, createdAt, nowMs, retentionMs, then for each endpoint: deliveryId
-- Returns one 1 (created) or 0 (existed) per endpoint.
--
-- A new delivery writes no record of its own: until its first attempt, the delivery is its
-- BullMQ job (which names the event and the endpoint) and its log entries, and the worker writes
-- the record with that attempt (record-attempt.lua). So a pair "has a delivery" when either its
-- record or its job exists; delivery-store.ts reads a pending one from its job. Nor is there a list
-- of an event's deliveries: their ids derive from the event and the endpoints (history-store.ts).
-- The history logs are streams whose entry ids start with the time written (history-log.ts);
-- each append also trims what is older than the retention period and renews the log's expiry.
local retention = tonumber(ARGV[5])
local now = tonumber(ARGV[4])
local oldest = math.max(now - retention, 0)

local function lastGeneratedMs(key)
  local info = redis.call('XINFO', 'STREAM', key)
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then
      return string.match(info[i + 1], '^(%d+)')
    end
  end
  return '0'
end

local function append(key, ms, id)
  local added = redis.pcall('XADD', key, 'MINID', '~', oldest, ms .. '-*', 'i', id)
  if type(added) == 'table' and added.err then
    -- The log already holds a later entry (another API process's clock runs ahead of this one):
    -- append right after it rather than fail the publish.
    redis.call('XADD', key, 'MINID', '~', oldest, lastGeneratedMs(key) .. '-*', 'i', id)
  end
  redis.call('PEXPIRE', key, retention)
end

if redis.call('SET', KEYS[1], ARGV[1], 'PX', retention, 'NX') then
  append(KEYS[2], ARGV[3], ARGV[2])
end
local created = {}
local n = (#KEYS - 2) / 4
for i = 0, n - 1 do
  local k = 3 + i * 4
  local id = ARGV[6 + i]
  if redis.call('EXISTS', KEYS[k], KEYS[k + 1]) > 0 then
    created[#created + 1] = 0
  else
    append(KEYS[k + 2], now, id)
    append(KEYS[k + 3], now, id)
    created[#created + 1] = 1
  end
end
return created
