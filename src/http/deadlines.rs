//! `/api/v1/deadlines` and `/api/v1/events`.

use actix_web::http::header::LOCATION;
use actix_web::{get, post, web, HttpResponse};
use chrono::Utc;

use super::auth::Authenticated;
use super::extract::{Json, Query};
use super::problem::{ApiError, Problem};
use super::AppState;
use crate::service::deadlines::{
    Deadline, DeadlineList, DeadlineQuery, Event, EventQuery, NewEventInput,
};
use crate::service::{self, Page, PageParams};

/// Deadlines in due order, with the status that holds now.
#[utoipa::path(
    tag = "deadlines",
    params(DeadlineQuery, PageParams),
    responses((status = 200, body = DeadlineList), (status = 401, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[get("/deadlines")]
pub async fn list(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    Query(query): Query<DeadlineQuery>,
    Query(page): Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let (now, zone) = (Utc::now(), state.settings.time_zone);
    let page = state
        .run(move |conn| service::deadlines::list(conn, &actor, now, zone, &query, &page))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One deadline.
#[utoipa::path(
    tag = "deadlines",
    params(("id" = i64, Path, description = "the deadline's id")),
    responses((status = 200, body = Deadline), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/deadlines/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let now = Utc::now();
    let id = id.into_inner();
    let deadline = state
        .run(move |conn| service::deadlines::get(conn, &actor, now, id))
        .await?;
    Ok(HttpResponse::Ok().json(deadline))
}

/// Record an event (e.g. a campaign, "đợt tuyên truyền"): creates the deadlines of its event obligation.
#[utoipa::path(
    tag = "deadlines",
    request_body = NewEventInput,
    responses(
        (status = 201, body = Event), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 415, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/events")]
pub async fn create_event(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    Json(input): Json<NewEventInput>,
) -> Result<HttpResponse, ApiError> {
    let now = Utc::now();
    let event = state
        .run(move |conn| service::deadlines::create_event(conn, &actor, now, input))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            LOCATION,
            format!("/api/v1/events?obligation={}", event.obligation_id),
        ))
        .json(event))
}

/// Events, oldest first.
#[utoipa::path(
    tag = "deadlines",
    params(EventQuery, PageParams),
    responses((status = 200, body = Page<Event>), (status = 401, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[get("/events")]
pub async fn list_events(
    state: web::Data<AppState>,
    Authenticated(_actor): Authenticated,
    Query(query): Query<EventQuery>,
    Query(page): Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let page = state
        .run(move |conn| service::deadlines::list_events(conn, &query, &page))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}
