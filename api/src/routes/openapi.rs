//! `GET /openapi.json`: a hand-maintained OpenAPI 3.1 description of the public routes.

use axum::Json;
use faxline_protocol::JobStatus;
use serde_json::{Value, json};

pub(crate) async fn openapi() -> Json<Value> {
    let key = json!([{"ApiKey": []}]);
    let err = json!({"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let job = json!({"description": "Job", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/FaxJobOut"}}}});
    let id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}});
    // The statuses Faxline writes (it only reads Faxbot's lower-case `failed`).
    let statuses: Vec<&str> = JobStatus::ALL
        .into_iter()
        .filter(|s| *s != JobStatus::FailedLowercase)
        .map(JobStatus::as_str)
        .collect();
    Json(json!({
        "openapi": "3.1.0",
        "info": {"title": "Faxline API (Faxbot-compatible)", "version": env!("CARGO_PKG_VERSION")},
        "components": {
            "securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
            "schemas": {
                "Error": {"type": "object", "properties": {"detail": {"type": "string"}}},
                "FaxJobOut": {"type": "object", "properties": {
                    "id": {"type": "string"}, "to": {"type": "string"},
                    "status": {"type": "string", "enum": statuses},
                    "error": {"type": ["string", "null"]}, "pages": {"type": ["integer", "null"]},
                    "backend": {"type": "string"}, "provider_sid": {"type": ["string", "null"]},
                    "created_at": {"type": "string"}, "updated_at": {"type": "string"},
                    "pages_sent": {"type": ["integer", "null"], "description": "Faxline: pages sent so far, as the agent reported"},
                    "stage": {"type": ["string", "null"], "description": "Faxline: the last call phase the agent reported, e.g. `T.38 Negotiated`"},
                    "bitrate": {"type": ["integer", "null"], "description": "Faxline: image bit rate of the transfer (bit/s)"},
                    "mode": {"type": ["string", "null"], "description": "Faxline: `T38` or `audio`"},
                    "remote_ident": {"type": ["string", "null"], "description": "Faxline: the far end's station identifier (CSI)"},
                    "line": {"type": ["string", "null"], "description": "Faxline: the kind of line that carried the job (or carries it now); `backend` gives it under Faxbot's name"},
                    "requested_backend": {"type": ["string", "null"], "description": "Faxline: the line the client pinned the job to with `backend`"},
                    "lines_tried": {"type": "array", "items": {"type": "string"}, "description": "Faxline: the lines that could not place the job; the routing policy sent it on to the next"}}},
                "InboundFaxOut": {"type": "object", "properties": {
                    "id": {"type": "string"}, "fr": {"type": ["string", "null"]}, "to": {"type": ["string", "null"]},
                    "status": {"type": "string"}, "backend": {"type": "string"}, "pages": {"type": ["integer", "null"]},
                    "size_bytes": {"type": ["integer", "null"]}, "created_at": {"type": "string"},
                    "received_at": {"type": "string"}, "updated_at": {"type": "string"}, "mailbox": {"type": ["string", "null"]}}}
            }
        },
        "paths": {
            "/health": {"get": {"summary": "Liveness", "responses": {"200": {"description": "ok"}}}},
            "/health/ready": {"get": {"summary": "Readiness: database, agents, signature verification",
                "responses": {"200": {"description": "ready"}, "503": {"description": "not ready"}}}},
            "/fax": {
                "post": {"summary": "Send a fax (PDF or UTF-8 text)", "security": key,
                    "parameters": [{"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string"}}],
                    "requestBody": {"required": true, "content": {"multipart/form-data": {"schema": {"type": "object",
                        "required": ["to", "file"], "properties": {"to": {"type": "string", "pattern": "^[+]?\\d{6,20}$"},
                        "file": {"type": "string", "format": "binary"},
                        "backend": {"type": "string", "description": "Faxline: the line kind to send on (`sip`, `phaxio`, …), only from the operator's `backends` list; the job never fails over to another line"}}}}}},
                    "responses": {"202": job, "400": err, "401": err, "403": err, "413": err, "415": err, "422": {"description": "Missing field, a `backend` the operator does not allow, or Idempotency-Key already used with a different number, document or backend"}, "429": err}},
                "get": {"summary": "List jobs (newest first): the key's own, or every key's with fax:admin", "security": key,
                    "parameters": [{"name": "status", "in": "query", "schema": {"type": "string"}},
                        {"name": "to", "in": "query", "schema": {"type": "string"}},
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}},
                        {"name": "offset", "in": "query", "schema": {"type": "integer"}}],
                    "responses": {"200": {"description": "{total, limit, offset, jobs}"}, "401": err}}
            },
            "/fax/{id}": {"get": {"summary": "Job status", "security": key, "parameters": [id], "responses": {"200": job, "404": err, "401": err}}},
            "/fax/{id}/cancel": {"post": {"summary": "Cancel a queued job", "security": key, "parameters": [id], "responses": {"200": job, "404": err, "409": err}}},
            "/fax/{id}/pdf-link": {"post": {"summary": "Mint a signed, expiring PDF link", "security": key, "parameters": [id], "responses": {"200": {"description": "{url, token, expires_at}"}, "404": err}}},
            "/fax/{id}/pdf": {"get": {"summary": "Download the PDF with a signed token", "parameters": [id, {"name": "token", "in": "query", "required": true, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "PDF", "content": {"application/pdf": {}}}, "403": err, "404": err, "422": {"description": "Missing token"}}}},
            "/fax/{id}/preview/{page}": {"get": {"summary": "PNG of one page (1-based) as it will be faxed: 1728 px wide at 204 x 196 dpi, or a thumbnail", "security": key,
                "parameters": [id, {"name": "page", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1}},
                    {"name": "width", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 16, "maximum": 1728}}],
                "responses": {"200": {"description": "PNG", "content": {"image/png": {}}}, "401": err, "403": err, "404": err, "422": err}}},
            "/inbound": {"get": {"summary": "Received faxes (newest first, max 100)", "security": key, "responses": {"200": {"description": "array of InboundFaxOut"}, "404": err}}},
            "/inbound/{id}": {"get": {"summary": "One received fax", "security": key, "parameters": [id], "responses": {"200": {"description": "InboundFaxOut"}, "404": err}}},
            "/inbound/{id}/pdf-link": {"post": {"summary": "Mint a signed, expiring link", "security": key, "parameters": [id], "responses": {"200": {"description": "{url, token, expires_at}"}}}},
            "/inbound/{id}/preview/{page}": {"get": {"summary": "PNG of one received page (1-based): 1728 px wide at 204 x 196 dpi, or a thumbnail", "security": key,
                "parameters": [id, {"name": "page", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1}},
                    {"name": "width", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 16, "maximum": 1728}}],
                "responses": {"200": {"description": "PNG", "content": {"image/png": {}}}, "401": err, "403": err, "404": err, "422": err}}},
            "/inbound/{id}/pdf": {"get": {"summary": "Download with a signed token or a key with inbound:read", "parameters": [id], "responses": {"200": {"description": "PDF"}, "403": err, "404": err}}},
            "/admin/api-keys": {"post": {"summary": "Create a key (token shown once)", "security": key, "responses": {"200": {"description": "key"}, "401": err}},
                "get": {"summary": "List keys", "security": key, "responses": {"200": {"description": "keys"}}}},
            "/admin/api-keys/{key_id}": {"delete": {"summary": "Revoke a key", "security": key, "responses": {"200": {"description": "ok"}, "404": err}}},
            "/admin/api-keys/{key_id}/rotate": {"post": {"summary": "Rotate a key's secret", "security": key, "responses": {"200": {"description": "{key_id, token}"}, "404": err}}}
        }
    }))
}
