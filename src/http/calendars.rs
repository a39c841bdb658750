//! `/api/v1/calendars/{code}/days`.

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{NaiveDate, Utc};
use serde_json::json;

use super::auth::Authenticated;
use super::extract::{Json, Query};
use super::problem::{ApiError, Problem};
use super::AppState;
use crate::service;
use crate::service::calendars::{CalendarDay, CalendarDays, DayEdit, DaysQuery};

/// The days of a calendar that differ from the weekly pattern, and which years are complete.
#[utoipa::path(
    tag = "calendars",
    params(("code" = String, Path, description = "calendar code, e.g. `vn`"), DaysQuery),
    responses((status = 200, body = CalendarDays), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/calendars/{code}/days")]
pub async fn days(
    state: web::Data<AppState>,
    Authenticated(_actor): Authenticated,
    code: web::Path<String>,
    Query(query): Query<DaysQuery>,
) -> Result<HttpResponse, ApiError> {
    let days = state
        .run(move |conn| service::calendars::days(conn, &code, &query))
        .await?;
    Ok(HttpResponse::Ok().json(days))
}

/// Add or replace a day (a holiday, or a worked weekend day); open deadlines are recomputed.
#[utoipa::path(
    tag = "calendars",
    params(("code" = String, Path, description = "calendar code")),
    request_body = CalendarDay,
    responses(
        (status = 201, body = DayEdit), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/calendars/{code}/days")]
pub async fn put_day(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    code: web::Path<String>,
    Json(day): Json<CalendarDay>,
) -> Result<HttpResponse, ApiError> {
    let now = Utc::now();
    let edit = state
        .run(move |conn| service::calendars::put_day(conn, &actor, now, &code, day))
        .await?;
    Ok(HttpResponse::Created().json(edit))
}

/// Remove a day's override; open deadlines are recomputed.
#[utoipa::path(
    tag = "calendars",
    params(("code" = String, Path, description = "calendar code"), ("date" = String, Path, description = "YYYY-MM-DD")),
    responses((status = 200, description = "`{deadlines_rescheduled}`"), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[delete("/calendars/{code}/days/{date}")]
pub async fn delete_day(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    path: web::Path<(String, NaiveDate)>,
) -> Result<HttpResponse, ApiError> {
    let now = Utc::now();
    let (code, date) = path.into_inner();
    let moved = state
        .run(move |conn| service::calendars::delete_day(conn, &actor, now, &code, date))
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "deadlines_rescheduled": moved })))
}
