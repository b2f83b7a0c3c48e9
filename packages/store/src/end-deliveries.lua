-- Ends an endpoint's open deliveries without an attempt (its endpoint disabled: EndpointGuard) and
-- takes them out of the scheduler, a batch in one call (up to 500: DeliveryStore.endOpen). Loaded
-- after lanes.lua. It was a transaction of five commands per delivery and one forget.lua call per
-- delivery, 500 at once: ending 10,000 took ~190,000 commands and 2.5-4.7 s of the API process.
-- KEYS: the records of the deliveries to fail (read open by the caller)
-- ARGV: schedPrefix, nowMs, retentionMs, failureReason, then per KEYS[i] the JSON array of the
--       fields that make the record a delivery's (written when it has no record yet: not attempted),
--       then the ids of every delivery to take out of the scheduler (those of KEYS and any other)
-- Returns how many deliveries it failed: a record that is no longer pending or retrying (an
-- attempt ended meanwhile) is left as it is.
local first = 5 + #KEYS
local records = {}
-- Checked before the first write: Redis does not roll a script back.
for i = 1, #KEYS do
  local ok, fields = pcall(cjson.decode, ARGV[4 + i] or '')
  if not ok or type(fields) ~= 'table' or #fields % 2 ~= 0 then
    return redis.error_reply('ERR end-deliveries: ARGV[' .. (4 + i) .. '] is not a JSON array of field, value pairs')
  end
  records[i] = fields
end
if not tonumber(ARGV[2]) or not tonumber(ARGV[3]) then
  return redis.error_reply('ERR end-deliveries: nowMs and retentionMs must be numbers')
end
L.init(ARGV[1], ARGV[2])

local failed = 0
for i, key in ipairs(KEYS) do
  local state = redis.call('HGET', key, 'state')
  if not state or state == 'pending' or state == 'retrying' then
    local fields = records[i]
    if not state then
      -- Not attempted yet: its record is written here, as the first attempt would have.
      fields[#fields + 1] = 'attempts'
      fields[#fields + 1] = '0'
    end
    redis.call('HSET', key, 'state', 'failed', 'failureReason', ARGV[4], 'updatedAt', ARGV[2], unpack(fields))
    redis.call('HDEL', key, 'nextAttemptAt')
    redis.call('PEXPIRE', key, ARGV[3], 'NX')
    failed = failed + 1
  end
end

-- As forget.lua, for each: a lane or due entry left behind would be stale, and a job already
-- handed out finds the delivery gone and stops.
for n = first, #ARGV do
  local id = ARGV[n]
  local x = L.entry(id)
  if x then
    L.forget(id, x)
  end
end
return failed
