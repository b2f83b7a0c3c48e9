-- Moves deliveries back to 'pending', each only if it is in one of the given states and has the
-- number of attempts the caller read, and puts each in its endpoint's lane for one more attempt (a
-- person's retry: lanes.lua, loaded ahead of this script). Reopening and queueing are one step, so
-- a delivery is never left pending with nothing to attempt it. Two recover calls racing cannot both
-- reopen (and so both queue) the same delivery, and a caller acting on a read taken before another
-- retry ran cannot reopen it either. One call for a batch (DeliveryStore.reopen sends at most
-- REOPENED_PER_CALL): a recover that found 21,060 failed deliveries sent one call per delivery, all
-- at once, and held the API's event loop up to 325 ms.
-- KEYS: each delivery's record
-- ARGV: schedPrefix, nowMs, stateCount, state... (stateCount of them), then per KEYS[i] its
--       expected attempt count
-- Returns per delivery 1 if moved, else 0.
local states = tonumber(ARGV[3])
-- Checked before the first write: Redis does not roll a script back.
if not states or states < 1 or #ARGV ~= 3 + states + #KEYS then
  return redis.error_reply('ERR reopen-deliveries: ARGV must be schedPrefix, nowMs, stateCount, states, then one attempt count per key')
end
L.init(ARGV[1], ARGV[2])
local from = {}
for i = 1, states do
  from[ARGV[3 + i]] = true
end
local moved, signal = {}, {}
for i, key in ipairs(KEYS) do
  moved[i] = 0
  local fields = redis.call('HMGET', key, 'state', 'attempts', 'id', 'eventId', 'endpointId', 'subscriberId')
  if fields[1] and from[fields[1]] and (fields[2] or '0') == ARGV[3 + states + i] then
    redis.call('HSET', key, 'state', 'pending', 'updatedAt', ARGV[2])
    redis.call('HDEL', key, 'failureReason', 'nextAttemptAt')
    L.enqueue(fields[3], fields[4], fields[5], fields[6], ARGV[2], true)
    signal[L.class(fields[5])] = true
    moved[i] = 1
  end
end
-- One wake-up per lane class for the batch, as one per delivery would only repeat it.
for _, c in ipairs({ 'fast', 'slow' }) do
  if signal[c] then
    L.signal(c)
  end
end
return moved
