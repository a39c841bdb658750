//! The OpenAPI 3.1 document, collected from the route list and the handlers' and types' annotations (utoipa).

use actix_web::{get, web, HttpResponse};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "hanbao",
        description = "Reporting deadlines of plans (hạn báo cáo): units, plans, obligations, deadlines, submissions.\n\nErrors are RFC 9457 `application/problem+json` documents; field errors carry JSON pointers.",
    ),
    modifiers(&BearerAuth),
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

/// The OpenAPI document of the running service: the title, tags and security scheme above, and the paths and
/// schemas collected from [`super::routes`], the one route list.
pub struct Document(utoipa::openapi::OpenApi);

impl Document {
    pub fn collect() -> Self {
        let (_, api) = actix_web::App::new()
            .into_utoipa_app()
            .openapi(ApiDoc::openapi())
            .configure(super::routes)
            .split_for_parts();
        Self(api)
    }
}

/// This document.
#[utoipa::path(tag = "health", responses((status = 200, description = "the OpenAPI 3.1 document")))]
#[get("/openapi.json")]
pub async fn document(document: web::Data<Document>) -> HttpResponse {
    HttpResponse::Ok().json(&document.0)
}
