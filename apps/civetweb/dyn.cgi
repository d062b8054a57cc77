#!/usr/bin/awk -f
# The CPU-heavy page of apps/civetweb, run by CivetWeb's CGI support (a process per request): a
# fixed arithmetic loop, so throughput is bound by CPU (fork/exec + loop), not by the network.
# ?n=N changes the loop length (default 5000).
BEGIN {
  n = 5000
  if (match(ENVIRON["QUERY_STRING"], /(^|&)n=[0-9]+/)) {
    q = substr(ENVIRON["QUERY_STRING"], RSTART, RLENGTH)
    sub(/.*n=/, "", q)
    if (q + 0 <= 100000000) n = q + 0
  }
  x = 0
  for (i = 1; i <= n; i++) x = (x * 31 + i) % 1000003
  printf "Content-Type: text/plain\r\n\r\n"
  printf "dyn n=%d result=%d\n", n, x
  exit 0
}
