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

/// `hanbao serve` stopped by SIGTERM while an email is being sent: the send finishes and is recorded, the email
/// claimed but not started is released at once (not left to its 15-minute lease), and the process exits cleanly
/// (issue 11 §2, graceful shutdown).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_send_under_way_and_releases_the_rest() {
    use diesel::{Connection, RunQueryDsl};
    use std::io::BufRead;
    let sink = Sink::start(0, Mood::Slow).await;
    let dir = tempfile::tempdir().unwrap();
    let hanbao = || {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_hanbao"));
        command
            .current_dir(dir.path())
            .env_remove("DATABASE_URL")
            .env("HANBAO_ADMIN_TOKEN", "shutdown-test-token-0123456789")
            .env("HANBAO_SMTP_URL", format!("smtp://127.0.0.1:{}", sink.port))
            .env("HANBAO_SMTP_CONNECTIONS", "1")
            .env("HANBAO_LOG", "info");
        command
    };
    assert!(hanbao().arg("migrate").status().unwrap().success());
    let database = dir.path().join("data/hanbao.sqlite3");
    let open = || diesel::SqliteConnection::establish(database.to_str().unwrap()).unwrap();
    for i in 1..=3 {
        diesel::sql_query(format!(
            r#"INSERT INTO outbox (dedupe_key, message_id, recipients, subject, text_body, html_body, status,
                attempts, next_attempt_at, created_at)
               VALUES ('test:{i}', 'm{i}', '{{"to":["a@example.vn"],"cc":[]}}', 'Thư {i}', 'Nội dung', '<p>Nội dung</p>',
                'pending', 0, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')"#
        ))
        .execute(&mut open())
        .unwrap();
    }
    let mut server = hanbao()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (lines_tx, lines_rx) = std::sync::mpsc::channel();
    let stderr = server.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = lines_tx.send(line);
        }
    });
    let wait_for = |words: &str, within: std::time::Duration| -> Vec<String> {
        let mut seen = Vec::new();
        let deadline = std::time::Instant::now() + within;
        while let Ok(line) =
            lines_rx.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
        {
            let found = line.contains(words);
            seen.push(line);
            if found {
                return seen;
            }
        }
        panic!("no `{words}` in the log: {seen:#?}");
    };
    wait_for("hanbao is listening", std::time::Duration::from_secs(30));
    // The first email is at the sink (which takes SLOW to accept it) when the signal comes.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    // The shell's own `kill`: no procps needed on a bare CI machine.
    assert!(std::process::Command::new("sh")
        .args(["-c", &format!("kill -TERM {}", server.id())])
        .status()
        .unwrap()
        .success());
    wait_for("hanbao stopped", std::time::Duration::from_secs(25));
    let status = server.wait().unwrap();
    assert!(status.success(), "{status}");
    assert_eq!(
        sink.received.lock().unwrap().len(),
        1,
        "the send under way finished"
    );

    #[derive(diesel::QueryableByName, Debug, PartialEq)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        dedupe_key: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        status: String,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        attempts: i32,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        leased: bool,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT dedupe_key, status, attempts, lease_until IS NOT NULL AS leased FROM outbox ORDER BY id",
    )
    .load(&mut open())
    .unwrap();
    let row = |key: &str, status: &str, attempts, leased| Row {
        dedupe_key: key.into(),
        status: status.into(),
        attempts,
        leased,
    };
    assert_eq!(
        rows,
        [
            row("test:1", "sent", 1, false),
            // Claimed with the first (two waves of one connection), never tried: free again at once.
            row("test:2", "pending", 0, false),
            row("test:3", "pending", 0, false),
        ]
    );
    sink.stop().await;
}
