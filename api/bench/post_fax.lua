-- wrk script: POST /fax with a 1-page PDF as multipart (to + file) and a database-stored key.
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
