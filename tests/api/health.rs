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
