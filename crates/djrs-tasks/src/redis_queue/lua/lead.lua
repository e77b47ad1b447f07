-- Takes or keeps a leadership. KEYS[1]: its key. ARGV: holder, lease (ms). Returns 1 while the
-- holder leads.
local current = redis.call('GET', KEYS[1])
if not current or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
