//! Liveness and readiness probes for load balancers and orchestrators, and Prometheus metrics.

use actix_web::{get, web, HttpResponse};
use serde::Serialize;

use super::AppState;
use crate::service::{self, ServiceResult};

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`, or `unavailable` when the database does not answer.
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<&'static str>,
}

/// The process is up.
#[utoipa::path(tag = "health", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok",
        database: None,
    })
}

/// The process can serve requests: the database answers.
#[utoipa::path(tag = "health", responses((status = 200, body = Health), (status = 503, body = Health)))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let backend = state.settings.database.backend_name();
    let pool = state.pool.clone();
    let ping =
        web::block(move || -> ServiceResult<()> { service::database_answers(&mut *pool.get()?) })
            .await;
    let failure = match ping {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(e) => Some(e.to_string()),
    };
    if let Some(why) = &failure {
        tracing::warn!("readiness check failed: {why}");
    }
    let health = Health {
        status: if failure.is_none() {
            "ok"
        } else {
            "unavailable"
        },
        database: Some(backend),
    };
    match failure {
        None => HttpResponse::Ok().json(health),
        Some(_) => HttpResponse::ServiceUnavailable().json(health),
    }
}

/// Prometheus metrics in the text exposition format: requests, latency and errors per route, notices, ticks and
/// email deliveries, and the outbox by status (read from the database at each scrape). Not behind a token, like
/// the probes: expose it to your monitoring network only.
#[utoipa::path(tag = "health", responses(
    (status = 200, content_type = "text/plain", body = String, description = "Prometheus text format 0.0.4"),
    (status = 503, description = "the database does not answer")
))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let pool = state.pool.clone();
    let counts =
        web::block(move || -> ServiceResult<_> { service::outbox::waiting(&mut *pool.get()?) })
            .await;
    let counts = match counts {
        Ok(Ok(counts)) => counts,
        Ok(Err(e)) => {
            tracing::warn!("metrics: the outbox could not be read: {e}");
            return HttpResponse::ServiceUnavailable().finish();
        }
        Err(e) => {
            tracing::warn!("metrics: {e}");
            return HttpResponse::ServiceUnavailable().finish();
        }
    };
    let by_status: Vec<(&str, i64)> = counts.iter().map(|(s, n)| (s.as_str(), *n)).collect();
    let mut body = crate::metrics::get().render();
    body.push_str(&crate::metrics::gauge(
        "hanbao_outbox_emails",
        "Emails in the outbox waiting to be sent (pending) or refused for good (failed)",
        "status",
        &by_status,
    ));
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body)
}
