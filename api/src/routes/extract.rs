//! The preamble every public handler shares, as axum extractors: who is calling and with which
//! scope ([`Caller`], [`Admin`]), the job or inbound fax the path names with its ownership check
//! ([`OwnJob`], [`InboundFax`]), the page and query parameters ([`PageNo`], [`ValidQuery`]) and
//! the signed document link ([`SignedLink`]).
//!
//! Extractors run in the order of the handler's arguments, which fixes the order of refusals
//! (e.g. 401 before 400 before 404): handlers list them in the order the answers must come.

use std::marker::PhantomData;

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::ClientIp;
use crate::auth::{
    Principal, SCOPE_FAX_READ, SCOPE_FAX_SEND, SCOPE_INBOUND_LIST, SCOPE_INBOUND_READ,
    SCOPE_METRICS_READ,
};
use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::links::{self, LinkError, LinkKind};
use crate::server::AppState;
use crate::store::{Inbound, Job};
use crate::throttle::FailScope;
use faxline_protocol::time::now_s;

/// What a route demands of its caller: a scope, and a per-key rate limit counted under `ROUTE`
/// (routes that share a `ROUTE` share one budget).
pub(crate) trait Access: Send + Sync + 'static {
    const SCOPE: &'static str;
    const ROUTE: &'static str;
    fn per_minute(cfg: &Config) -> u32;
    /// Refuses before authentication when the route is switched off.
    fn available(_st: &AppState) -> ApiResult<()> {
        Ok(())
    }
}

/// Sending and cancelling faxes.
pub(crate) struct FaxSend;
/// Reading faxes, their links and previews.
pub(crate) struct FaxRead;
/// Listing received faxes.
pub(crate) struct InboundList;
/// Reading one received fax, its link and previews.
pub(crate) struct InboundRead;
/// Downloading a received fax's PDF with a key (its own rate-limit budget).
pub(crate) struct InboundPdf;
/// Scraping `/metrics`.
pub(crate) struct MetricsRead;

/// One [`Access`] per route family: its scope, its rate-limit budget (a `Config` field) and, for
/// the inbound routes, the inbound switch.
macro_rules! access {
    ($ty:ident, $scope:expr, $route:literal, $rpm:ident) => {
        impl Access for $ty {
            const SCOPE: &'static str = $scope;
            const ROUTE: &'static str = $route;
            fn per_minute(cfg: &Config) -> u32 {
                cfg.$rpm
            }
        }
    };
    ($ty:ident, $scope:expr, $route:literal, $rpm:ident, inbound) => {
        impl Access for $ty {
            const SCOPE: &'static str = $scope;
            const ROUTE: &'static str = $route;
            fn per_minute(cfg: &Config) -> u32 {
                cfg.$rpm
            }
            fn available(st: &AppState) -> ApiResult<()> {
                inbound_enabled(st)
            }
        }
    };
}

access!(FaxSend, SCOPE_FAX_SEND, "/fax", max_requests_per_minute);
access!(
    FaxRead,
    SCOPE_FAX_READ,
    "/fax/{id}",
    max_requests_per_minute
);
access!(
    MetricsRead,
    SCOPE_METRICS_READ,
    "/metrics",
    max_requests_per_minute
);
access!(
    InboundList,
    SCOPE_INBOUND_LIST,
    "/inbound",
    inbound_list_rpm,
    inbound
);
access!(
    InboundRead,
    SCOPE_INBOUND_READ,
    "/inbound/{id}",
    inbound_get_rpm,
    inbound
);
access!(
    InboundPdf,
    SCOPE_INBOUND_READ,
    "/inbound/{id}/pdf",
    inbound_get_rpm,
    inbound
);

fn inbound_enabled(st: &AppState) -> ApiResult<()> {
    if st.cfg.inbound_enabled {
        Ok(())
    } else {
        Err(ApiError::not_found("Inbound not enabled"))
    }
}

/// Refuses with "Inbound not enabled" before anything else is looked at.
pub(crate) struct InboundEnabled;

impl FromRequestParts<AppState> for InboundEnabled {
    type Rejection = ApiError;
    async fn from_request_parts(_: &mut Parts, st: &AppState) -> ApiResult<Self> {
        inbound_enabled(st).map(|()| InboundEnabled)
    }
}

/// An authenticated caller holding `A`'s scope, within `A`'s rate limit. Remembered in the
/// request, so a later extractor of the same request ([`OwnJob`], [`InboundFax`]) does not
/// authenticate (and count) twice.
pub(crate) struct Caller<A> {
    pub principal: Principal,
    _access: PhantomData<fn() -> A>,
}

