//! `/api/v1/plans`: thin handlers over `service::plans`.

use actix_web::http::header::LOCATION;
use actix_web::{get, patch, post, web, HttpResponse};
use chrono::Utc;

use super::auth::Authenticated;
use super::extract::{Json, Query};
use super::problem::{ApiError, Problem};
use super::AppState;
use crate::service::plans::{NewPlan, Plan, PlanPatch, PlanQuery};
use crate::service::{self, Page, PageParams};

/// Create a plan.
#[utoipa::path(
    tag = "plans",
    request_body = NewPlan,
    responses(
        (status = 201, body = Plan, description = "created; `Location` names it"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 409, body = Problem),
        (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/plans")]
pub async fn create(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    Json(input): Json<NewPlan>,
) -> Result<HttpResponse, ApiError> {
    let now = Utc::now();
    let plan = state
        .run(move |conn| service::plans::create(conn, &actor, now, input))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/plans/{}", plan.id)))
        .json(plan))
}

/// List plans, oldest first, with filters.
#[utoipa::path(
    tag = "plans",
    params(PlanQuery, PageParams),
    responses((status = 200, body = Page<Plan>), (status = 401, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[get("/plans")]
pub async fn list(
    state: web::Data<AppState>,
    Authenticated(_actor): Authenticated,
    Query(query): Query<PlanQuery>,
    Query(page): Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let page = state
        .run(move |conn| service::plans::list(conn, &query, &page))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Read one plan.
#[utoipa::path(
    tag = "plans",
    params(("id" = i64, Path, description = "the plan's id")),
    responses((status = 200, body = Plan), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/plans/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    Authenticated(_actor): Authenticated,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let plan = state.run(move |conn| service::plans::get(conn, id)).await?;
    Ok(HttpResponse::Ok().json(plan))
}

/// Change a plan: the fields present are set, `null` clears a nullable one.
#[utoipa::path(
    tag = "plans",
    params(("id" = i64, Path, description = "the plan's id")),
    request_body = PlanPatch,
    responses(
        (status = 200, body = Plan), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 415, body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[patch("/plans/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<i64>,
    Json(patch): Json<PlanPatch>,
) -> Result<HttpResponse, ApiError> {
    let now = Utc::now();
    let id = id.into_inner();
    let plan = state
        .run(move |conn| service::plans::update(conn, &actor, now, id, patch))
        .await?;
    Ok(HttpResponse::Ok().json(plan))
}
