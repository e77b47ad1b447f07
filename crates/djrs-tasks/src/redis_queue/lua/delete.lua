-- Deletes tasks of one queue that are not RUNNING (a running task is cancelled first), with
-- every entry that names them and the unique key each holds. KEYS[1]: the queue's ready set
-- (routing). ARGV: base, then ids. Returns 1 (deleted) or 0 per id.
local base = ARGV[1]
return each_task(2, function(id, key)
  local f = redis.call('HMGET', key, 's', 'u')
  if not f[1] or f[1] == 'RUNNING' then
    return false
  end
  redis.call('ZREM', base .. 'ready', id)
  redis.call('ZREM', base .. 'delayed', id)
  redis.call('ZREM', base .. 'leases', id)
  redis.call('ZREM', index(base, f[1]), id)
  redis.call('ZREM', finished(base, f[1]), id)
  release(base, id, f[2])
  redis.call('DEL', key)
  return true
end)
