//! The Model Context Protocol server: tools that let an assistant send and read faxes with the same
//! keys and scopes as the REST API. Each tool is one or more of the API's own REST requests,
//! executed by a [`RestBackend`]: in-process against the API's router for `/mcp` (Streamable HTTP,
//! [`http`]), over HTTP to a configured API for `faxline mcp` on stdio. So there is one
//! implementation of every rule (authentication, scopes, job ownership, rate limits, the audit log
//! and the error messages): the API's.
//!
//! Logs name the tool and the outcome only: never a number, a document or a key.

mod args;
mod backend;
pub(crate) mod http;
pub(crate) mod oauth;

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{
    CallToolResult, ContentBlock, Implementation, ResourceContents, ServerCapabilities,
    ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, schemars, tool, tool_handler, tool_router};
use serde::Deserialize;
use serde_json::Value;

use args::Parameters;
pub use axum::http::request::Parts;
pub(crate) use backend::InProcess;
pub use backend::{BackendError, RestBackend, RestRequest, RestResponse, Upload};
pub use futures::future::BoxFuture;

use crate::auth::Principal;
use faxline_protocol::PhoneNumber;

/// The caller a bearer token on `/mcp` proved: carried to the REST requests its tools make
/// in-process, where the routes check its scopes as a key's (requests from the network cannot
/// carry it: it is a request extension, never a header).
#[derive(Debug, Clone)]
pub struct Delegated(pub Principal);

/// At most this many page images in one tool result (an assistant asks for more by range).
pub const MAX_PAGE_IMAGES: u32 = 10;
/// Page image width when the assistant does not ask for one: half the fax width, legible and small.
pub const DEFAULT_IMAGE_WIDTH: u32 = 864;

/// How the server may take documents.
#[derive(Debug, Clone, Copy)]
pub enum Documents {
    /// `document_path` is read from this machine's files (stdio: the assistant runs as the user).
    PathsAllowed {
        /// The largest file read, in bytes.
        max_bytes: u64,
    },
    /// Only `document_base64` (HTTP: the server's files are not the caller's).
    Base64Only,
}

/// The fax tools over a [`RestBackend`].
#[derive(Clone)]
pub struct FaxMcp {
    backend: Arc<dyn RestBackend>,
    documents: Documents,
    /// What the audit log calls this transport (`http`, `stdio`).
    transport: &'static str,
    tool_router: ToolRouter<Self>,
}

/// `send_fax`'s arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SendFaxArgs {
    /// The number to fax: E.164 with a leading `+` (e.g. `+15551234567`) or 6 to 20 digits only,
    /// no spaces, dashes or brackets.
    pub to: String,
    /// The document as a path to a PDF or plain-text (UTF-8) file on the machine running the
    /// server. Only with the local (stdio) server. Give exactly one of `document_path`,
    /// `document_base64` and `document_ref`.
    #[serde(default)]
    pub document_path: Option<String>,
    /// The document's bytes, base64-encoded (standard alphabet, padding optional): a PDF or a
    /// plain-text (UTF-8) file. Give exactly one of `document_path`, `document_base64` and
    /// `document_ref`.
    #[serde(default)]
    pub document_base64: Option<String>,
    /// A document Faxline already holds, by reference, so it need not be sent again:
    /// `inbound:<id>` forwards a received fax (its PDF; needs `inbound:read`), `fax:<id>` sends the
    /// document of an earlier fax again (needs `fax:read`). Ids as `list_inbound` and `list_faxes`
    /// return them. Give exactly one of `document_path`, `document_base64` and `document_ref`.
    #[serde(default)]
    pub document_ref: Option<String>,
    /// The document's file name (e.g. `referral.pdf`), kept with the fax for people reading the
    /// list. Optional; the type is always detected from the content.
    #[serde(default)]
    pub file_name: Option<String>,
}

/// Arguments naming one fax.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FaxIdArgs {
    /// The fax id `send_fax` or `list_faxes` returned: 32 hexadecimal characters.
    pub id: String,
}

/// Arguments reading one fax, sent or received, optionally with its pages as images.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadFaxArgs {
    /// The fax id (32 hexadecimal characters) from `send_fax`, `list_faxes` or `list_inbound`.
    pub id: String,
    /// Also return the pages as PNG images, to look at what was faxed. Default false.
    #[serde(default)]
    pub include_pages: bool,
    /// The first page to return as an image (from 1). Default 1.
    #[serde(default)]
    pub first_page: Option<u32>,
    /// How many pages to return as images, 1 to 10. Default 10 (or to the last page).
    #[serde(default)]
    pub max_pages: Option<u32>,
    /// Image width in pixels, 200 to 1728 (a fax page is 1728 wide). Default 864.
    #[serde(default)]
    pub image_width: Option<u32>,
}

