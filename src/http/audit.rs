//! `/api/v1/audit`: the audit log, for admins.

use actix_web::{get, web, HttpResponse};

use super::auth::Authenticated;
use super::extract::Query;
use super::problem::{ApiError, Problem};
use super::AppState;
use crate::service::audit::{AuditEntry, AuditQuery};
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
