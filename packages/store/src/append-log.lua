-- Appends one entry to a history log (a stream, see history-log.ts) at a given time, trimming what
-- is older than the retention period (and, when asked, what is beyond a count) and renewing the
-- log's expiry. create-event.lua carries the same append for the logs it writes.
-- KEYS: log; ARGV: ms, retentionMs, nowMs, maxLen (0 for no cap), value
local retention = tonumber(ARGV[2])
local oldest = math.max(tonumber(ARGV[3]) - retention, 0)
local added = redis.pcall('XADD', KEYS[1], 'MINID', '~', oldest, ARGV[1] .. '-*', 'i', ARGV[5])
if type(added) == 'table' and added.err then
  -- The log already holds a later entry (another process's clock runs ahead of this one): append
  -- right after it.
  local info = redis.call('XINFO', 'STREAM', KEYS[1])
  local last = '0'
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then last = string.match(info[i + 1], '^(%d+)') end
  end
  redis.call('XADD', KEYS[1], 'MINID', '~', oldest, last .. '-*', 'i', ARGV[5])
end
if tonumber(ARGV[4]) > 0 then
  redis.call('XTRIM', KEYS[1], 'MAXLEN', ARGV[4])
end
redis.call('PEXPIRE', KEYS[1], retention)
return 1