/// `get_inbound`'s arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetInboundArgs {
    /// The received fax's id (32 hexadecimal characters) from `list_inbound`.
    pub id: String,
    /// Also return the received fax's PDF as an embedded resource. Default true.
    #[serde(default)]
    pub include_pdf: Option<bool>,
    /// Also return the pages as PNG images, to read the fax. Default false.
    #[serde(default)]
    pub include_pages: bool,
    /// The first page to return as an image (from 1). Default 1.
    #[serde(default)]
    pub first_page: Option<u32>,
    /// How many pages to return as images, 1 to 10. Default 10 (or to the last page).
    #[serde(default)]
    pub max_pages: Option<u32>,
    /// Image width in pixels, 200 to 1728 (a fax page is 1728 wide). Default 864.
    #[serde(default)]
    pub image_width: Option<u32>,
}

impl GetInboundArgs {
    fn read(&self) -> ReadFaxArgs {
        ReadFaxArgs {
            id: self.id.clone(),
            include_pages: self.include_pages,
            first_page: self.first_page,
            max_pages: self.max_pages,
            image_width: self.image_width,
        }
    }
}

/// `list_faxes`' arguments.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListFaxesArgs {
    /// Only faxes in this status: `queued`, `in_progress`, `SUCCESS`, `FAILED` or `cancelled`.
    #[serde(default)]
    pub status: Option<String>,
    /// Only faxes to this number (exactly as it was sent).
    #[serde(default)]
    pub to: Option<String>,
    /// How many, 1 to 100. Default 50. Newest first.
    #[serde(default)]
    pub limit: Option<u32>,
    /// How many to skip, for the next page. Default 0.
    #[serde(default)]
    pub offset: Option<u32>,
}

/// `list_inbound`'s arguments.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListInboundArgs {
    /// Only faxes received on this number of ours.
    #[serde(default)]
    pub to_number: Option<String>,
    /// Only faxes in this status (e.g. `received`).
    #[serde(default)]
    pub status: Option<String>,
    /// Only faxes of this mailbox label.
    #[serde(default)]
    pub mailbox: Option<String>,
    /// How many, 1 to 100. Default 100. Newest first.
    #[serde(default)]
    pub limit: Option<u32>,
    /// How many to skip, for the next page. Default 0.
    #[serde(default)]
    pub offset: Option<u32>,
}

/// A tool's failure, answered as an MCP tool error (`isError`) with this text.
struct ToolFailure(String);

impl ToolFailure {
    fn result(self) -> CallToolResult {
        CallToolResult::error(vec![ContentBlock::text(self.0)])
    }
}

impl From<BackendError> for ToolFailure {
    fn from(e: BackendError) -> Self {
        ToolFailure(e.to_string())
    }
}

type ToolResult = Result<CallToolResult, ErrorData>;

/// A fax id as the API makes them; anything else cannot exist (checked here so a malformed id
/// never becomes part of a path).
fn checked_id(id: &str) -> Result<&str, ToolFailure> {
    let id = id.trim();
    if crate::routes::valid_id(id) {
        Ok(id)
    } else {
        Err(ToolFailure(
            "'id' must be a fax id: 32 hexadecimal characters, as send_fax, list_faxes or list_inbound return it"
                .into(),
        ))
    }
}

/// `?a=1&b=x` from the parameters that are set, form-encoded.
fn query(params: &[(&str, Option<String>)]) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        if let Some(v) = v {
            q.append_pair(k, v);
        }
    }
    let q = q.finish();
    if q.is_empty() { q } else { format!("?{q}") }
}

