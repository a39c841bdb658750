//! Bearer-token authentication: who is calling, as an [`Actor`], with failed attempts rate-limited per
//! client address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use chrono::Utc;
use futures_util::future::LocalBoxFuture;
use sha2::{Digest, Sha256};

use super::problem::ApiError;
use super::AppState;
use crate::service::{self, Actor, ServiceError, TokenKind};

/// The SHA-256 of a token: tokens are compared (and stored) only as digests.
pub fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Counts failed authentications per client address in fixed one-minute windows; over the limit the address
/// gets 429 until its window ends. Per instance: several instances each allow the limit, which still turns a
/// brute-force attempt on 238-bit tokens into nothing.
pub struct FailedAuthLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

const WINDOW: Duration = Duration::from_secs(60);

impl FailedAuthLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Seconds to wait when `ip` is over its limit.
    pub(crate) fn blocked(&self, ip: IpAddr, now: Instant) -> Option<u64> {
        let windows = self.windows.lock().expect("limiter lock");
        let (start, count) = windows.get(&ip)?;
        let elapsed = now.duration_since(*start);
        (elapsed < WINDOW && *count >= self.per_minute).then(|| (WINDOW - elapsed).as_secs().max(1))
    }

    pub(crate) fn fail(&self, ip: IpAddr, now: Instant) {
        let mut windows = self.windows.lock().expect("limiter lock");
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = windows.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }
}

/// An authenticated caller. Extracting it answers 401 when the token is missing, unknown or revoked, and 403
/// for a calendar feed's token (it reads the feeds and nothing else) and a filing link's (it opens the pages).
pub struct Authenticated(pub Actor);

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let caller = Caller::of(req, bearer(req));
        Box::pin(async move {
            match caller.identify().await? {
                (actor, TokenKind::Api) => Ok(Authenticated(actor)),
                (_, TokenKind::Feed) => Err(ServiceError::Forbidden(
                    "a feed token reads the calendar feeds (…/deadlines.ics) and nothing else"
                        .into(),
                )
                .into()),
                // It travels in an email's address: it opens the pages (`/l/`), not the API.
                (_, TokenKind::FilingLink) => Err(ServiceError::Forbidden(
                    "a filing link's token opens the web pages only".into(),
                )
                .into()),
            }
        })
    }
}

/// The caller of a calendar feed (`…/deadlines.ics`). Calendar apps cannot send headers, so the token may come
/// in the query (`?token=`), but there only a feed token is accepted: an API token in an address would end up in
/// browser histories and proxy logs. A bearer token of any kind works as on every route.
pub struct FeedReader(pub Actor);

impl FromRequest for FeedReader {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let header = bearer(req);
        let in_query = header.is_none();
        let token = header.or_else(|| query_token(req));
        let caller = Caller::of(req, token);
        Box::pin(async move {
            match caller.identify().await? {
                (_, TokenKind::FilingLink) => Err(ServiceError::Forbidden(
                    "a filing link's token opens the web pages only".into(),
                )
                .into()),
                (_, TokenKind::Api) if in_query => {
                    Err(ApiError::Invalid(vec![crate::domain::FieldError::new(
                        "/token",
                        "only a feed token may be given in the address; send other tokens in the \
                         Authorization header, or ask an admin for a feed token (kind `feed`)",
                    )]))
                }
                (actor, _) => Ok(FeedReader(actor)),
            }
        })
    }
}

/// `token` of the query string, when there is one.
fn query_token(req: &HttpRequest) -> Option<String> {
    web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.into_inner().remove("token"))
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// What identifying a caller needs from its request, taken before the request is let go.
struct Caller {
    state: Option<web::Data<AppState>>,
    token: Option<String>,
    peer: Option<IpAddr>,
    forwarded: Option<String>,
    span: Option<tracing_actix_web::RootSpan>,
}

impl Caller {
    fn of(req: &HttpRequest, token: Option<String>) -> Self {
        Self {
            state: req.app_data::<web::Data<AppState>>().cloned(),
            token,
            peer: req.peer_addr().map(|a| a.ip()),
            forwarded: req
                .headers()
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            span: actix_web::HttpMessage::extensions(req)
                .get::<tracing_actix_web::RootSpan>()
                .cloned(),
        }
    }

