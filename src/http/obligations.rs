//! `/api/v1/plans/{id}/obligations`, `/api/v1/obligations` and `/api/v1/obligations/{id}`.

use actix_web::http::header::LOCATION;
use actix_web::{get, patch, post, web, HttpResponse};
use chrono::Utc;

use super::auth::Authenticated;
use super::extract::{Json, Query};
use super::problem::{ApiError, Problem};
use super::AppState;
use crate::service::obligations::{NewObligation, Obligation, ObligationPatch, ObligationQuery};
use crate::service::{self, Page, PageParams};

/// Create an obligation of a plan and materialise its deadlines for its whole window.
#[utoipa::path(
    tag = "obligations",
    params(("id" = i64, Path, description = "the plan's id")),
    request_body = NewObligation,
    responses(
        (status = 201, body = Obligation, description = "created; `materialised.created` counts the deadlines made"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/plans/{id}/obligations")]
pub async fn create(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    plan_id: web::Path<i64>,
    Json(input): Json<NewObligation>,
) -> Result<HttpResponse, ApiError> {
    let now = Utc::now();
    let plan_id = plan_id.into_inner();
    let obligation = state
        .run(move |conn| service::obligations::create(conn, &actor, now, plan_id, input))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/obligations/{}", obligation.id)))
        .json(obligation))
}

/// Obligations across plans: a reporter sees those it reports under, a coordinator those of its plans.
#[utoipa::path(
    tag = "obligations",
    params(ObligationQuery, PageParams),
    responses((status = 200, body = Page<Obligation>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[get("/obligations")]
pub async fn list_all(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    Query(query): Query<ObligationQuery>,
    Query(page): Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let page = state
        .run(move |conn| service::obligations::list_all(conn, &actor, &query, &page))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// The obligations of a plan.
#[utoipa::path(
    tag = "obligations",
    params(("id" = i64, Path, description = "the plan's id"), PageParams),
    responses((status = 200, body = Page<Obligation>), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/plans/{id}/obligations")]
pub async fn list(
    state: web::Data<AppState>,
    Authenticated(_actor): Authenticated,
    plan_id: web::Path<i64>,
    Query(page): Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let plan_id = plan_id.into_inner();
    let page = state
        .run(move |conn| service::obligations::list(conn, plan_id, &page))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Read an obligation, with its deadline count and the periods it cannot serve (`warnings`).
#[utoipa::path(
    tag = "obligations",
    params(("id" = i64, Path, description = "the obligation's id")),
    responses((status = 200, body = Obligation), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/obligations/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    Authenticated(_actor): Authenticated,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let obligation = state
        .run(move |conn| service::obligations::get(conn, id))
        .await?;
    Ok(HttpResponse::Ok().json(obligation))
}

/// Change an obligation; its open deadlines are recomputed (submitted ones never move).
#[utoipa::path(
    tag = "obligations",
    params(("id" = i64, Path, description = "the obligation's id")),
    request_body = ObligationPatch,
    responses(
        (status = 200, body = Obligation), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[patch("/obligations/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<i64>,
    Json(patch): Json<ObligationPatch>,
) -> Result<HttpResponse, ApiError> {
    let now = Utc::now();
    let id = id.into_inner();
    let obligation = state
        .run(move |conn| service::obligations::update(conn, &actor, now, id, patch))
        .await?;
    Ok(HttpResponse::Ok().json(obligation))
}

/// Query of the consolidation.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsolidationQuery {
    /// The period id (`2024`, `202409`, …).
    pub period: String,
}

/// The consolidated report of one period ("tổng hợp chung"): each numeric field of the form aggregated
/// (`x-aggregate`: sum by default, avg, min, max, count) over the current version of every unit's report, the
/// text fields listed per unit, and the units whose report is missing.
#[utoipa::path(
    tag = "obligations",
    params(("id" = i64, Path, description = "the obligation's id"), ConsolidationQuery),
    responses(
        (status = 200, body = crate::service::consolidation::Consolidation),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)
    ),
    security(("bearer" = []))
)]
#[get("/obligations/{id}/consolidation")]
pub async fn consolidation(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<i64>,
    Query(query): Query<ConsolidationQuery>,
) -> Result<HttpResponse, ApiError> {
    let (now, id) = (Utc::now(), id.into_inner());
    let answer = state
        .run(move |conn| {
            service::consolidation::consolidation(conn, &actor, now, id, &query.period)
        })
        .await?;
    Ok(HttpResponse::Ok().json(answer))
}
