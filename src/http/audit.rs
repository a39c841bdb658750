//! `/api/v1/audit` and `/api/v1/outbox`: what changed and what was emailed, for admins.

use actix_web::{get, web, HttpResponse};

use super::auth::Authenticated;
use super::extract::Query;
use super::problem::{ApiError, Problem};
use super::AppState;
use crate::service::audit::{AuditEntry, AuditQuery};
use crate::service::outbox::{Email, OutboxQuery};
use crate::service::{self, Page, PageParams};

/// Recorded changes, oldest first: who changed what, when, before and after.
#[utoipa::path(
    tag = "audit",
    params(AuditQuery, PageParams),
    responses((status = 200, body = Page<AuditEntry>), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = []))
)]
#[get("/audit")]
pub async fn list(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    Query(query): Query<AuditQuery>,
    Query(page): Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let page = state
        .run(move |conn| service::audit::list(conn, &actor, &query, &page))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Emails in the outbox (pending, sent, failed), oldest first.
#[utoipa::path(
    tag = "audit",
    params(OutboxQuery, PageParams),
    responses((status = 200, body = Page<Email>), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = []))
)]
#[get("/outbox")]
pub async fn outbox(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    Query(query): Query<OutboxQuery>,
    Query(page): Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let page = state
        .run(move |conn| service::outbox::list(conn, &actor, &query, &page))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}
