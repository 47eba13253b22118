-- wrk script: POST /fax with a 1-page PDF as multipart (to + file) and a database-stored key.
-- Counts the responses by status, so the run can be checked against the rows on disk.
local f = assert(io.open(os.getenv("BENCH_PDF"), "rb"))
local pdf = f:read("*a")
f:close()
local boundary = "faxlinebenchboundary"
wrk.method = "POST"
wrk.headers["X-API-Key"] = os.getenv("BENCH_KEY")
wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. boundary
wrk.body = "--" .. boundary .. "\r\n"
  .. "Content-Disposition: form-data; name=\"to\"\r\n\r\n+15551234567\r\n"
  .. "--" .. boundary .. "\r\n"
  .. "Content-Disposition: form-data; name=\"file\"; filename=\"page.pdf\"\r\n"
  .. "Content-Type: application/pdf\r\n\r\n" .. pdf .. "\r\n"
  .. "--" .. boundary .. "--\r\n"

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  accepted = 0
  other = 0
end

function response(status, headers, body)
  if status == 202 then
    accepted = accepted + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local a, o = 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("accepted")
    o = o + t:get("other")
  end
  io.write(string.format("accepted_202 %d\nother_status %d\n", a, o))
end
