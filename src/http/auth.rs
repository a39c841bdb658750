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
use crate::service::{self, Actor};

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
    fn blocked(&self, ip: IpAddr, now: Instant) -> Option<u64> {
        let windows = self.windows.lock().expect("limiter lock");
        let (start, count) = windows.get(&ip)?;
        let elapsed = now.duration_since(*start);
        (elapsed < WINDOW && *count >= self.per_minute).then(|| (WINDOW - elapsed).as_secs().max(1))
    }

    fn fail(&self, ip: IpAddr, now: Instant) {
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

/// An authenticated caller. Extracting it answers 401 when the token is missing, unknown or revoked.
pub struct Authenticated(pub Actor);

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer(req);
        let ip = req.peer_addr().map(|a| a.ip());
        Box::pin(async move {
            let state = state
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state missing")))?;
            let now = Instant::now();
            if let Some(retry_after) = ip.and_then(|ip| state.failed_auth.blocked(ip, now)) {
                return Err(ApiError::TooManyRequests { retry_after });
            }
            let actor = match token {
                // Comparing digests keeps the timing independent of how much of the secret matched.
                Some(token) if digest(&token) == state.admin_token_digest => {
                    Some(Actor::bootstrap_admin())
                }
                Some(token) => {
                    let at = Utc::now();
                    state
                        .run(move |conn| Ok(service::tokens::authenticate(conn, &token, at)?))
                        .await?
                }
                None => None,
            };
            match actor {
                Some(actor) => Ok(Authenticated(actor)),
                None => {
                    if let Some(ip) = ip {
                        state.failed_auth.fail(ip, now);
                    }
                    Err(ApiError::Unauthorized)
                }
            }
        })
    }
}

fn bearer(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

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
