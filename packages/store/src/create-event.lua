-- Stores events (each once) and their new deliveries, one per endpoint, unless the pair has one
-- already; appends each to its history logs. One call for all the events of a transaction: a batch
-- of 1,000 is one command, not 1,000, and each log's expiry is renewed once, not once per event.
-- KEYS, per event: event, subscriberEvents, then per endpoint: delivery, deliveryJob,
--       subscriberDeliveries, endpointDeliveries
-- ARGV: retentionMs, nowMs, schedPrefix, schedule ('1': into the lanes; '0': a send made on the
--       spot, which the caller attempts itself), then per event: eventJson, eventId, createdAt,
--       subscriberId, endpointCount, then per endpoint: deliveryId, endpointId
-- Returns, per event, one 1 (created) or 0 (existed) per endpoint.
--
-- A new delivery writes no record of its own: until its first attempt, the delivery is its entry
-- in the scheduler (lanes.lua, loaded ahead of this script: it names the event and the endpoint,
-- and puts the delivery at the tail of its endpoint's lane) and its log entries, and the worker
-- writes the record with that attempt (record-attempts.lua). So a pair "has a delivery" when its
-- record or its scheduler entry exists (or, for one queued by an earlier version, its BullMQ job);
-- delivery-store.ts reads a pending one from its entry. Nor is there a list of an event's
-- deliveries: their ids derive from the event and the endpoints (history-store.ts). Once anything
-- joined a lane, the lane signal wakes a waiting worker.
-- The history logs are streams whose entry ids start with the time written (history-log.ts, which
-- loads log-entry.lua ahead of this script); the first append to a log here also trims what is
-- older than the retention period, and every log written gets its expiry renewed once.
local retention = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
L.init(ARGV[3], now)
local schedule = ARGV[4] == '1'
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
local a = 5
-- New deliveries per endpoint, pushed onto its lane in one command after the loop.
local lanes, laneOrder, laneSubscriber = {}, {}, {}
while a <= #ARGV do
  local eventId = ARGV[a + 1]
  local subscriberId = ARGV[a + 3]
  local count = tonumber(ARGV[a + 4])
  if redis.call('SET', KEYS[k], ARGV[a], 'PX', retention, 'NX') then
    append(KEYS[k + 1], ARGV[a + 2], eventId)
  end
  local created = {}
  for i = 0, count - 1 do
    local dk = k + 2 + i * 4
    local id = ARGV[a + 5 + i * 2]
    local e = ARGV[a + 6 + i * 2]
    local new = false
    if redis.call('EXISTS', KEYS[dk], KEYS[dk + 1]) == 0 then
      if schedule then
        -- HSETNX: the entry is written only if the delivery is not live already.
        local member = L.create(id, eventId, e, subscriberId, now)
        if member then
          if not lanes[e] then
            lanes[e] = {}
            laneOrder[#laneOrder + 1] = e
            laneSubscriber[e] = subscriberId
          end
          lanes[e][#lanes[e] + 1] = member
          new = true
        end
      else
        new = not L.live(id)
      end
    end
    if new then
      append(KEYS[dk + 2], now, id)
      append(KEYS[dk + 3], now, id)
    end
    created[#created + 1] = new and 1 or 0
  end
  replies[#replies + 1] = created
  k = k + 2 + count * 4
  a = a + 5 + count * 2
end
for _, e in ipairs(laneOrder) do
  L.pushMany(e, laneSubscriber[e], lanes[e], false)
end
if #laneOrder > 0 then
  redis.call('LPUSH', L.key('wake'), '1')
  redis.call('LTRIM', L.key('wake'), 0, 0)
end
for i = 1, #touched do
  redis.call('PEXPIRE', touched[i], retention)
end
return replies
