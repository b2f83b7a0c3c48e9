-- The first ARGV[1] and last ARGV[2] bytes of several events (EventStore.summaries): what a
-- listing shows of an event, never its payload, in one call instead of two commands an event.
-- KEYS: per event: event
-- Returns, per event, its head and its tail ("" and "" for one that has expired).
local replies = {}
local head = tonumber(ARGV[1])
local tail = tonumber(ARGV[2])
for i = 1, #KEYS do
  replies[#replies + 1] = redis.call('GETRANGE', KEYS[i], 0, head - 1)
  replies[#replies + 1] = redis.call('GETRANGE', KEYS[i], -tail, -1)
end
return replies
