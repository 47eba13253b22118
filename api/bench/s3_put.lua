-- wrk script: PUT the benchmark's PDF to an S3-protocol server as a new object each time (with
-- SSE-S3, as the API writes), to measure the object store alone. Needs BENCH_PDF; moto accepts
-- unsigned requests. Counts the 200s, so a server that refuses is not mistaken for a fast one.
local f = assert(io.open(os.getenv("BENCH_PDF"), "rb"))
local pdf = f:read("*a")
f:close()
local threads = {}
local n = 0

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  ok = 0
  other = 0
end

function request()
  n = n + 1
  return wrk.format("PUT", string.format("/bench/alone/%d-%d", tid, n),
    { ["Content-Type"] = "application/pdf", ["x-amz-server-side-encryption"] = "AES256" }, pdf)
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local a, o = 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("ok")
    o = o + t:get("other")
  end
  io.write(string.format("stored_200 %d\nother_status %d\n", a, o))
end
