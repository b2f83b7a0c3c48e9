-- What a listing reads of several deliveries, in one call (DeliveryStore.getMany): each one's
-- record, or, for one not attempted yet (no record), its scheduler entry, or, for one queued by an
-- earlier version, its BullMQ job's data and timestamp. One call instead of three commands a
-- delivery: a page of 100 was 300 of them (with its events' 200), ~15 ms of the API's event loop
-- spent building and answering commands, and listings are what a portal polls.
-- KEYS: laneEntries, then per delivery: delivery, job (packages/queue's QueuedDeliveries.jobKey)
-- ARGV: the job's data field and its timestamp field (QueuedDeliveries.fields: BullMQ's names,
--       which only packages/queue knows), then per delivery: deliveryId
-- Returns, per delivery, {1, the record's field/value list}, {2, the entry}, {3, data, timestamp}
-- or {0} when it has none of them (expired, or never existed).
-- A record is a hash with an `id` (scripts keep bookkeeping fields, `_streak`, beside it).
local function isRecord(fields)
  for f = 1, #fields, 2 do
    if fields[f] == 'id' then
      return true
    end
  end
  return false
end

local replies = {}
for i = 2, #KEYS, 2 do
  local record = redis.call('HGETALL', KEYS[i])
  if isRecord(record) then
    replies[#replies + 1] = { 1, record }
  else
    local entry = redis.call('HGET', KEYS[1], ARGV[i / 2 + 2])
    if entry then
      replies[#replies + 1] = { 2, entry }
    else
      local job = redis.call('HMGET', KEYS[i + 1], ARGV[1], ARGV[2])
      if job[1] then
        replies[#replies + 1] = { 3, job[1], job[2] or '0' }
      else
        replies[#replies + 1] = { 0 }
      end
    end
  end
end
return replies
