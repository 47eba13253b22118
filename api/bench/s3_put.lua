-- wrk script: PUT the benchmark's PDF to an S3-protocol server (with SSE-S3, as the API writes), to
-- measure the object store alone. Needs BENCH_PDF and BENCH_S3_SIGNED: PUTs signed ahead of the run by
-- api/bench/run.sh with botocore, one per line ("path<TAB>authorization<TAB>x-amz-date<TAB>
-- x-amz-content-sha256"), used in turn, so a key is written more than once. Counts the 200s, so a server
-- that refuses is not mistaken for a fast one.
local f = assert(io.open(os.getenv("BENCH_PDF"), "rb"))
local pdf = f:read("*a")
f:close()
local signed = {}
local signed_file = os.getenv("BENCH_S3_SIGNED")
assert(signed_file, "BENCH_S3_SIGNED is not set")
for line in io.lines(signed_file) do
  local path, auth, date, sha = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)\t([^\t]+)$")
  table.insert(signed, { path = path, auth = auth, date = date, sha = sha })
end
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
  local s = signed[(n + tid * 7919) % #signed + 1]
  return wrk.format("PUT", s.path, {
    ["Content-Type"] = "application/pdf",
    ["x-amz-server-side-encryption"] = "AES256",
    ["Authorization"] = s.auth,
    ["x-amz-date"] = s.date,
    ["x-amz-content-sha256"] = s.sha,
  }, pdf)
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
