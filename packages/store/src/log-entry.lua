-- Shared by the scripts that write history logs (history-log.ts loads it ahead of each of them):
-- appends `value` (field `i`) at time `ms` (entry id `<ms>-*`), trimming entries older than
-- `oldest` when given, with `extra` (field, value, ...) when given. If the log already holds a later
-- entry (another process's clock runs ahead of this one), the entry goes right after it rather than
-- fail the caller's write.
-- `call` is redis.pcall (the first try, whose refusal is expected) or redis.call.
local function xaddAt(call, key, ms, value, oldest, extra)
  local fields = { 'i', value }
  for _, v in ipairs(extra or {}) do
    fields[#fields + 1] = v
  end
  if oldest then
    return call('XADD', key, 'MINID', '~', oldest, ms .. '-*', unpack(fields))
  end
  return call('XADD', key, ms .. '-*', unpack(fields))
end

local function appendLogEntry(key, ms, value, oldest, extra)
  local added = xaddAt(redis.pcall, key, ms, value, oldest, extra)
  if type(added) == 'table' and added.err then
    local info = redis.call('XINFO', 'STREAM', key)
    local last = '0'
    for i = 1, #info, 2 do
      if info[i] == 'last-generated-id' then last = string.match(info[i + 1], '^(%d+)') end
    end
    xaddAt(redis.call, key, last, value, oldest, extra)
  end
end
