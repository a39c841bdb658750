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
        "GET /api/v1/deadlines",
        "GET /api/v1/deadlines/{id}",
        "GET /api/v1/deadlines/{id}/submissions",
        "GET /api/v1/events",
        "GET /api/v1/obligations/{id}",
        "GET /api/v1/openapi.json",
        "GET /api/v1/outbox",
        "GET /api/v1/plans",
        "GET /api/v1/plans/{id}",
        "GET /api/v1/plans/{id}/obligations",
        "GET /api/v1/submissions/{id}",
        "GET /api/v1/tokens",
        "GET /api/v1/units",
        "GET /api/v1/units/{code}",
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