/// The API's message for a refused request: its `detail`, with the status.
fn refusal(resp: &RestResponse) -> ToolFailure {
    let detail = serde_json::from_slice::<Value>(&resp.body)
        .ok()
        .and_then(|v| match v.get("detail") {
            Some(Value::String(s)) => Some(s.clone()),
            // FastAPI's validation shape: name the missing fields.
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .map(|i| {
                        let field = i["loc"]
                            .as_array()
                            .and_then(|l| l.last())
                            .and_then(Value::as_str)
                            .unwrap_or("?");
                        format!("{field}: {}", i["msg"].as_str().unwrap_or("invalid"))
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            _ => None,
        })
        .unwrap_or_else(|| {
            String::from_utf8_lossy(&resp.body)
                .chars()
                .take(300)
                .collect()
        });
    let reason = axum::http::StatusCode::from_u16(resp.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    ToolFailure(format!("{} {reason}: {detail}", resp.status))
}

fn is_success(resp: &RestResponse) -> bool {
    (200..300).contains(&resp.status)
}

fn json_body(resp: &RestResponse) -> Result<Value, ToolFailure> {
    serde_json::from_slice(&resp.body)
        .map_err(|_| ToolFailure("the Faxline API answered something that is not JSON".into()))
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

impl FaxMcp {
    /// The fax tools over `backend`, taking documents as `documents` says; `transport` names the
    /// transport in the audit log.
    pub fn new(
        backend: Arc<dyn RestBackend>,
        documents: Documents,
        transport: &'static str,
    ) -> Self {
        Self {
            backend,
            documents,
            transport,
            tool_router: Self::tool_router(),
        }
    }

    /// One REST request on behalf of the caller whose MCP request `ctx` carries.
    async fn rest(
        &self,
        ctx: &RequestContext<RoleServer>,
        req: RestRequest,
    ) -> Result<RestResponse, BackendError> {
        let parts = ctx.extensions.get::<axum::http::request::Parts>();
        self.backend.call(parts, req).await
    }

    /// A JSON REST answer, or the API's refusal.
    async fn rest_json(
        &self,
        ctx: &RequestContext<RoleServer>,
        req: RestRequest,
    ) -> Result<Value, ToolFailure> {
        let resp = self.rest(ctx, req).await?;
        if !is_success(&resp) {
            return Err(refusal(&resp));
        }
        json_body(&resp)
    }

    /// Audits one tool call: the tool, who called (when the transport knows) and how it ended.
    /// Runs one tool's body: a failure becomes an MCP tool error carrying the API's message (what an
    /// assistant can act on), and every call is audited.
    async fn answer(
        &self,
        ctx: &RequestContext<RoleServer>,
        tool: &'static str,
        body: impl std::future::Future<Output = Result<Vec<ContentBlock>, ToolFailure>>,
    ) -> ToolResult {
        let result = Ok(match body.await {
            Ok(content) => CallToolResult::success(content),
            Err(f) => f.result(),
        });
        self.audit(ctx, tool, &result);
        result
    }

    fn audit(&self, ctx: &RequestContext<RoleServer>, tool: &'static str, result: &ToolResult) {
        let key_id = ctx
            .extensions
            .get::<axum::http::request::Parts>()
            .and_then(|p| p.extensions.get::<Principal>())
            .map(|p| p.key_id.clone())
            .unwrap_or_else(|| "-".into());
        let outcome = match result {
            Ok(r) if r.is_error == Some(true) => "refused",
            Ok(_) => "ok",
            Err(_) => "error",
        };
        crate::audit!(
            "mcp_tool_called",
            tool = tool,
            transport = self.transport,
            key_id = %key_id,
            outcome = outcome
        );
    }

    /// Reads `send_fax`'s document: exactly one of a path (when allowed) and base64.
    async fn document(
        &self,
        ctx: &RequestContext<RoleServer>,
        args: &SendFaxArgs,
    ) -> Result<(String, bytes::Bytes), ToolFailure> {
        let named = args
            .file_name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty());
        let given = [
            args.document_path.is_some(),
            args.document_base64.is_some(),
            args.document_ref.is_some(),
        ];
        match given.iter().filter(|g| **g).count() {
            0 => {
                return Err(ToolFailure(
                    "a document is required: 'document_base64' (the file's bytes, base64), 'document_ref' (inbound:<id> or fax:<id>) or, with the local server, 'document_path'"
                        .into(),
                ));
            }
            1 => {}
            _ => {
                return Err(ToolFailure(
                    "give exactly one of 'document_path', 'document_base64' and 'document_ref'"
                        .into(),
                ));
            }
        }
        if let Some(b64) = &args.document_base64 {
            let compact: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            let compact = compact.trim_end_matches('=');
            let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(compact)
                .map_err(|e| ToolFailure(format!("'document_base64' is not valid base64: {e}")))?;
            return Ok((named.unwrap_or("document").to_owned(), bytes.into()));
        }
        if let Some(reference) = &args.document_ref {
            // Read through the API with the caller's key: the reference gives no access the key
            // does not already have.
            let (kind, id) = match reference.trim().split_once(':') {
                Some(("inbound", id)) => ("inbound", id),
                Some(("fax", id)) => ("fax", id),
                _ => {
                    return Err(ToolFailure(
                        "'document_ref' must be inbound:<id> (a received fax) or fax:<id> (an earlier fax)"
                            .into(),
                    ));
                }
            };
            let id = checked_id(id)?;
            let resp = self
                .rest(ctx, RestRequest::get(format!("/{kind}/{id}/pdf")))
                .await?;
            if !is_success(&resp) {
                let ToolFailure(why) = refusal(&resp);
                return Err(ToolFailure(format!("'document_ref' {kind}:{id}: {why}")));
            }
            let name = named.map_or_else(|| format!("{kind}-{id}.pdf"), str::to_owned);
            return Ok((name, resp.body));
        }
        let path = args.document_path.as_deref().unwrap_or_default();
        let Documents::PathsAllowed { max_bytes } = self.documents else {
            return Err(ToolFailure(
                "'document_path' is only accepted by the local (stdio) server; send the file's bytes as 'document_base64'"
                    .into(),
            ));
        };
        let path = std::path::PathBuf::from(path);
        let content = read_document(&path, max_bytes).await?;
        let from_path = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "document".into());
        Ok((named.map(str::to_owned).unwrap_or(from_path), content))
    }

    /// Up to [`MAX_PAGE_IMAGES`] pages of `base` (`/fax/{id}` or `/inbound/{id}`) as PNG images.
    async fn page_images(
        &self,
        ctx: &RequestContext<RoleServer>,
        base: &str,
        pages: Option<u64>,
        args: &ReadFaxArgs,
        out: &mut Vec<ContentBlock>,
    ) -> Result<(), ToolFailure> {
        let first = args.first_page.unwrap_or(1);
        if first == 0 {
            return Err(ToolFailure("'first_page' counts from 1".into()));
        }
        let count = args.max_pages.unwrap_or(MAX_PAGE_IMAGES);
        if !(1..=MAX_PAGE_IMAGES).contains(&count) {
            return Err(ToolFailure(format!(
                "'max_pages' must be 1 to {MAX_PAGE_IMAGES}"
            )));
        }
        let width = args.image_width.unwrap_or(DEFAULT_IMAGE_WIDTH);
        if !(200..=faxline_document::FAX_WIDTH).contains(&width) {
            return Err(ToolFailure(format!(
                "'image_width' must be 200 to {}",
                faxline_document::FAX_WIDTH
            )));
        }
        let Some(total) = pages.filter(|&p| p > 0) else {
            out.push(ContentBlock::text(
                "No page images: the page count is not known yet.",
            ));
            return Ok(());
        };
        if u64::from(first) > total {
            return Err(ToolFailure(format!(
                "'first_page' is {first} but the fax has {total} page(s)"
            )));
        }
        let last = (u64::from(first) + u64::from(count) - 1).min(total);
        for page in u64::from(first)..=last {
            let resp = self
                .rest(
                    ctx,
                    RestRequest::get(format!("{base}/preview/{page}?width={width}")),
                )
                .await?;
            if !is_success(&resp) {
                let ToolFailure(why) = refusal(&resp);
                return Err(ToolFailure(format!("page {page}: {why}")));
            }
            out.push(ContentBlock::text(format!("Page {page} of {total}:")));
            out.push(ContentBlock::image(
                STANDARD.encode(&resp.body),
                "image/png",
            ));
        }
        if last < total {
            out.push(ContentBlock::text(format!(
                "Pages {} to {total} not shown; ask again with first_page = {}.",
                last + 1,
                last + 1
            )));
        }
        Ok(())
    }
}

/// A document from this machine: a readable regular file of at most `max_bytes`.
async fn read_document(
    path: &std::path::Path,
    max_bytes: u64,
) -> Result<bytes::Bytes, ToolFailure> {
    use tokio::io::AsyncReadExt;
    let shown = path.display();
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| ToolFailure(format!("cannot open 'document_path' {shown}: {e}")))?;
    let meta = file
        .metadata()
        .await
        .map_err(|e| ToolFailure(format!("cannot read 'document_path' {shown}: {e}")))?;
    if !meta.is_file() {
        return Err(ToolFailure(format!(
            "'document_path' {shown} is not a regular file"
        )));
    }
    if meta.len() > max_bytes {
        return Err(ToolFailure(format!(
            "'document_path' {shown} is {} bytes; at most {max_bytes} are sent",
            meta.len()
        )));
    }
    // Bounded even if the file grows while it is read.
    let mut content = Vec::with_capacity(meta.len() as usize);
    file.take(max_bytes + 1)
        .read_to_end(&mut content)
        .await
        .map_err(|e| ToolFailure(format!("cannot read 'document_path' {shown}: {e}")))?;
    if content.len() as u64 > max_bytes {
        return Err(ToolFailure(format!(
            "'document_path' {shown} is larger than {max_bytes} bytes"
        )));
    }
    Ok(content.into())
}

#[tool_router]
impl FaxMcp {
    #[tool(
        name = "send_fax",
        description = "Queue a fax: a PDF or plain-text document to one number. The document is its \
        bytes (`document_base64`), a file (`document_path`, local server only) or one Faxline already holds \
        (`document_ref`: `inbound:<id>` forwards a received fax, `fax:<id>` sends an earlier fax's document \
        again). Returns the new fax (its `id` and `status` `queued`); sending takes about half a minute per page, so poll \
        `get_fax_status` with the id until `status` is `SUCCESS` or `FAILED`. Needs the `fax:send` scope."
    )]
    async fn send_fax(
        &self,
        Parameters(args): Parameters<SendFaxArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> ToolResult {
        self.answer(&ctx, "send_fax", async {
            let to = args.to.trim().to_owned();
            if !PhoneNumber::is_valid(&to) {
                return Err(ToolFailure(
                    "'to' must be E.164 (+15551234567) or 6 to 20 digits only, without spaces or dashes"
                        .into(),
                ));
            }
            let (file_name, content) = self.document(&ctx, &args).await?;
            let mut req = RestRequest::post("/fax");
            req.upload = Some(Upload {
                to,
                file_name,
                content,
            });
            let job = self.rest_json(&ctx, req).await?;
            Ok(vec![ContentBlock::text(pretty(&job))])
        })
        .await
    }

    #[tool(
        name = "get_fax_status",
        description = "One sent fax: `status` (`queued`, `in_progress`, `SUCCESS`, `FAILED`, `cancelled`), \
        `error` (why it failed), `pages`, `pages_sent`, `stage`, timestamps. With `include_pages` the \
        document's pages come back as PNG images (up to 10 per call; `first_page` for more). Needs `fax:read`."
    )]
    async fn get_fax_status(
        &self,
        Parameters(args): Parameters<ReadFaxArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> ToolResult {
        self.answer(&ctx, "get_fax_status", async {
            let id = checked_id(&args.id)?;
            let job = self
                .rest_json(&ctx, RestRequest::get(format!("/fax/{id}")))
                .await?;
            let mut out = vec![ContentBlock::text(pretty(&job))];
            if args.include_pages {
                let pages = job["pages"].as_u64();
                self.page_images(&ctx, &format!("/fax/{id}"), pages, &args, &mut out)
                    .await?;
            }
            Ok(out)
        })
        .await
    }

    #[tool(
        name = "list_faxes",
        description = "Sent faxes, newest first: `{total, limit, offset, jobs: [...]}`, each job as \
        get_fax_status returns it. A key sees the faxes it sent (all of them with `fax:admin`). Needs `fax:read`."
    )]
    async fn list_faxes(
        &self,
        Parameters(args): Parameters<ListFaxesArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> ToolResult {
        self.answer(&ctx, "list_faxes", async {
            let q = query(&[
                ("status", args.status.clone()),
                ("to", args.to.clone()),
                ("limit", args.limit.map(|v| v.to_string())),
                ("offset", args.offset.map(|v| v.to_string())),
            ]);
            let list = self
                .rest_json(&ctx, RestRequest::get(format!("/fax{q}")))
                .await?;
            Ok(vec![ContentBlock::text(pretty(&list))])
        })
        .await
    }

    #[tool(
        name = "cancel_fax",
        description = "Cancel a fax that is still `queued` (one already being sent cannot be cancelled: \
        the error says its status). Returns the fax with `status` `cancelled`. Needs `fax:send`."
    )]
    async fn cancel_fax(
        &self,
        Parameters(args): Parameters<FaxIdArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> ToolResult {
        self.answer(&ctx, "cancel_fax", async {
            let id = checked_id(&args.id)?;
            let job = self
                .rest_json(&ctx, RestRequest::post(format!("/fax/{id}/cancel")))
                .await?;
            Ok(vec![ContentBlock::text(pretty(&job))])
        })
        .await
    }

    #[tool(
        name = "list_inbound",
        description = "Received faxes, newest first, at most 100: each with `id`, `fr` (the sender's \
        number), `to`, `pages`, `received_at`. Read one with get_inbound. Needs `inbound:list`."
    )]
    async fn list_inbound(
        &self,
        Parameters(args): Parameters<ListInboundArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> ToolResult {
        self.answer(&ctx, "list_inbound", async {
            let q = query(&[
                ("to_number", args.to_number.clone()),
                ("status", args.status.clone()),
                ("mailbox", args.mailbox.clone()),
                ("limit", args.limit.map(|v| v.to_string())),
                ("offset", args.offset.map(|v| v.to_string())),
            ]);
            let list = self
                .rest_json(&ctx, RestRequest::get(format!("/inbound{q}")))
                .await?;
            Ok(vec![ContentBlock::text(pretty(&list))])
        })
        .await
    }

    #[tool(
        name = "get_inbound",
        description = "One received fax: its details, its PDF as an embedded resource \
        (`include_pdf`, default true) and, with `include_pages`, its pages as PNG images to read \
        (up to 10 per call; `first_page` for more). Needs `inbound:read`."
    )]
    async fn get_inbound(
        &self,
        Parameters(args): Parameters<GetInboundArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> ToolResult {
        self.answer(&ctx, "get_inbound", async {
            let read = args.read();
            let id = checked_id(&read.id)?;
            let fax = self
                .rest_json(&ctx, RestRequest::get(format!("/inbound/{id}")))
                .await?;
            let mut out = vec![ContentBlock::text(pretty(&fax))];
            if args.include_pdf.unwrap_or(true) {
                let resp = self
                    .rest(&ctx, RestRequest::get(format!("/inbound/{id}/pdf")))
                    .await?;
                if !is_success(&resp) {
                    let ToolFailure(why) = refusal(&resp);
                    return Err(ToolFailure(format!("the PDF: {why}")));
                }
                out.push(ContentBlock::resource(
                    ResourceContents::blob(
                        STANDARD.encode(&resp.body),
                        format!("faxline://inbound/{id}/pdf"),
                    )
                    .with_mime_type("application/pdf"),
                ));
            }
            if read.include_pages {
                let pages = fax["pages"].as_u64();
                self.page_images(&ctx, &format!("/inbound/{id}"), pages, &read, &mut out)
                    .await?;
            }
            Ok(out)
        })
        .await
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for FaxMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("faxline", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Faxline sends and receives faxes. send_fax queues a document (PDF or text) to a \
                 number and returns its id; poll get_fax_status until SUCCESS or FAILED. \
                 list_inbound and get_inbound read received faxes; include_pages returns the pages \
                 as images. Every tool acts with the caller's API key and its scopes.",
            )
    }
}

