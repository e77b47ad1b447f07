-- Asks the worker running a task to cancel it: records the attempt the request is for, which
-- the worker's next lease renewal reports. ARGV: base, id. Returns 1, or 0 when the task is not
-- RUNNING.
local key = ARGV[1] .. 't:' .. ARGV[2]
local f = redis.call('HMGET', key, 's', 'c')
if f[1] ~= 'RUNNING' then
  return 0
end
redis.call('HSET', key, 'x', f[2])
return 1
