-- wrk script for ../../bench.sh: POSTs the JSON bodies of BENCH_BODIES (one per line) in turn,
-- each thread from its own starting point, as a signed-in browser would (session cookie, JSON,
-- compression accepted), and prints the run as one JSON line.
local bodies = {}
for line in io.lines(os.getenv("BENCH_BODIES")) do
  bodies[#bodies + 1] = line
end
local headers = {
  ["Content-Type"] = "application/json",
  ["Accept"] = "application/json",
  ["Accept-Encoding"] = "gzip, deflate, br, zstd",
  ["Cookie"] = os.getenv("BENCH_COOKIE"),
}
local next_body = 0

function setup(thread)
  thread:set("offset", math.random(#bodies))
end

function init(args)
  next_body = (offset or 0)
end

function request()
  next_body = next_body % #bodies + 1
  return wrk.format("POST", nil, headers, bodies[next_body])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"latency_us":{"p50":%d,"p95":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, latency.mean))
end
