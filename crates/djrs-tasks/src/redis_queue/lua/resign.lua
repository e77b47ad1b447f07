-- Gives up a leadership if the holder has it. KEYS[1]: its key. ARGV: holder.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
return 0
