-- wrk's figures as one JSON line, read by bench/run-comparison.sh (the HTTP
-- ceiling series): requests, duration and latency percentiles in
-- microseconds, socket errors, and answers that were not 2xx or 3xx.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"durationUs":%d,"socketErrors":%d,"non2xx":%d,' ..
    '"p50Us":%d,"p99Us":%d,"p999Us":%d,"maxUs":%d}\n',
    summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99),
    latency:percentile(99.9), latency.max))
end
