"""The official MCP Python SDK (`mcp` from PyPI) as an assistant would use Faxline's MCP server.

    mcp_client.py stdio FAXLINE_BIN API_URL KEY READ_ONLY_KEY PDF
    mcp_client.py http  MCP_URL KEY READ_ONLY_KEY PDF

Lists the tools, sends the PDF (a path on stdio, base64 over HTTP), polls it to SUCCESS, looks at
its page image, reads the received copy (PDF resource and page image), and checks the refusals:
a key without `fax:send`, malformed arguments, an unknown fax. Every check asserts; the last line
of standard output is a JSON summary for the Rust test.
"""

import asyncio
import base64
import json
import sys
import time

import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

TO = "+15551234567"
TOOLS = {"send_fax", "get_fax_status", "list_faxes", "cancel_fax", "list_inbound", "get_inbound"}


def connect(mode, target, key):
    if mode == "stdio":
        faxline, api_url = target
        return Client(
            StdioServerParameters(
                command=faxline,
                args=["mcp"],
                env={"FAXLINE_API_URL": api_url, "FAXLINE_API_KEY": key, "RUST_LOG": "warn"},
            )
        )
    http = create_mcp_http_client(headers={"X-API-Key": key})
    return Client(streamable_http_client(target, http_client=http))


def text_of(result):
    return "\n".join(c.text for c in result.content if getattr(c, "type", None) == "text")


def ok(result, what):
    assert not result.is_error, f"{what} failed: {text_of(result)}"
    return result


def first_json(result):
    return json.loads(result.content[0].text)


async def refused(client, tool, args):
    """The error text of a call that must fail: an MCP tool error or a JSON-RPC error."""
    try:
        result = await client.call_tool(tool, args)
    except Exception as e:  # the SDK raises for protocol-level (invalid params) errors
        return str(e)
    assert result.is_error, f"{tool}({args}) should have failed: {text_of(result)}"
    return text_of(result)


def png_images(result):
    images = [c for c in result.content if getattr(c, "type", None) == "image"]
    for img in images:
        assert img.mime_type == "image/png", img.mime_type
        assert base64.b64decode(img.data).startswith(b"\x89PNG\r\n\x1a\n"), "not a PNG"
    return images


