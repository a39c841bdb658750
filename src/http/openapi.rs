//! The OpenAPI 3.1 document, generated from the handlers and types (utoipa).

use actix_web::{get, HttpResponse};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{audit, calendars, deadlines, health, obligations, plans, submissions, tokens, units};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "hanbao",
        description = "Reporting deadlines of plans (hạn báo cáo): units, plans, obligations, deadlines, submissions.\n\nErrors are RFC 9457 `application/problem+json` documents; field errors carry JSON pointers.",
    ),
    paths(
        health::healthz, health::readyz, health::metrics, document,
        units::create, units::list, units::get, units::update, units::succeed,
        plans::create, plans::list, plans::get, plans::update,
        obligations::create, obligations::list, obligations::get, obligations::update,
        deadlines::list, deadlines::get, deadlines::create_event, deadlines::list_events,
        calendars::days, calendars::put_day, calendars::delete_day,
        submissions::create, submissions::get, submissions::review, submissions::of_deadline,
        submissions::extension, submissions::waiver,
        tokens::create, tokens::list, tokens::revoke,
        audit::list, audit::outbox,
    ),
    modifiers(&BearerAuth, &ApiPrefix),
    tags(
        (name = "units", description = "Organisations that report or receive reports (đơn vị)"),
        (name = "plans", description = "Documents that create reporting obligations (kế hoạch)"),
        (name = "obligations", description = "Who reports what to whom, when (nghĩa vụ báo cáo)"),
        (name = "deadlines", description = "Per-unit, per-period deadlines (hạn nộp) and the events that create them"),
        (name = "calendars", description = "Working days, holidays and làm-bù days"),
        (name = "submissions", description = "Reports filed by units (báo cáo), their versions and review"),
        (name = "tokens", description = "API tokens and their roles"),
        (name = "audit", description = "Who changed what, when, and the emails sent"),
        (name = "health", description = "Probes"),
    )
)]
pub struct ApiDoc;

/// The handlers are mounted under the `/api/v1` scope, which their attributes do not know.
struct ApiPrefix;

impl Modify for ApiPrefix {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let paths = std::mem::take(&mut openapi.paths.paths);
        openapi.paths.paths = paths
            .into_iter()
            .map(|(path, item)| match path.as_str() {
                "/healthz" | "/readyz" | "/metrics" => (path, item),
                _ => (format!("/api/v1{path}"), item),
            })
            .collect();
    }
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// This document.
#[utoipa::path(tag = "health", responses((status = 200, description = "the OpenAPI 3.1 document")))]
#[get("/openapi.json")]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
