-- wrk script for `make bench`: a signed Twilio-style POST, and a machine-readable summary.
--   wrk -s bench/post.lua http://127.0.0.1:PORT/voice -- '<form body>' '<X-Twilio-Signature>'
-- The signature is computed by bench/run.py for the exact URL and body.

function init(args)
  wrk.method = "POST"
  wrk.body = args[1] or ""
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  if args[2] and args[2] ~= "" then
    wrk.headers["X-Twilio-Signature"] = args[2]
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH {\"requests\": %d, \"duration_us\": %d, \"bytes\": %d, " ..
    "\"p50_us\": %d, \"p90_us\": %d, \"p99_us\": %d, \"max_us\": %d, \"mean_us\": %.1f, " ..
    "\"status_errors\": %d, \"connect_errors\": %d, \"read_errors\": %d, " ..
    "\"write_errors\": %d, \"timeouts\": %d}\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.status, e.connect, e.read, e.write, e.timeout))
end
