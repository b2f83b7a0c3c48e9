-- Writes an endpoint's scheduling settings with the endpoint (L.configureEndpoint in lanes.lua,
-- loaded ahead of this script); EndpointStore adds it to the transaction that saves the endpoint.
-- ARGV: schedPrefix, nowMs, endpointId, subscriberId, perSecond ('' for no limit)
-- Returns 1 when the limit changed.
L.init(ARGV[1], ARGV[2])
return L.configureEndpoint(ARGV[3], ARGV[4], ARGV[5]) and 1 or 0
