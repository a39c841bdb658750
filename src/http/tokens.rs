//! `/api/v1/tokens`: issue, list and revoke API tokens (admin).

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::Utc;

use super::auth::Authenticated;
use super::extract::{Json, Query};
use super::problem::{ApiError, Problem};
use super::AppState;
use crate::service::tokens::{IssuedToken, NewTokenInput, TokenInfo};
use crate::service::{self, Page, PageParams};

/// Issue a token. The secret is in this response only; hanbao keeps its hash.
#[utoipa::path(
    tag = "tokens",
    request_body = NewTokenInput,
    responses((status = 201, body = IssuedToken), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[post("/tokens")]
pub async fn create(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    Json(input): Json<NewTokenInput>,
) -> Result<HttpResponse, ApiError> {
    let now = Utc::now();
    let token = state
        .run(move |conn| service::tokens::create(conn, &actor, now, input))
        .await?;
    Ok(HttpResponse::Created().json(token))
}

/// Tokens, without their secrets.
#[utoipa::path(
    tag = "tokens",
    params(PageParams),
    responses((status = 200, body = Page<TokenInfo>), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = []))
)]
#[get("/tokens")]
pub async fn list(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    Query(page): Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let page = state
        .run(move |conn| service::tokens::list(conn, &actor, &page))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Revoke a token: it is refused from the next request on.
#[utoipa::path(
    tag = "tokens",
    params(("id" = i64, Path, description = "the token's id")),
    responses((status = 200, body = TokenInfo), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[delete("/tokens/{id}")]
pub async fn revoke(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let now = Utc::now();
    let id = id.into_inner();
    let token = state
        .run(move |conn| service::tokens::revoke(conn, &actor, now, id))
        .await?;
    Ok(HttpResponse::Ok().json(token))
}
