-- Saves a running task's metadata, fenced as a completion is. KEYS[1]: the queue's ready set
-- (routing). ARGV: base, id, worker id, attempt, metadata JSON. Returns 1 if saved, 0 if the
-- worker no longer holds the task's lease for that attempt.
local key = ARGV[1] .. 't:' .. ARGV[2]
local f = redis.call('HMGET', key, 's', 'lw', 'c')
if f[1] ~= 'RUNNING' or f[2] ~= ARGV[3] or tonumber(f[3] or '0') ~= tonumber(ARGV[4]) then
  return 0
end
redis.call('HSET', key, 'md', ARGV[5])
return 1
