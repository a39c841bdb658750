//! Races the campaign tried, kept as tests (issue 11 §3): filings of one deadline at once, one Idempotency-Key
//! from two clients at once, two delivery workers over one outbox. Run on both backends; PostgreSQL is where
//! they truly interleave.

use std::collections::{BTreeSet, HashMap};

use chrono::Utc;
use hanbao::jobs::delivery::deliver_due;
use hanbao::mail::transport::Transport;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::backend_test;
use crate::helpers::{send, TestApp};
use crate::submissions::world;

const CLIENTS: usize = 8;

async fn file(app: &TestApp, obligation: i64, key: String, payload: Value) -> (StatusCode, Value) {
    send(
        app.request(Method::POST, "/api/v1/submissions")
            .header("Idempotency-Key", key)
            .json(
                &json!({"obligation_id": obligation, "period": "2030", "unit": "A",
                          "payload": payload}),
            ),
    )
    .await
}

backend_test!(filings_at_once_each_make_a_version, |app| async move {
    let (_, future) = world(&app, None).await;
    let answers = futures_util::future::join_all(
        (0..CLIENTS).map(|i| file(&app, future, format!("k-{i}"), json!({"n": i}))),
    )
    .await;
    let mut versions = BTreeSet::new();
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::CREATED, "{body}");
        versions.insert(body["version"].as_i64().unwrap());
    }
    assert_eq!(
        versions,
        (1..=CLIENTS as i64).collect::<BTreeSet<_>>(),
        "every filing is a version, none lost or doubled"
    );
    let deadline = answers[0].1["deadline_id"].as_i64().unwrap();
    let (_, kept) = app
        .get(&format!(
            "/api/v1/deadlines/{deadline}/submissions?limit=100"
        ))
        .await;
    assert_eq!(kept["items"].as_array().unwrap().len(), CLIENTS);
    let (_, outbox) = app.get("/api/v1/outbox?limit=100").await;
    assert_eq!(
        outbox["items"].as_array().unwrap().len(),
        CLIENTS,
        "one receipt per filing"
    );
});

backend_test!(one_key_from_clients_at_once_files_once, |app| async move {
    let (_, future) = world(&app, None).await;
    let answers = futures_util::future::join_all(
        (0..CLIENTS).map(|_| file(&app, future, "same-key".into(), json!({"n": 1}))),
    )
    .await;
    let ids: BTreeSet<i64> = answers
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, StatusCode::CREATED, "{body}");
            body["id"].as_i64().unwrap()
        })
        .collect();
    assert_eq!(
        ids.len(),
        1,
        "every client got the one receipt: {answers:?}"
    );
    let deadline = answers[0].1["deadline_id"].as_i64().unwrap();
    let (_, kept) = app
        .get(&format!("/api/v1/deadlines/{deadline}/submissions"))
        .await;
    assert_eq!(kept["items"].as_array().unwrap().len(), 1);
    let (_, outbox) = app.get("/api/v1/outbox").await;
    assert_eq!(outbox["items"].as_array().unwrap().len(), 1);
});

backend_test!(
    two_delivery_workers_send_each_email_once,
    |app| async move {
        let (_, future) = world(&app, None).await;
        for i in 0..40 {
            let (status, _) = file(&app, future, format!("k-{i}"), json!({"n": i})).await;
            assert_eq!(status, StatusCode::CREATED);
        }
        let sender =
            hanbao::mail::transport::Sender::new("hanbao <hanbao@example.org>", "").unwrap();
        let (first, first_sent) = Transport::memory();
        let (second, second_sent) = Transport::memory();
        loop {
            let now = Utc::now();
            let (a, b) = tokio::join!(
                deliver_due(&app.pool, &first, &sender, now),
                deliver_due(&app.pool, &second, &sender, now)
            );
            let (a, b) = (a.unwrap(), b.unwrap());
            assert_eq!(a.failed + b.failed + a.retried + b.retried, 0);
            if a.sent + b.sent == 0 {
                break;
            }
        }
        let mut times_sent: HashMap<String, usize> = HashMap::new();
        for sent in [first_sent, second_sent] {
            for email in sent.lock().unwrap().iter() {
                *times_sent.entry(email.message_id.clone()).or_default() += 1;
            }
        }
        assert_eq!(times_sent.len(), 40, "every email went out");
        assert!(
            times_sent.values().all(|n| *n == 1),
            "none went out twice: {times_sent:?}"
        );
        let (_, pending) = app.get("/api/v1/outbox?status=pending").await;
        assert!(pending["items"].as_array().unwrap().is_empty());
    }
);
