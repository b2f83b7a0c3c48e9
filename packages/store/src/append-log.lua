-- Appends one entry to a history log (a stream, see history-log.ts) at a given time, trimming what
-- is older than the retention period (and, when asked, what is beyond a count) and renewing the
-- log's expiry. Runs after log-entry.lua (appendLogEntry).
-- KEYS: log; ARGV: ms, retentionMs, nowMs, maxLen (0 for no cap), value
local retention = tonumber(ARGV[2])
appendLogEntry(KEYS[1], ARGV[1], ARGV[5], math.max(tonumber(ARGV[3]) - retention, 0))
if tonumber(ARGV[4]) > 0 then
  redis.call('XTRIM', KEYS[1], 'MAXLEN', ARGV[4])
end
redis.call('PEXPIRE', KEYS[1], retention)
return 1
