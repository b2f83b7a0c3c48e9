-- Appends one entry to a history log (a stream, see history-log.ts) at a given time, trimming what
-- is older than the retention period (and, when asked, what is beyond a count) and renewing the
-- log's expiry. Runs after log-entry.lua (appendLogEntry).
-- KEYS: log, owner; ARGV: ms, retentionMs, nowMs, maxLen (0 for no cap), value, '1' to append only
-- while the owner exists
-- The owner check is for logs written after work that read their owner earlier (a source's request
-- history, written once its request's body has been read, maybe 30 s after): without it, a request
-- finishing after its source was deleted made its history again, with a fresh expiry, which nothing
-- could read or delete.
if ARGV[6] == '1' and redis.call('EXISTS', KEYS[2]) == 0 then
  return 0
end
local retention = tonumber(ARGV[2])
appendLogEntry(KEYS[1], ARGV[1], ARGV[5], math.max(tonumber(ARGV[3]) - retention, 0))
if tonumber(ARGV[4]) > 0 then
  redis.call('XTRIM', KEYS[1], 'MAXLEN', ARGV[4])
end
redis.call('PEXPIRE', KEYS[1], retention)
return 1
