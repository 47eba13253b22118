//! OAuth 2.1 bearer tokens on `/mcp`, for hosted setups: the API is a resource server that accepts
//! JWTs signed by one configured issuer (`[api] mcp_oauth_issuer`, keys from its JWKS) for its own
//! audience (`mcp_oauth_audience`). The token's `scope` (or `scp`) claim holds Faxline scopes
//! (`fax:send fax:read …`); its `sub` is the caller (`oauth:<sub>`, which owns the faxes it sends).
//! Optional: `X-API-Key` keeps working, and local use never needs it.

use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;
use tokio::sync::RwLock;

use crate::auth::{ALL_SCOPES, Principal, SCOPE_KEYS_MANAGE};
use crate::config::Config;

/// How long fetched keys are used before they are fetched again.
const KEYS_FRESH: Duration = Duration::from_secs(600);
/// The least time between two fetches (a token naming an unknown key cannot make us hammer the
/// issuer).
const REFETCH_MIN: Duration = Duration::from_secs(30);
/// Clock skew allowed on `exp` and `nbf`.
const LEEWAY_SECS: u64 = 30;
/// The largest JWKS document read.
const JWKS_MAX_BYTES: usize = 256 * 1024;

/// Why a bearer token was refused. The messages name no token content.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("malformed token")]
    Malformed,
    #[error("signing algorithm {0:?} not accepted")]
    Algorithm(Algorithm),
    #[error("no key of the issuer matches the token")]
    UnknownKey,
    #[error("the issuer's keys cannot be fetched: {0}")]
    Jwks(String),
    #[error("token rejected: {0}")]
    Invalid(String),
}

/// Checks `[api] mcp_oauth_*`: an issuer needs an audience; the issuer and JWKS must be https
/// (plain http only on a loopback address, for tests and local identity providers).
pub(crate) fn check_config(cfg: &Config) -> Result<(), String> {
    let Some(issuer) = &cfg.mcp_oauth_issuer else {
        if cfg.mcp_oauth_audience.is_some() || cfg.mcp_oauth_jwks_url.is_some() {
            return Err("mcp_oauth_audience and mcp_oauth_jwks_url need mcp_oauth_issuer".into());
        }
        return Ok(());
    };
    if cfg
        .mcp_oauth_audience
        .as_deref()
        .is_none_or(|a| a.trim().is_empty())
    {
        return Err(
            "mcp_oauth_issuer needs mcp_oauth_audience (this API's resource identifier, e.g. its public /mcp URL)"
                .into(),
        );
    }
    for (name, url) in [
        ("mcp_oauth_issuer", Some(issuer.as_str())),
        ("mcp_oauth_jwks_url", cfg.mcp_oauth_jwks_url.as_deref()),
    ] {
        let Some(url) = url else { continue };
        let parsed = url::Url::parse(url).map_err(|e| format!("{name} {url:?}: {e}"))?;
        let loopback = match parsed.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d == "localhost",
            None => false,
        };
        match parsed.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => return Err(format!("{name} must be an https URL, got {url:?}")),
        }
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    scp: Option<Vec<String>>,
}

struct Keys {
    set: JwkSet,
    fetched: Option<Instant>,
}

/// The token verifier for one issuer.
pub(crate) struct OAuth {
    pub(crate) issuer: String,
    pub(crate) audience: String,
    jwks_url: String,
    http: reqwest::Client,
    keys: RwLock<Keys>,
}

impl OAuth {
    /// The verifier `cfg` configures, if any (the configuration was checked by `Config::validate`).
    pub(crate) fn from_config(cfg: &Config) -> Option<Self> {
        let issuer = cfg.mcp_oauth_issuer.clone()?;
        let audience = cfg.mcp_oauth_audience.clone()?;
        let jwks_url = cfg
            .mcp_oauth_jwks_url
            .clone()
            .unwrap_or_else(|| format!("{}/.well-known/jwks.json", issuer.trim_end_matches('/')));
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .ok()?;
        Some(Self {
            issuer,
            audience,
            jwks_url,
            http,
            keys: RwLock::new(Keys {
                set: JwkSet { keys: vec![] },
                fetched: None,
            }),
        })
    }

