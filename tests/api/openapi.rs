//! The OpenAPI document: generated from the code, 3.1, covering every route (snapshot reviewed in git).

use reqwest::StatusCode;

use crate::helpers::{send, Backend, TestApp};

#[tokio::test]
async fn openapi_document_covers_every_route() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let (status, doc) = send(app.client.get(app.url("/api/v1/openapi.json"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"].as_str().unwrap().get(..3), Some("3.1"));
    let mut routes: Vec<String> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            routes.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    routes.sort();
    let expected = [
        "DELETE /api/v1/calendars/{code}/days/{date}",
        "DELETE /api/v1/tokens/{id}",
        "GET /api/v1/audit",
        "GET /api/v1/calendars/{code}/days",
        "GET /api/v1/compliance",
        "GET /api/v1/deadlines",
        "GET /api/v1/deadlines/{id}",
        "GET /api/v1/deadlines/{id}/submissions",
        "GET /api/v1/events",
        "GET /api/v1/obligations",
        "GET /api/v1/obligations/{id}",
        "GET /api/v1/obligations/{id}/consolidation",
        "GET /api/v1/obligations/{id}/deadlines.ics",
        "GET /api/v1/openapi.json",
        "GET /api/v1/outbox",
        "GET /api/v1/plans",
        "GET /api/v1/plans/{id}",
        "GET /api/v1/plans/{id}/obligations",
        "GET /api/v1/submissions",
        "GET /api/v1/submissions/{id}",
        "GET /api/v1/tokens",
        "GET /api/v1/units",
        "GET /api/v1/units/{code}",
        "GET /api/v1/units/{code}/deadlines.ics",
        "GET /healthz",
        "GET /metrics",
        "GET /readyz",
        "PATCH /api/v1/obligations/{id}",
        "PATCH /api/v1/plans/{id}",
        "PATCH /api/v1/units/{code}",
        "POST /api/v1/calendars/{code}/days",
        "POST /api/v1/deadlines/{id}/extension",
        "POST /api/v1/deadlines/{id}/waiver",
        "POST /api/v1/events",
        "POST /api/v1/plans",
        "POST /api/v1/plans/{id}/obligations",
        "POST /api/v1/submissions",
        "POST /api/v1/submissions/{id}/review",
        "POST /api/v1/tokens",
        "POST /api/v1/units",
        "POST /api/v1/units/{code}/succession",
    ];
    assert_eq!(routes, expected);
    // Every documented route is served: none of them is an unknown route (404 with "no such resource").
    for route in &routes {
        let (method, path) = route.split_once(' ').unwrap();
        let path = path
            .replace("{code}", "X")
            .replace("{id}", "1")
            .replace("{date}", "2030-01-01");
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let (_, body) = send(
            app.request(method, &path)
                .header("content-type", "application/json")
                .body("{}"),
        )
        .await;
        assert_ne!(
            body["detail"], "no such resource",
            "{route} is documented but not served"
        );
    }
    insta::assert_json_snapshot!("openapi", doc);
}

/// Schemathesis-style: each documented operation, called with a token and an empty object, without a token, and
/// (with a body) as text, answers only statuses its document lists, with the content type listed for that
/// status; errors are `application/problem+json`; a wrong method gets 405 with `Allow` (issue 11 §1.5).
#[tokio::test]
async fn every_answer_is_documented() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.seed_hanoi().await;
    let (_, doc) = send(app.client.get(app.url("/api/v1/openapi.json"))).await;
    // First, while no request has failed authentication (the calls without a token below reach the limit).
    // The documented bounds of `limit` are the server's.
    let mut paged = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(limit) = item["get"]["parameters"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == "limit"))
        else {
            continue;
        };
        if path.contains('{') {
            continue; // a list under a resource that may not exist: 404 would come first
        }
        let concrete = path;
        let (maximum, minimum) = (&limit["schema"]["maximum"], &limit["schema"]["minimum"]);
        for (value, expected) in [
            (maximum.to_string(), StatusCode::OK),
            (minimum.to_string(), StatusCode::OK),
            (
                (maximum.as_i64().unwrap() + 1).to_string(),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                (minimum.as_i64().unwrap() - 1).to_string(),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
        ] {
            let (status, body) = app.get(&format!("{concrete}?limit={value}")).await;
            assert_eq!(status, expected, "GET {path}?limit={value}: {body}");
        }
        paged += 1;
    }
    assert!(paged >= 6, "{paged} paged lists");
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let concrete = path
                .replace("{code}", "HN-BADINH")
                .replace("{id}", "1")
                .replace("{date}", "2030-01-01");
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let has_body = operation.get("requestBody").is_some();
            let mut requests = vec![
                app.request(method.clone(), &concrete)
                    .header("content-type", "application/json")
                    .body("{}"),
                app.client
                    .request(method.clone(), app.url(&concrete))
                    .header("content-type", "application/json")
                    .body("{}"),
            ];
            if has_body {
                requests.push(
                    app.request(method.clone(), &concrete)
                        .header("content-type", "text/plain")
                        .body("x"),
                );
                requests.push(
                    app.request(method.clone(), &concrete)
                        .header("content-type", "application/json")
                        .body("{"),
                );
            }
            for request in requests {
                let response = request.send().await.unwrap();
                let status = response.status().as_u16().to_string();
                let content_type = response
                    .headers()
                    .get("content-type")
                    .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned());
                let documented = &operation["responses"][&status];
                assert!(
                    documented.is_object(),
                    "{method} {path} answered {status}, which its document does not list"
                );
                if let (Some(content), Some(actual)) = (documented.get("content"), &content_type) {
                    assert!(
                        content.get(actual).is_some(),
                        "{method} {path} {status}: `{actual}`, documented {content}"
                    );
                }
                if status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(
                        content_type.as_deref(),
                        Some("application/problem+json"),
                        "{method} {path} {status}"
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 80, "{checked} answers checked");

    // A route's other methods: 405 naming the ones it has.
    let response = app
        .request(reqwest::Method::DELETE, "/api/v1/units/HN-BADINH")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "GET, PATCH");
}
