-- Claims up to n due tasks of one queue for a worker. KEYS[1]: the queue's ready set (routing).
-- ARGV: base, n, lease (ms), configured queue limit (-1: none), worker id, worker id as JSON,
-- promotion bound. A limit set at run time (the queue's `limit` key: a number, or 'u' for none)
-- overrides the configured one.
-- Returns one read() row per claimed task, in claim order.
local base = ARGV[1]
local n = tonumber(ARGV[2])
local lease_ms = tonumber(ARGV[3])
local limit = tonumber(ARGV[4])
local worker, worker_json = ARGV[5], ARGV[6]
local now = now_us()
local now_ms = math.floor(now / 1000)
local ready, delayed, leases = base .. 'ready', base .. 'delayed', base .. 'leases'
-- Deferred tasks that are due join the ready set (a bounded number per call).
local due = redis.call('ZRANGEBYSCORE', delayed, '-inf', int(now_ms), 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[7]))
for i = 1, #due, 2 do
  local id = due[i]
  local d = redis.call('HGET', base .. 't:' .. id, 'd')
  local priority = d and priority_and_max(d) or 0
  redis.call('ZADD', ready, ready_score(priority, tonumber(due[i + 1])), id)
  redis.call('ZREM', delayed, id)
end
local set = redis.call('GET', base .. 'limit')
if set == 'u' then
  limit = -1
elseif set then
  limit = tonumber(set)
end
if limit >= 0 then
  -- Only live leases hold a slot: a dead worker's slot frees when its lease expires.
  n = math.min(n, limit - redis.call('ZCOUNT', leases, int(now_ms), '+inf'))
end
local out = {}
-- A paused queue gives nothing, whoever paused it.
if n <= 0 or redis.call('EXISTS', base .. 'paused') == 1 then
  return out
end
local popped = redis.call('ZPOPMIN', ready, n)
for i = 1, #popped, 2 do
  local id = popped[i]
  local key = base .. 't:' .. id
  local f = redis.call('HMGET', key, 'w', 'c', 'st', 's')
  if f[4] then
    redis.call('HSET', key, 's', 'RUNNING', 'lw', worker, 'wp', f[1] or '[]', 'w', append_json(f[1], worker_json),
      'c', int(tonumber(f[2] or '0') + 1), 'st', f[3] or int(now), 'la', int(now))
    redis.call('ZADD', leases, int(now_ms + lease_ms), id)
    redis.call('ZREM', index(base, 'READY'), id)
    redis.call('ZADD', index(base, 'RUNNING'), 0, id)
    out[#out + 1] = read(base, id)
  else
    -- Its data is gone (deleted or evicted): drop what still names it.
    redis.call('ZREM', index(base, 'READY'), id)
  end
end
return out
