"""Drives a live Faxline API with the published Faxbot Python SDK (faxbot==1.1.0).

argv: base_url api_key pdf_path txt_path. Prints the created job ids as JSON on success;
any mismatch raises (non-zero exit).
"""
import json
import sys

from faxbot import FaxbotClient


def expect_error(fn, message):
    try:
        fn()
    except Exception as e:  # the SDK raises plain Exception
        assert str(e) == message, f"got {str(e)!r}, want {message!r}"
        return
    raise SystemExit(f"no error, expected {message!r}")


base, key, pdf, txt = sys.argv[1:5]
client = FaxbotClient(base_url=base + "/", api_key=key)
assert client.check_health() is True

job = client.send_fax("+15551234567", pdf)
assert len(job["id"]) == 32 and job["status"] == "queued" and job["to"] == "+15551234567", job
text_job = client.send_fax("15551234567", txt)
assert text_job["status"] == "queued", text_job

status = client.get_status(job["id"])
assert status["id"] == job["id"] and status["status"] == "queued", status
for field in ("id", "status", "to", "error", "pages"):
    assert field in status, field

expect_error(lambda: client.send_fax("abc", pdf),
             "Bad Request (400): 'to' must be E.164 or digits only")
expect_error(lambda: client.get_status("0" * 32),
             f"Fax job not found (404): Job ID {'0' * 32} does not exist.")
bad = FaxbotClient(base_url=base, api_key="fbk_live_abcdefabcdef_not-a-real-secret")
expect_error(lambda: bad.send_fax("+15551234567", pdf),
             "Unauthorized (401): invalid API key or missing authentication.")
expect_error(lambda: bad.get_status(job["id"]),
             "Unauthorized (401): invalid API key for retrieving fax status.")

print(json.dumps({"pdf_job": job["id"], "txt_job": text_job["id"]}))
