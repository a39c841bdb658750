//! Probes.

use reqwest::StatusCode;

use crate::backend_test;
use crate::helpers::{send, Backend};

backend_test!(probes_answer_without_a_token, |app| async move {
    let (status, body) = send(app.client.get(app.url("/healthz"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    let (status, body) = send(app.client.get(app.url("/readyz"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let expected = match app.backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    assert_eq!(body["database"], expected);
});

backend_test!(
    metrics_count_requests_by_route_and_read_the_outbox,
    |app| async move {
        let (status, _) = app.get("/api/v1/units/NO-SUCH-UNIT").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (_, future) = crate::submissions::world(&app, None).await;
        let (status, _) = app
        .post(
            "/api/v1/submissions",
            serde_json::json!({"obligation_id": future, "period": "2030", "unit": "A", "payload": {}}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);

        let response = app.client.get(app.url("/metrics")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"));
        let text = response.text().await.unwrap();
        let value = |series: &str| -> f64 {
            text.lines()
                .find_map(|l| l.strip_prefix(series))
                .unwrap_or_else(|| panic!("{series} missing from\n{text}"))
                .trim()
                .parse()
                .unwrap()
        };
        // The route pattern, never the raw path (one series per unit code would grow without end).
        assert!(
            value(
                r#"hanbao_http_requests_total{method="GET",route="/api/v1/units/{code}",status="404"}"#
            ) >= 1.0
        );
        assert!(!text.contains("NO-SUCH-UNIT"));
        assert!(
            value(
                r#"hanbao_http_requests_total{method="POST",route="/api/v1/submissions",status="201"}"#
            ) >= 1.0
        );
        assert!(
            value(r#"hanbao_http_request_duration_seconds_count{route="/api/v1/submissions"}"#)
                >= 1.0
        );
        // The receipt waits in this database's outbox.
        assert_eq!(value(r#"hanbao_outbox_emails{status="pending"}"#), 1.0);
        assert_eq!(value(r#"hanbao_outbox_emails{status="failed"}"#), 0.0);
    }
);

/// A PostgreSQL connection that dies under a statement (a restart, an administrator's `pg_terminate_backend`) is
/// recognised as lost — answered 503 with `Retry-After`, see `http::problem` — and never handed out again: the
/// next request gets a fresh connection (issue 11 §1.6).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_postgres_connection_is_recognised_and_replaced() {
    let Some(app) = crate::helpers::TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let lost = app
        .with_conn(|conn| {
            use diesel::RunQueryDsl;
            let hanbao::store::AnyConnection::Pg(c) = conn else {
                unreachable!("a PostgreSQL app")
            };
            let killed = diesel::sql_query("SELECT pg_terminate_backend(pg_backend_pid())")
                .execute(c)
                .map_err(hanbao::store::StoreError::from);
            let after = diesel::sql_query("SELECT 1")
                .execute(c)
                .map_err(hanbao::store::StoreError::from);
            (killed, after)
        })
        .await;
    let after = lost.1.expect_err("the connection is gone");
    assert!(after.is_connection_lost(), "{after:?}");
    if let Err(killed) = lost.0 {
        assert!(killed.is_connection_lost(), "{killed:?}");
    }
    // Every request after it is served on a working connection.
    for _ in 0..4 {
        let (status, body) = app.get("/api/v1/units").await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

backend_test!(
    a_pool_with_no_connection_free_answers_503,
    |app| async move {
        // Every connection of the pool (4 in the tests) is held elsewhere for longer than a request waits (10 s).
        let pool = app.pool.clone();
        let held = tokio::task::spawn_blocking(move || {
            (0..4).map(|_| pool.get().unwrap()).collect::<Vec<_>>()
        })
        .await
        .unwrap();
        let response = app
            .request(reqwest::Method::GET, "/api/v1/units")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()["retry-after"], "5");
        let problem: serde_json::Value = response.json().await.unwrap();
        assert_eq!(problem["type"], "urn:hanbao:problem:unavailable");
        drop(held);
        let (status, _) = app.get("/api/v1/units").await;
        assert_eq!(
            status,
            StatusCode::OK,
            "served again once connections are free"
        );
    }
);