    /// The actor and kind of the presented token; 401 when there is none or it is unknown, revoked or expired
    /// (counted toward the address's failed-authentication limit), 429 over that limit.
    async fn identify(self) -> Result<(Actor, TokenKind), ApiError> {
        let state = self
            .state
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state missing")))?;
        let ip = client_ip(
            self.peer,
            self.forwarded.as_deref(),
            &state.settings.trusted_proxies,
        );
        let now = Instant::now();
        if let Some(retry_after) = ip.and_then(|ip| state.failed_auth.blocked(ip, now)) {
            return Err(ApiError::TooManyRequests { retry_after });
        }
        let found = match self.token {
            // Comparing digests, in constant time, keeps the timing independent of how much matched.
            Some(token)
                if bool::from(subtle::ConstantTimeEq::ct_eq(
                    &digest(&token)[..],
                    &state.admin_token_digest[..],
                )) =>
            {
                Some((Actor::bootstrap_admin(), TokenKind::Api))
            }
            Some(token) => {
                let at = Utc::now();
                state
                    .run(move |conn| service::tokens::authenticate(conn, &token, at))
                    .await?
            }
            None => None,
        };
        match found {
            Some((actor, kind)) => {
                // Who made the request, in its log line: the token's id (never the secret), or "admin" for
                // the configured admin token.
                if let Some(span) = self.span {
                    match actor.token_id {
                        Some(id) => span.record("token", id),
                        None => span.record("token", "admin"),
                    };
                }
                Ok((actor, kind))
            }
            None => {
                if let Some(ip) = ip {
                    state.failed_auth.fail(ip, now);
                }
                Err(ApiError::Unauthorized)
            }
        }
    }
}

/// The address a request comes from, as [`client_ip`] reads it with the configured trusted proxies.
pub(crate) fn client_address(req: &HttpRequest, state: &AppState) -> Option<IpAddr> {
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    client_ip(
        req.peer_addr().map(|a| a.ip()),
        forwarded,
        &state.settings.trusted_proxies,
    )
}

/// The client's address: the connection's, unless that is a trusted proxy, in which case the nearest address of
/// `X-Forwarded-For` (read from the right, as each proxy appends the address it saw) that is not itself a trusted
/// proxy. Addresses a client wrote into the header itself sit left of that one and are never believed.
fn client_ip(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    trusted: &[ipnet::IpNet],
) -> Option<IpAddr> {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let peer = peer?;
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let mut hops = forwarded_for
        .unwrap_or("")
        .rsplit(',')
        .map(str::trim)
        .map_while(|hop| hop.parse::<IpAddr>().ok());
    let mut last = peer;
    for hop in hops.by_ref() {
        if !is_trusted(&hop) {
            return Some(hop);
        }
        last = hop;
    }
    Some(last)
}

/// The token of `Authorization: Bearer <token>`; the scheme name is case-insensitive (RFC 7235).
fn bearer(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim_start().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_behind_a_trusted_proxy_is_the_nearest_untrusted_hop() {
        let trusted: Vec<ipnet::IpNet> = vec![
            "10.0.0.0/8".parse().unwrap(),
            "127.0.0.1/32".parse().unwrap(),
        ];
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        // Straight from a client: its address, whatever header it sends.
        assert_eq!(
            client_ip(ip("203.0.113.7"), Some("1.2.3.4"), &trusted),
            ip("203.0.113.7")
        );
        // Through nginx on the same host and a load balancer: the address the load balancer saw.
        assert_eq!(
            client_ip(
                ip("127.0.0.1"),
                Some("6.6.6.6, 198.51.100.9, 10.1.2.3"),
                &trusted
            ),
            ip("198.51.100.9"),
            "the forged leftmost entry is not believed"
        );
        // A proxy that sent no header: the proxy itself.
        assert_eq!(client_ip(ip("10.1.2.3"), None, &trusted), ip("10.1.2.3"));
        // Nothing trusted: the header is ignored.
        assert_eq!(
            client_ip(ip("10.1.2.3"), Some("198.51.100.9"), &[]),
            ip("10.1.2.3")
        );
        // Garbage in the header stops the walk at the last good hop.
        assert_eq!(
            client_ip(ip("10.1.2.3"), Some("198.51.100.9, junk"), &trusted),
            ip("10.1.2.3")
        );
    }

    #[test]
    fn limiter_blocks_after_the_limit_until_the_window_ends() {
        let limiter = FailedAuthLimiter::new(3);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.blocked(ip, t0), None);
            limiter.fail(ip, t0);
        }
        assert!(limiter
            .blocked(ip, t0 + Duration::from_secs(10))
            .is_some_and(|s| s <= 50));
        assert_eq!(limiter.blocked(other, t0), None);
        assert_eq!(limiter.blocked(ip, t0 + WINDOW), None);
    }
}
