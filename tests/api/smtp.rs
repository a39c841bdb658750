//! Delivery through a real SMTP conversation with the in-process sink of `sink.rs`.

use crate::backend_test;
use crate::sink::{Mood, Sink};
use crate::submissions::world;
use chrono::Utc;
use hanbao::jobs::delivery::{deliver_due, DeliveryReport};
use hanbao::mail::transport::Transport;
use reqwest::StatusCode;
use serde_json::json;

fn sender() -> hanbao::mail::transport::Sender {
    hanbao::mail::transport::Sender::new(FROM, "").unwrap()
}

const FROM: &str = "hanbao <hanbao@example.org>";

async fn one_receipt(app: &crate::helpers::TestApp) {
    let (_, future) = world(app, None).await;
    let (status, _) = app
        .post(
            "/api/v1/submissions",
            json!({"obligation_id": future, "period": "2030", "unit": "A", "payload": {}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

backend_test!(smtp_delivery_survives_a_server_restart, |app| async move {
    one_receipt(&app).await;
    // The server is busy: the email stays pending with the server's answer and is retried after its backoff.
    let busy = Sink::start(0, Mood::Busy).await;
    let transport = Transport::new(
        Some(&format!("smtp://127.0.0.1:{}", busy.port)),
        32,
        std::env::temp_dir(),
    )
    .unwrap();
    let now = Utc::now();
    assert_eq!(
        deliver_due(&app.pool, &transport, &sender(), now)
            .await
            .unwrap(),
        DeliveryReport {
            sent: 0,
            retried: 1,
            failed: 0,
            dropped_recipients: 0,
        }
    );
    let (_, pending) = app.get("/api/v1/outbox?status=pending").await;
    assert!(
        pending["items"][0]["last_error"]
            .as_str()
            .unwrap()
            .contains("try again later"),
        "{pending}"
    );

    // Restarted on the same port and accepting: the mail that failed goes out, once.
    let port = busy.stop().await;
    let sink = Sink::start(port, Mood::Accept).await;
    let transport = Transport::new(
        Some(&format!("smtp://127.0.0.1:{port}")),
        32,
        std::env::temp_dir(),
    )
    .unwrap();
    let later = now + chrono::Duration::minutes(5);
    assert_eq!(
        deliver_due(&app.pool, &transport, &sender(), later)
            .await
            .unwrap()
            .sent,
        1
    );
    assert_eq!(
        deliver_due(&app.pool, &transport, &sender(), later)
            .await
            .unwrap(),
        DeliveryReport::default()
    );
    let received = sink.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    let (_, sent) = app.get("/api/v1/outbox?status=sent").await;
    assert!(received[0].contains(&format!(
        "Message-ID: <{}@example.org>",
        sent["items"][0]["message_id"].as_str().unwrap()
    )));
    assert!(
        received[0].contains("To: baocao@a.gov.vn"),
        "{}",
        received[0]
    );
});

backend_test!(
    smtp_permanent_refusals_are_failed_with_the_answer,
    |app| async move {
        one_receipt(&app).await;
        let sink = Sink::start(0, Mood::Refuse).await;
        let transport = Transport::new(
            Some(&format!("smtp://127.0.0.1:{}", sink.port)),
            32,
            std::env::temp_dir(),
        )
        .unwrap();
        assert_eq!(
            deliver_due(&app.pool, &transport, &sender(), Utc::now())
                .await
                .unwrap(),
            DeliveryReport {
                sent: 0,
                retried: 0,
                failed: 1,
                dropped_recipients: 0,
            }
        );
        let (_, failed) = app.get("/api/v1/outbox?status=failed").await;
        assert!(
            failed["items"][0]["last_error"]
                .as_str()
                .unwrap()
                .contains("relaying denied"),
            "{failed}"
        );
        let later = Utc::now() + chrono::Duration::hours(2);
        assert_eq!(
            deliver_due(&app.pool, &transport, &sender(), later)
                .await
                .unwrap(),
            DeliveryReport::default(),
            "never retried"
        );
    }
);
