-- Deletes up to a bound of finished results of one status finished before a time.
-- ARGV: base, status, before (µs), bound. Returns how many it deleted.
local base, status = ARGV[1], ARGV[2]
local ids = redis.call('ZRANGEBYSCORE', finished(base, status), '-inf', '(' .. ARGV[3], 'LIMIT', 0, tonumber(ARGV[4]))
for _, id in ipairs(ids) do
  redis.call('DEL', base .. 't:' .. id)
end
if #ids > 0 then
  redis.call('ZREM', finished(base, status), unpack(ids))
  redis.call('ZREM', index(base, status), unpack(ids))
end
return #ids