    /// The caller `token` proves, with the Faxline scopes it grants (never `keys:manage`).
    pub(crate) async fn verify(&self, token: &str) -> Result<Principal, TokenError> {
        let header = decode_header(token).map_err(|_| TokenError::Malformed)?;
        // Asymmetric signatures only: a shared-secret (HS*) token could be minted by anyone who
        // knows the secret, and the issuer's public keys are not secret.
        if matches!(
            header.alg,
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
        ) {
            return Err(TokenError::Algorithm(header.alg));
        }
        let jwk = self.key(header.kid.as_deref()).await?;
        let key = DecodingKey::from_jwk(&jwk).map_err(|e| TokenError::Invalid(e.to_string()))?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        let claims = decode::<Claims>(token, &key, &validation)
            .map_err(|e| TokenError::Invalid(e.to_string()))?
            .claims;
        let granted: Vec<String> = match (&claims.scope, &claims.scp) {
            (Some(s), _) => s.split_whitespace().map(str::to_owned).collect(),
            (None, Some(list)) => list.clone(),
            (None, None) => vec![],
        };
        let scopes = granted
            .into_iter()
            .filter(|s| ALL_SCOPES.contains(&s.as_str()) && s != SCOPE_KEYS_MANAGE)
            .collect();
        let sub: String = claims
            .sub
            .chars()
            .filter(|c| c.is_ascii_graphic())
            .take(64)
            .collect();
        if sub.is_empty() {
            return Err(TokenError::Invalid("empty subject".into()));
        }
        Ok(Principal {
            key_id: format!("oauth:{sub}"),
            scopes,
            admin: false,
            anonymous: false,
        })
    }

    /// The issuer's key `kid` names (or its only key when the token names none), fetching the
    /// JWKS when it is stale or the key is unknown (at most every [`REFETCH_MIN`]).
    async fn key(&self, kid: Option<&str>) -> Result<Jwk, TokenError> {
        let find = |set: &JwkSet| -> Option<Jwk> {
            match kid {
                Some(kid) => set.find(kid).cloned(),
                None if set.keys.len() == 1 => set.keys.first().cloned(),
                None => None,
            }
        };
        {
            let keys = self.keys.read().await;
            if let (Some(at), Some(jwk)) = (keys.fetched, find(&keys.set))
                && at.elapsed() < KEYS_FRESH
            {
                return Ok(jwk);
            }
        }
        let mut keys = self.keys.write().await;
        let due = keys.fetched.is_none_or(|at| at.elapsed() >= REFETCH_MIN);
        if due {
            match self.fetch().await {
                Ok(set) => {
                    keys.set = set;
                    keys.fetched = Some(Instant::now());
                }
                // Keys fetched before stay usable while the issuer is unreachable.
                Err(e) if keys.fetched.is_none() => return Err(e),
                Err(e) => {
                    tracing::warn!(error = %e, "JWKS refresh failed; using the keys fetched before")
                }
            }
        }
        find(&keys.set).ok_or(TokenError::UnknownKey)
    }

    async fn fetch(&self) -> Result<JwkSet, TokenError> {
        let fail = |e: String| TokenError::Jwks(e);
        let mut resp = self
            .http
            .get(&self.jwks_url)
            .send()
            .await
            .map_err(|e| fail(e.without_url().to_string()))?;
        if !resp.status().is_success() {
            return Err(fail(format!("status {}", resp.status())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| fail(e.without_url().to_string()))?
        {
            if body.len() + chunk.len() > JWKS_MAX_BYTES {
                return Err(fail(format!("larger than {JWKS_MAX_BYTES} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|e| fail(format!("not a JWKS: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::check_config;
    use crate::config::Config;

    #[test]
    fn configuration_rules() {
        let mut c = Config::default();
        assert!(check_config(&c).is_ok(), "off by default");
        c.mcp_oauth_issuer = Some("https://login.example.org".into());
        let e = check_config(&c).unwrap_err();
        assert!(e.contains("mcp_oauth_audience"), "{e}");
        c.mcp_oauth_audience = Some("https://fax.example.org/mcp".into());
        assert!(check_config(&c).is_ok());
        c.mcp_oauth_issuer = Some("http://login.example.org".into());
        let e = check_config(&c).unwrap_err();
        assert!(e.contains("https"), "{e}");
        c.mcp_oauth_issuer = Some("http://127.0.0.1:9000".into());
        assert!(check_config(&c).is_ok(), "a local issuer for tests");
        c.mcp_oauth_jwks_url = Some("http://keys.example.org/jwks".into());
        assert!(check_config(&c).is_err());
        let c = Config {
            mcp_oauth_audience: Some("x".into()),
            ..Config::default()
        };
        assert!(check_config(&c).is_err(), "an audience without an issuer");
    }
}