impl<A> Clone for Caller<A> {
    fn clone(&self) -> Self {
        Self {
            principal: self.principal.clone(),
            _access: PhantomData,
        }
    }
}

impl<A> std::ops::Deref for Caller<A> {
    type Target = Principal;
    fn deref(&self) -> &Principal {
        &self.principal
    }
}

impl<A: Access> Caller<A> {
    /// Authenticates `X-API-Key`, checks the scope, then the rate limit.
    pub(crate) async fn check(
        st: &AppState,
        headers: &axum::http::HeaderMap,
        ip: std::net::IpAddr,
    ) -> ApiResult<Self> {
        A::available(st)?;
        let p = st.authenticate(headers, ip).await?;
        Self::admit(st, p)
    }

    /// A principal `/mcp` authenticated with a bearer token ([`crate::mcp::Delegated`]): the
    /// route's switch, scope and rate limit as for a key.
    pub(crate) fn delegated(st: &AppState, p: Principal) -> ApiResult<Self> {
        A::available(st)?;
        Self::admit(st, p)
    }

    /// Checks an authenticated principal's scope, then the rate limit.
    fn admit(st: &AppState, p: Principal) -> ApiResult<Self> {
        if !p.has_scope(A::SCOPE) {
            crate::audit!("api_key_denied_scope", key_id = %p.key_id, scope = A::SCOPE);
            return Err(ApiError::forbidden(format!(
                "Insufficient scope: {} required",
                A::SCOPE
            )));
        }
        if !p.anonymous
            && let Err(wait) = st
                .rate
                .check(&p.key_id, A::ROUTE, A::per_minute(&st.cfg), now_s())
        {
            crate::audit!("rate_limited", key_id = %p.key_id, route = A::ROUTE);
            return Err(ApiError::too_many("Rate limit exceeded", wait));
        }
        Ok(Self {
            principal: p,
            _access: PhantomData,
        })
    }
}

impl<A: Access> FromRequestParts<AppState> for Caller<A> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> ApiResult<Self> {
        if let Some(known) = parts.extensions.get::<Self>() {
            return Ok(known.clone());
        }
        let ClientIp(ip) = ClientIp::from_request_parts(parts, st)
            .await
            .unwrap_or_else(|never| match never {});
        // A bearer token `/mcp` verified, on the request its tool made in-process.
        let caller = match parts.extensions.get::<crate::mcp::Delegated>() {
            Some(delegated) => Self::delegated(st, delegated.0.clone())?,
            None => Self::check(st, &parts.headers, ip).await?,
        };
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

/// An administrator: the bootstrap key or a key holding `keys:manage`. Every other failure
/// but a lockout is one "Admin authentication failed", so the admin routes say nothing more.
pub(crate) struct Admin(pub Principal);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> ApiResult<Self> {
        let ClientIp(ip) = ClientIp::from_request_parts(parts, st)
            .await
            .unwrap_or_else(|never| match never {});
        match st.authenticate(&parts.headers, ip).await {
            Ok(p) if p.admin => Ok(Admin(p)),
            Ok(p) => {
                crate::audit!("admin_denied", key_id = %p.key_id);
                Err(ApiError::unauthorized("Admin authentication failed"))
            }
            Err(e) if e.status == axum::http::StatusCode::TOO_MANY_REQUESTS => Err(e),
            Err(_) => Err(ApiError::unauthorized("Admin authentication failed")),
        }
    }
}

/// A path parameter by name (`{id}`, `{page}`), percent-decoded; empty when the route has none.
/// A path that does not decode gets axum's own answer, as `Path` gave it.
async fn path_param(parts: &mut Parts, st: &AppState, name: &str) -> Result<String, Response> {
    let Path(mut params) = Path::<HashMap<String, String>>::from_request_parts(parts, st)
        .await
        .map_err(IntoResponse::into_response)?;
    Ok(params.remove(name).unwrap_or_default())
}

/// A 32-hex id (uuid4 without dashes), Faxbot's id format; anything else cannot exist.
pub(crate) fn valid_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The job `id` names, whoever owns it: "Job not found" for a malformed or unknown id.
pub(crate) async fn load_job(st: &AppState, id: &str) -> ApiResult<Job> {
    if !valid_id(id) {
        return Err(ApiError::not_found("Job not found"));
    }
    st.store
        .jobs()
        .get(id)
        .await?
        .ok_or_else(|| ApiError::not_found("Job not found"))
}

/// The job of the path's `{id}`, visible to a caller holding `A`: its own, or any with
/// `fax:admin`. Another key's job is "Job not found" as well, so ids cannot be probed.
pub(crate) struct OwnJob<A> {
    pub job: Job,
    pub caller: Caller<A>,
}

