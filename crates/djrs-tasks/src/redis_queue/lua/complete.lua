-- Records attempts' outcomes in one queue, each only while its worker still holds that attempt.
-- ARGV: base, result time to live (ms, 0: kept), channel, worker, then 5 values per outcome: id,
-- attempt, kind (S succeeded, F failed, R retry, I interrupted, Z snoozed), payload (return
-- value or error JSON; empty for Z), delay before a retry or a snoozed run (ms). Returns 1
-- (recorded) or 0 (refused) per outcome.
local base, ttl_ms, worker = ARGV[1], tonumber(ARGV[2]), ARGV[4]
local now = now_us()
local now_ms = math.floor(now / 1000)
local out = {}
local woke = false
for i = 5, #ARGV, 5 do
  local id, attempt, kind, payload = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local key = base .. 't:' .. id
  local f = redis.call('HMGET', key, 's', 'lw', 'c', 'e', 'u', 'd', 'wp')
  if f[1] == 'RUNNING' and f[2] == worker and f[3] == attempt then
    if kind == 'S' then
      redis.call('HSET', key, 'r', payload)
      finish(base, id, 'SUCCESSFUL', now, ttl_ms, f[5], 'RUNNING')
    elseif kind == 'F' then
      redis.call('HSET', key, 'e', append_json(f[4], payload))
      finish(base, id, 'FAILED', now, ttl_ms, f[5], 'RUNNING')
    else
      local due_ms = now_ms
      if kind == 'R' then
        due_ms = now_ms + tonumber(ARGV[i + 4])
        redis.call('HSET', key, 's', 'READY', 'lw', '', 'e', append_json(f[4], payload), 'ra', int(due_ms * 1000))
      elseif kind == 'Z' then
        -- Snoozed: later, and the attempt does not count; no error.
        due_ms = now_ms + tonumber(ARGV[i + 4])
        redis.call('HSET', key, 's', 'READY', 'lw', '', 'ra', int(due_ms * 1000),
          'c', int(tonumber(f[3]) - 1), 'w', f[7] or '[]')
      else
        -- Interrupted: the attempt does not count.
        redis.call('HSET', key, 's', 'READY', 'lw', '', 'e', append_json(f[4], payload),
          'c', int(tonumber(f[3]) - 1), 'w', f[7] or '[]')
      end
      local priority = priority_and_max(f[6])
      requeue(base, id, priority, due_ms, now_ms)
      woke = woke or due_ms <= now_ms
    end
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
sweep(base, now_ms, ttl_ms)
if woke and ARGV[3] ~= '' then
  redis.call('PUBLISH', ARGV[3], '1')
end
return out
