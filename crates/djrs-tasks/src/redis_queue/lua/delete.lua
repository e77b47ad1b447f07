-- Deletes tasks of one queue that are not RUNNING (a running task is cancelled first), with
-- every entry that names them and the unique key each holds. KEYS[1]: the queue's ready set
-- (routing). ARGV: base, then ids. Returns 1 (deleted) or 0 per id.
local base = ARGV[1]
local out = {}
for i = 2, #ARGV do
  local id = ARGV[i]
  local key = base .. 't:' .. id
  local f = redis.call('HMGET', key, 's', 'u')
  if f[1] and f[1] ~= 'RUNNING' then
    redis.call('ZREM', base .. 'ready', id)
    redis.call('ZREM', base .. 'delayed', id)
    redis.call('ZREM', base .. 'leases', id)
    redis.call('ZREM', index(base, f[1]), id)
    redis.call('ZREM', finished(base, f[1]), id)
    release(base, id, f[2])
    redis.call('DEL', key)
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out