async def main():
    mode = sys.argv[1]
    if mode == "stdio":
        target = (sys.argv[2], sys.argv[3])
        key, read_only, pdf = sys.argv[4:7]
    else:
        target = sys.argv[2]
        key, read_only, pdf = sys.argv[3:6]
    summary = {}

    async with connect(mode, target, key) as client:
        tools = (await client.list_tools()).tools
        names = {t.name for t in tools}
        assert names == TOOLS, names
        for t in tools:
            assert t.description and len(t.description) > 40, t.name
            assert t.input_schema.get("type") == "object", (t.name, t.input_schema)
        send = next(t for t in tools if t.name == "send_fax")
        assert "to" in send.input_schema["required"], send.input_schema
        for prop in ("to", "document_path", "document_base64", "file_name"):
            assert prop in send.input_schema["properties"], (prop, send.input_schema)

        # Malformed arguments: clear errors naming the problem.
        e = await refused(client, "send_fax", {"document_base64": "JVBERi0="})
        assert "to" in e, e
        e = await refused(client, "send_fax", {"to": TO, "document_base64": "%%% not base64"})
        assert "not valid base64" in e, e
        e = await refused(client, "send_fax", {"to": "call me", "document_base64": "JVBERi0="})
        assert "E.164" in e, e
        e = await refused(client, "send_fax", {"to": TO})
        assert "document" in e, e
        e = await refused(client, "get_fax_status", {"id": "../../admin"})
        assert "32 hexadecimal" in e, e
        e = await refused(client, "get_fax_status", {"id": "0" * 32})
        assert "404" in e and "Job not found" in e, e
        e = await refused(client, "cancel_fax", {"id": "0" * 32})
        assert "Job not found" in e, e
        e = await refused(client, "list_faxes", {"limit": "many"})
        assert "limit" in e, e
        # The API's own refusal, passed on: a document that is neither PDF nor text.
        e = await refused(client, "send_fax", {"to": TO, "document_base64": base64.b64encode(b"\x00\x01\x02binary").decode()})
        assert "415" in e and "Only PDF and TXT" in e, e

        if mode == "stdio":
            sent = ok(await client.call_tool("send_fax", {"to": TO, "document_path": pdf}), "send_fax")
            e = await refused(client, "send_fax", {"to": TO, "document_path": "/nonexistent/file.pdf"})
            assert "cannot open" in e, e
            e = await refused(client, "send_fax", {"to": TO, "document_path": "/"})
            assert "not a regular file" in e, e
        else:
            with open(pdf, "rb") as f:
                b64 = base64.b64encode(f.read()).decode()
            sent = ok(
                await client.call_tool("send_fax", {"to": TO, "document_base64": b64, "file_name": "doc.pdf"}),
                "send_fax",
            )
            e = await refused(client, "send_fax", {"to": TO, "document_path": pdf})
            assert "only accepted by the local (stdio) server" in e, e
        job = first_json(sent)
        assert job["status"] == "queued", job
        assert job["to"] == TO, job
        summary["job"] = job["id"]

        deadline = time.monotonic() + 120
        while True:
            status = first_json(ok(await client.call_tool("get_fax_status", {"id": job["id"]}), "status"))
            if status["status"] in ("SUCCESS", "FAILED", "cancelled"):
                break
            assert time.monotonic() < deadline, f"never finished: {status}"
            await asyncio.sleep(0.5)
        assert status["status"] == "SUCCESS", status
        assert status["pages"] == 1, status

        with_pages = ok(
            await client.call_tool("get_fax_status", {"id": job["id"], "include_pages": True, "image_width": 400}),
            "pages",
        )
        assert len(png_images(with_pages)) == 1, with_pages.content
        e = await refused(client, "get_fax_status", {"id": job["id"], "include_pages": True, "first_page": 2})
        assert "has 1 page" in e, e

        listed = first_json(ok(await client.call_tool("list_faxes", {"limit": 100}), "list_faxes"))
        assert job["id"] in [j["id"] for j in listed["jobs"]], listed

        # The loopback line's answering side delivers a copy: the received fax.
        deadline = time.monotonic() + 60
        while True:
            inbound = first_json(ok(await client.call_tool("list_inbound", {}), "list_inbound"))
            if inbound:
                break
            assert time.monotonic() < deadline, "nothing received"
            await asyncio.sleep(0.5)
        fax = inbound[0]
        got = ok(await client.call_tool("get_inbound", {"id": fax["id"], "include_pages": True}), "get_inbound")
        meta = first_json(got)
        assert meta["id"] == fax["id"] and meta["pages"] == 1, meta
        resources = [c for c in got.content if getattr(c, "type", None) == "resource"]
        assert len(resources) == 1, got.content
        res = resources[0].resource
        assert res.mime_type == "application/pdf", res
        assert str(res.uri) == f"faxline://inbound/{fax['id']}/pdf", res.uri
        assert base64.b64decode(res.blob).startswith(b"%PDF"), "not a PDF"
        assert len(png_images(got)) == 1, got.content
        summary["inbound"] = fax["id"]

        # A document Faxline already holds, by reference: the received fax forwarded; bad references refused.
        fwd = first_json(
            ok(await client.call_tool("send_fax", {"to": TO, "document_ref": f"inbound:{fax['id']}"}), "forward")
        )
        assert fwd["status"] == "queued", fwd
        summary["forwarded"] = fwd["id"]
        e = await refused(client, "send_fax", {"to": TO, "document_ref": "inbound:" + "0" * 32})
        assert "404" in e, e
        e = await refused(client, "send_fax", {"to": TO, "document_ref": "mailbox:1"})
        assert "inbound:<id>" in e, e
        e = await refused(client, "send_fax", {"to": TO, "document_ref": f"fax:{job['id']}", "document_base64": "JVBERi0="})
        assert "exactly one" in e, e

    # A key without fax:send: reading works, sending is refused with the API's message.
    async with connect(mode, target, read_only) as client:
        # It reads its own faxes (none): another key's fax is not found for it (job ownership).
        mine = first_json(ok(await client.call_tool("list_faxes", {}), "list with fax:read"))
        assert mine["total"] == 0, mine
        e = await refused(client, "get_fax_status", {"id": summary["job"]})
        assert "Job not found" in e, e
        e = await refused(client, "send_fax", {"to": TO, "document_base64": "JVBERi0="})
        assert "403" in e and "Insufficient scope: fax:send required" in e, e
        e = await refused(client, "cancel_fax", {"id": summary["job"]})
        assert "Insufficient scope: fax:send required" in e, e
        e = await refused(client, "list_inbound", {})
        assert "Insufficient scope: inbound:list required" in e, e

    print(json.dumps(summary))


asyncio.run(main())
