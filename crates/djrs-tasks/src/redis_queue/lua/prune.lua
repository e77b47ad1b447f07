-- Deletes up to a bound of finished results of one status finished before a time.
-- ARGV: base, status, before (ms), bound. Returns how many it deleted.
local base, status = ARGV[1], ARGV[2]
local set = index(base, status)
local ids = redis.call('ZRANGEBYSCORE', set, '-inf', '(' .. ARGV[3], 'LIMIT', 0, tonumber(ARGV[4]))
for _, id in ipairs(ids) do
  redis.call('DEL', base .. 't:' .. id)
  redis.call('ZREM', set, id)
end
return #ids
