//! Liveness and readiness probes for load balancers and orchestrators.

use actix_web::{get, web, HttpResponse};
use serde::Serialize;

use super::AppState;
use crate::store;

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
        web::block(move || -> Result<(), store::StoreError> { store::ping(&mut *pool.get()?) })
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
