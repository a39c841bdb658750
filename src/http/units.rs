//! `/api/v1/units`: thin handlers over `service::units`.

use actix_web::http::header::LOCATION;
use actix_web::{get, patch, post, web, HttpResponse};
use chrono::Utc;

use super::auth::Authenticated;
use super::extract::{Json, Query};
use super::problem::{ApiError, Problem};
use super::AppState;
use crate::service::succession::{Succession, SuccessionInput};
use crate::service::units::{NewUnit, Unit, UnitPatch, UnitQuery};
use crate::service::{self, Page, PageParams};

/// Create a unit.
#[utoipa::path(
    tag = "units",
    request_body = NewUnit,
    responses(
        (status = 201, body = Unit, description = "created; `Location` names it"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 409, body = Problem),
        (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/units")]
pub async fn create(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    Json(input): Json<NewUnit>,
) -> Result<HttpResponse, ApiError> {
    let now = Utc::now();
    let zone = state.settings.time_zone;
    let unit = state
        .run(move |conn| service::units::create(conn, &actor, now, zone, input))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/units/{}", unit.code)))
        .json(unit))
}

/// List units, oldest first, with filters.
#[utoipa::path(
    tag = "units",
    params(UnitQuery, PageParams),
    responses((status = 200, body = Page<Unit>), (status = 401, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[get("/units")]
pub async fn list(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    Query(query): Query<UnitQuery>,
    Query(page): Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let page = state
        .run(move |conn| service::units::list(conn, &actor, &query, &page))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Read one unit by its code.
#[utoipa::path(
    tag = "units",
    params(("code" = String, Path, description = "the unit's code", pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")),
    responses((status = 200, body = Unit), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/units/{code}")]
pub async fn get(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let unit = state
        .run(move |conn| service::units::get(conn, &actor, &code))
        .await?;
    Ok(HttpResponse::Ok().json(unit))
}

/// Change a unit: the fields present are set, `null` clears a nullable one.
#[utoipa::path(
    tag = "units",
    params(("code" = String, Path, description = "the unit's code", pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")),
    request_body = UnitPatch,
    responses(
        (status = 200, body = Unit), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[patch("/units/{code}")]
pub async fn update(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    code: web::Path<String>,
    Json(patch): Json<UnitPatch>,
) -> Result<HttpResponse, ApiError> {
    let now = Utc::now();
    let unit = state
        .run(move |conn| service::units::update(conn, &actor, now, &code, patch))
        .await?;
    Ok(HttpResponse::Ok().json(unit))
}

/// End a unit and hand its open deadlines to its successors (merge, split, rename).
#[utoipa::path(
    tag = "units",
    params(("code" = String, Path, description = "the unit that ends", pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")),
    request_body = SuccessionInput,
    responses(
        (status = 200, body = Succession), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/units/{code}/succession")]
pub async fn succeed(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    code: web::Path<String>,
    Json(input): Json<SuccessionInput>,
) -> Result<HttpResponse, ApiError> {
    let now = Utc::now();
    let result = state
        .run(move |conn| service::succession::succeed(conn, &actor, now, &code, input))
        .await?;
    Ok(HttpResponse::Ok().json(result))
}
