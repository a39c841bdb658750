//! The OpenAPI 3.1 document, collected from the route list and the handlers' and types' annotations (utoipa).

use actix_web::{get, web, HttpResponse};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
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
        (name = "compliance", description = "Who reported, per unit and period, with DHIS2's rates (tình hình gửi báo cáo)"),
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
        // Calendar feeds only: calendar apps cannot send headers.
        components.add_security_scheme(
            "feed_token",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "token",
                "a feed token (kind `feed`): reads the `.ics` calendar feeds and nothing else",
            ))),
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
        let mut api = api;
        complete_errors(&mut api);
        Self(api)
    }

    /// The methods served at a route pattern (`/api/v1/units/{code}`), for a 405's `Allow`.
    pub fn methods(&self, pattern: &str) -> Vec<&'static str> {
        let Some(item) = self.0.paths.paths.get(pattern) else {
            return Vec::new();
        };
        [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("PATCH", &item.patch),
            ("DELETE", &item.delete),
        ]
        .into_iter()
        .filter(|(_, op)| op.is_some())
        .map(|(method, _)| method)
        .collect()
    }
}

impl Document {
    /// The query parameters documented for `method` at a route pattern; `None` for a route or method the
    /// document does not have (those answer 404 or 405 anyway).
    pub fn query_names(&self, pattern: &str, method: &str) -> Option<Vec<String>> {
        use utoipa::openapi::path::ParameterIn;
        let item = self.0.paths.paths.get(pattern)?;
        let op = match method {
            "GET" => item.get.as_ref(),
            "POST" => item.post.as_ref(),
            "PUT" => item.put.as_ref(),
            "PATCH" => item.patch.as_ref(),
            "DELETE" => item.delete.as_ref(),
            _ => None,
        }?;
        Some(
            op.parameters
                .iter()
                .flatten()
                .filter(|p| matches!(p.parameter_in, ParameterIn::Query))
                .map(|p| p.name.clone())
                .collect(),
        )
    }
}

/// Makes the error answers of every operation what the server does, whatever its annotation says: every error
/// is `application/problem+json` (annotations give a body type, which utoipa writes as `application/json`); any
/// operation may answer 400 (a query parameter it does not know), one with a body also 400, 413, 415 and 422,
/// one with query parameters 422, and one behind a token 401, 429 (failed authentications) and 503 (no database
/// connection).
fn complete_errors(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    const WHY: [(&str, &str); 7] = [
        (
            "400",
            "the body is not JSON, or a query parameter is not one of the operation's",
        ),
        ("401", "no token, or not a valid one"),
        ("413", "the body is too large"),
        ("415", "the body is not `application/json`"),
        (
            "422",
            "a field or query parameter is invalid; `errors` names each",
        ),
        (
            "429",
            "too many failed authentications from this address; see `Retry-After`",
        ),
        (
            "503",
            "the database is not reachable right now; see `Retry-After`",
        ),
    ];
    for item in api.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for op in operations.into_iter().flatten() {
            // Any operation refuses a query parameter it does not document (400).
            let mut needed = vec!["400"];
            if op.request_body.is_some() {
                needed.extend(["413", "415", "422"]);
            }
            if op
                .parameters
                .iter()
                .flatten()
                .any(|p| matches!(p.parameter_in, ParameterIn::Query))
            {
                needed.push("422");
            }
            if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
                needed.extend(["401", "429", "503"]);
            }
            for status in needed {
                op.responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| {
                        let why = WHY.iter().find(|(s, _)| *s == status).map_or("", |w| w.1);
                        RefOr::T(
                            ResponseBuilder::new()
                                .description(why)
                                .content(
                                    "application/problem+json",
                                    ContentBuilder::new()
                                        .schema(Some(Ref::from_schema_name("Problem")))
                                        .build(),
                                )
                                .build(),
                        )
                    });
            }
            for (status, response) in &mut op.responses.responses {
                if !(status.starts_with('4') || status.starts_with('5')) {
                    continue;
                }
                if let RefOr::T(response) = response {
                    // Only problems: `/readyz` answers 503 with its own JSON document.
                    let is_problem = response.content.get("application/json").is_some_and(|c| {
                        matches!(&c.schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/Problem"))
                    });
                    if !is_problem {
                        continue;
                    }
                    if let Some(content) = response.content.shift_remove("application/json") {
                        response
                            .content
                            .insert("application/problem+json".to_owned(), content);
                    }
                    if response.description.is_empty() {
                        if let Some((_, why)) = WHY.iter().find(|(s, _)| s == status) {
                            response.description = (*why).to_owned();
                        }
                    }
                }
            }
        }
    }
}

/// This document.
#[utoipa::path(tag = "health", responses((status = 200, description = "the OpenAPI 3.1 document")))]
#[get("/openapi.json")]
pub async fn document(document: web::Data<Document>) -> HttpResponse {
    HttpResponse::Ok().json(&document.0)
}
