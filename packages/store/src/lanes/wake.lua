-- Wakes sleeping endpoints or subscribers (members as lanes.lua names them): a worker's address
-- slot freed up. Loaded after lanes.lua.
-- ARGV: schedPrefix, nowMs, member...
L.init(ARGV[1], ARGV[2])
for i = 3, #ARGV do
  L.wake(ARGV[i])
end
return #ARGV - 2