/// `serve_stdio` failed: the handshake or the transport.
#[derive(Debug, thiserror::Error)]
#[error("MCP on stdio: {0}")]
pub struct StdioError(String);

impl FaxMcp {
    /// Serves the tools on standard input and output (one JSON-RPC message a line) until the
    /// client closes the stream.
    pub async fn serve_stdio(self) -> Result<(), StdioError> {
        use rmcp::ServiceExt;
        let running = self
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| StdioError(e.to_string()))?;
        running
            .waiting()
            .await
            .map_err(|e| StdioError(e.to_string()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::read_document;

    #[tokio::test]
    async fn document_paths_are_regular_files_within_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("doc.txt");
        std::fs::write(&file, b"Faxline test page\n").unwrap();
        assert_eq!(
            read_document(&file, 100).await.ok().unwrap().as_ref(),
            b"Faxline test page\n"
        );
        let too_big = read_document(&file, 5).await.err().unwrap().0;
        assert!(too_big.contains("at most 5 are sent"), "{too_big}");
        let dir_err = read_document(dir.path(), 100).await.err().unwrap().0;
        assert!(dir_err.contains("not a regular file"), "{dir_err}");
        let missing = read_document(&dir.path().join("nope.pdf"), 100)
            .await
            .err()
            .unwrap()
            .0;
        assert!(missing.contains("cannot open"), "{missing}");
    }
}