impl<A: Access> FromRequestParts<AppState> for OwnJob<A> {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Response> {
        let id = path_param(parts, st, "id").await?;
        let caller = Caller::<A>::from_request_parts(parts, st)
            .await
            .map_err(IntoResponse::into_response)?;
        let job = load_job(st, &id)
            .await
            .map_err(IntoResponse::into_response)?;
        if !caller.may_access_job(job.owner_key_id.as_deref()) {
            return Err(ApiError::not_found("Job not found").into_response());
        }
        Ok(Self { job, caller })
    }
}

/// The received fax `id` names: "Inbound fax not found" for a malformed or unknown id.
pub(crate) async fn load_inbound(st: &AppState, id: &str) -> ApiResult<Inbound> {
    let row = if valid_id(id) {
        st.store.inbound().get(id).await?
    } else {
        None
    };
    row.ok_or_else(|| ApiError::not_found("Inbound fax not found"))
}

/// The received fax of the path's `{id}`, for a caller holding `A` (received faxes belong to the
/// installation, not to a key).
pub(crate) struct InboundFax<A> {
    pub fax: Inbound,
    pub caller: Caller<A>,
}

impl<A: Access> FromRequestParts<AppState> for InboundFax<A> {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Response> {
        let id = path_param(parts, st, "id").await?;
        let caller = Caller::<A>::from_request_parts(parts, st)
            .await
            .map_err(IntoResponse::into_response)?;
        let fax = load_inbound(st, &id)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Self { fax, caller })
    }
}

/// The path's `{page}`: a page number from 1, else "Page not found".
pub(crate) struct PageNo(pub usize);

impl FromRequestParts<AppState> for PageNo {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Response> {
        path_param(parts, st, "page")
            .await?
            .parse()
            .ok()
            .filter(|&n| n >= 1)
            .map(PageNo)
            .ok_or_else(|| ApiError::not_found("Page not found").into_response())
    }
}

/// Query parameters, or 400 "Invalid query parameters".
pub(crate) struct ValidQuery<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for ValidQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> ApiResult<Self> {
        Query::<T>::from_request_parts(parts, st)
            .await
            .map(|Query(q)| ValidQuery(q))
            .map_err(|_| ApiError::bad_request("Invalid query parameters"))
    }
}

#[derive(serde::Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// The `?token=` of a signed document link ([`crate::links`]), the one check of it for every
/// document route. Extracting it refuses an address locked out by failed attempts (only when a
/// token is presented); [`SignedLink::verify`] checks it against the document's id.
pub(crate) struct SignedLink {
    token: Option<String>,
    ip: std::net::IpAddr,
}

impl FromRequestParts<AppState> for SignedLink {
    type Rejection = axum::extract::rejection::QueryRejection;
    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let Query(q) = Query::<TokenQuery>::from_request_parts(parts, st).await?;
        let ClientIp(ip) = ClientIp::from_request_parts(parts, st)
            .await
            .unwrap_or_else(|never| match never {});
        Ok(Self { token: q.token, ip })
    }
}

impl SignedLink {
    /// Whether a token came with the request.
    pub(crate) fn presented(&self) -> bool {
        self.token.is_some()
    }

    /// 429 while the client's address is locked out by failed attempts.
    pub(crate) fn not_locked(&self, st: &AppState) -> ApiResult<()> {
        match st
            .auth_throttle
            .locked(&FailScope::Address(self.ip), now_s())
        {
            Some(wait) => Err(ApiError::too_many(
                "Too many failed authentication attempts",
                wait,
            )),
            None => Ok(()),
        }
    }

    /// The token, or FastAPI's 422 for a missing `token` query parameter.
    pub(crate) fn required(&self) -> ApiResult<&str> {
        self.token
            .as_deref()
            .ok_or_else(|| ApiError::missing("query", "token"))
    }

    /// Checks the presented token for document `id` of `kind`: 403 with the reason when it is
    /// not valid (a forged one also counts as a failed attempt for the address), audited.
    pub(crate) fn verify(&self, st: &AppState, kind: LinkKind, id: &str) -> ApiResult<()> {
        let token = self.required()?;
        let now = now_s();
        let Err(e) = links::verify(st.server_secret.as_bytes(), kind, id, token, now) else {
            return Ok(());
        };
        match kind {
            LinkKind::Fax => {
                crate::audit!("pdf_token_rejected", job_id = %id, ip = %self.ip, reason = %e)
            }
            LinkKind::Inbound => {
                crate::audit!("inbound_token_rejected", inbound_id = %id, ip = %self.ip, reason = %e)
            }
        }
        if e == LinkError::Invalid {
            st.auth_throttle.fail(FailScope::Address(self.ip), now);
        }
        Err(ApiError::forbidden(e.to_string()))
    }
}
