-- Takes a delivery out of the scheduler without an attempt: its event expired, it had ended
-- already, or its endpoint was disabled. Loaded after lanes.lua.
-- ARGV: schedPrefix, nowMs, deliveryId, ticket ('' for whatever ticket it has)
-- Returns 1 when the delivery was live (and so left), else 0.
L.init(ARGV[1], ARGV[2])
local id = ARGV[3]
local x = L.entry(id)
if not x or (ARGV[4] ~= '' and x.ticket ~= tonumber(ARGV[4])) then
  return 0
end
L.forget(id, x)
return 1
