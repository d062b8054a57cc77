-- The CPU-heavy page of apps/apache: a fixed arithmetic loop (a few ms of CPU), so throughput is
-- bound by CPU, not by the network. ?n=N changes the loop length (default 100000).
function handle(r)
  local args = r:parseargs()
  local n = tonumber(args.n) or 100000
  if n < 0 or n > 100000000 then n = 100000 end
  local x = 0
  for i = 1, n do
    x = (x * 31 + i) % 1000003
  end
  r.content_type = "text/plain"
  r:puts("dyn n=", n, " result=", x, "\n")
  return apache2.OK
end
