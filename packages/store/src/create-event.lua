-- Stores events (each once) and their new deliveries, one per endpoint, unless the pair has one
-- already; appends each to its history logs. One call for all the events of a transaction: a batch
-- of 1,000 is one command, not 1,000, and each log's expiry is renewed once, not once per event.
-- KEYS, per event: event, subscriberEvents, then per endpoint: delivery, deliveryJob,
--       subscriberDeliveries, endpointDeliveries
-- ARGV: retentionMs, nowMs, then per event: eventJson, eventId, createdAt, endpointCount,
--       then one deliveryId per endpoint
-- Returns, per event, one 1 (created) or 0 (existed) per endpoint.
--
-- A new delivery writes no record of its own: until its first attempt, the delivery is its
-- BullMQ job (which names the event and the endpoint) and its log entries, and the worker writes
-- the record with that attempt (record-attempts.lua). So a pair "has a delivery" when either its
-- record or its job exists; delivery-store.ts reads a pending one from its job. Nor is there a list
-- of an event's deliveries: their ids derive from the event and the endpoints (history-store.ts).
-- The history logs are streams whose entry ids start with the time written (history-log.ts, which
-- loads log-entry.lua ahead of this script); the first append to a log here also trims what is
-- older than the retention period, and every log written gets its expiry renewed once.
local retention = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local oldest = math.max(now - retention, 0)
local touched = {}

local function append(key, ms, id)
  -- The first append to a log in this call also trims it (appendLogEntry, from log-entry.lua).
  local first = not touched[key]
  appendLogEntry(key, ms, id, first and oldest or nil)
  if first then
    touched[key] = true
    touched[#touched + 1] = key
  end
end

local replies = {}
local k = 1
local a = 3
while a <= #ARGV do
  local eventId = ARGV[a + 1]
  local count = tonumber(ARGV[a + 3])
  if redis.call('SET', KEYS[k], ARGV[a], 'PX', retention, 'NX') then
    append(KEYS[k + 1], ARGV[a + 2], eventId)
  end
  local created = {}
  for i = 0, count - 1 do
    local dk = k + 2 + i * 4
    local id = ARGV[a + 4 + i]
    if redis.call('EXISTS', KEYS[dk], KEYS[dk + 1]) > 0 then
      created[#created + 1] = 0
    else
      append(KEYS[dk + 2], now, id)
      append(KEYS[dk + 3], now, id)
      created[#created + 1] = 1
    end
  end
  replies[#replies + 1] = created
  k = k + 2 + count * 4
  a = a + 4 + count
end
for i = 1, #touched do
  redis.call('PEXPIRE', touched[i], retention)
end
return replies
