-- Cancels a READY task: it fails with the given error and never runs. ARGV: base, result time
-- to live (ms), id, the error (JSON). Returns its read() row, or an empty array when it is not
-- READY (any more).
local base, ttl_ms, id = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local key = base .. 't:' .. id
local f = redis.call('HMGET', key, 's', 'e', 'u')
if f[1] ~= 'READY' then
  return {}
end
redis.call('ZREM', base .. 'ready', id)
redis.call('ZREM', base .. 'delayed', id)
redis.call('HSET', key, 'e', append_json(f[2], ARGV[4]))
finish(base, id, 'FAILED', now_us(), ttl_ms, f[3], 'READY')
return read(base, id)
