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

// The emails a worker claimed and the server accepted, when the worker dies before recording it: sent once more
// when the lease has run out — the one duplicate window left (docs/deployment.md, "Delivery") — and never
// while the lease runs. The Message-ID is the same, so mail clients show one message.
backend_test!(
    an_accepted_email_not_yet_recorded_is_sent_again_after_its_lease,
    |app| async move {
        one_receipt(&app).await;
        let now = Utc::now();
        // A worker claims the email, the server accepts it, the worker dies before marking it sent.
        let lease = now + chrono::Duration::seconds(60);
        let claimed = app
            .with_conn(move |c| hanbao::service::outbox::claim_due(c, now, now, lease, 16))
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1);
        let sink = Sink::start(0, Mood::Accept).await;
        let transport = Transport::new(
            Some(&format!("smtp://127.0.0.1:{}", sink.port)),
            4,
            std::env::temp_dir(),
        )
        .unwrap();
        transport.send(&claimed[0], &sender()).await.unwrap();
        // Another worker leaves it alone while the lease runs …
        let during = now + chrono::Duration::seconds(59);
        assert_eq!(
            deliver_due(&app.pool, &transport, &sender(), during)
                .await
                .unwrap(),
            DeliveryReport::default()
        );
        // … and sends it once more when the lease has run out: the duplicate, with the same Message-ID.
        let after = now + chrono::Duration::seconds(61);
        assert_eq!(
            deliver_due(&app.pool, &transport, &sender(), after)
                .await
                .unwrap()
                .sent,
            1
        );
        let received = sink.received.lock().unwrap().clone();
        assert_eq!(received.len(), 2);
        let id = |data: &str| {
            data.lines()
                .find(|l| l.starts_with("Message-ID:"))
                .unwrap()
                .to_string()
        };
        assert_eq!(id(&received[0]), id(&received[1]));
        let (_, sent) = app.get("/api/v1/outbox?status=sent").await;
        assert_eq!(sent["items"][0]["attempts"], 2, "{sent}");
    }
);

/// `hanbao serve` against a sink that takes `SLOW` to accept each message, with `emails` due in its outbox.
struct SlowServer {
    sink: Sink,
    dir: tempfile::TempDir,
    process: std::process::Child,
    log: std::sync::mpsc::Receiver<String>,
}

/// An outbox row as the tests look at it.
#[derive(diesel::QueryableByName, Debug, PartialEq)]
struct Row {
    #[diesel(sql_type = diesel::sql_types::Text)]
    dedupe_key: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    status: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    attempts: i32,
    /// Seconds the lease still runs (0 without one).
    #[diesel(sql_type = diesel::sql_types::Integer)]
    lease_seconds: i32,
}

fn row(key: &str, status: &str, attempts: i32, lease_seconds: i32) -> Row {
    Row {
        dedupe_key: key.into(),
        status: status.into(),
        attempts,
        lease_seconds,
    }
}

impl SlowServer {
    async fn start(emails: usize, connections: usize) -> Self {
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
                .env("HANBAO_SMTP_CONNECTIONS", connections.to_string())
                .env("HANBAO_LOG", "info");
            command
        };
        assert!(hanbao().arg("migrate").status().unwrap().success());
        let mut conn =
            diesel::SqliteConnection::establish(Self::database(&dir).to_str().unwrap()).unwrap();
        for i in 1..=emails {
            diesel::sql_query(format!(
                r#"INSERT INTO outbox (dedupe_key, message_id, recipients, subject, text_body, html_body, status,
                    attempts, next_attempt_at, created_at)
                   VALUES ('test:{i}', 'm{i}', '{{"to":["a@example.vn"],"cc":[]}}', 'Thư {i}', 'Nội dung', '<p>Nội dung</p>',
                    'pending', 0, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')"#
            ))
            .execute(&mut conn)
            .unwrap();
        }
        let mut process = hanbao()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stderr(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let (lines_tx, log) = std::sync::mpsc::channel();
        let stderr = process.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                let _ = lines_tx.send(line);
            }
        });
        let server = Self {
            sink,
            dir,
            process,
            log,
        };
        server.wait_for("hanbao is listening", std::time::Duration::from_secs(30));
        server
    }

    fn database(dir: &tempfile::TempDir) -> std::path::PathBuf {
        dir.path().join("data/hanbao.sqlite3")
    }

    fn wait_for(&self, words: &str, within: std::time::Duration) {
        let mut seen = Vec::new();
        let deadline = std::time::Instant::now() + within;
        while let Ok(line) = self
            .log
            .recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
        {
            let found = line.contains(words);
            seen.push(line);
            if found {
                return;
            }
        }
        panic!("no `{words}` in the log: {seen:#?}");
    }

    /// Sends `signal` with the shell's own `kill`: no procps needed on a bare CI machine.
    fn signal(&self, signal: &str) {
        assert!(std::process::Command::new("sh")
            .args(["-c", &format!("kill -{signal} {}", self.process.id())])
            .status()
            .unwrap()
            .success());
    }

    fn rows(&self) -> Vec<Row> {
        use diesel::{Connection, RunQueryDsl};
        let mut conn =
            diesel::SqliteConnection::establish(Self::database(&self.dir).to_str().unwrap())
                .unwrap();
        diesel::sql_query(
            "SELECT dedupe_key, status, attempts,
                    COALESCE(CAST(ROUND((julianday(lease_until) - julianday('now')) * 86400) AS INTEGER), 0)
                        AS lease_seconds
             FROM outbox ORDER BY id",
        )
        .load(&mut conn)
        .unwrap()
    }
}

/// `hanbao serve` stopped by SIGTERM while an email is being sent: the send finishes and is recorded, nothing else
/// is started or left leased, and the process exits cleanly (issue 11 §2, graceful shutdown).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_send_under_way_and_releases_the_rest() {
    let mut server = SlowServer::start(3, 1).await;
    // The first email is at the sink (which takes SLOW to accept it) when the signal comes.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    server.signal("TERM");
    server.wait_for("hanbao stopped", std::time::Duration::from_secs(25));
    let status = server.process.wait().unwrap();
    assert!(status.success(), "{status}");
    assert_eq!(
        server.sink.received.lock().unwrap().len(),
        1,
        "the send under way finished"
    );
    assert_eq!(
        server.rows(),
        [
            row("test:1", "sent", 1, 0),
            row("test:2", "pending", 0, 0),
            row("test:3", "pending", 0, 0),
        ]
    );
    server.sink.stop().await;
}

/// `hanbao serve` killed (SIGKILL: no chance to tidy up) while sending: only the emails under way are leased, for
/// a minute, and every email already accepted is recorded as sent — after a restart the others go at once, and
/// none of those accepted goes twice (issue 11 §1.4).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_worker_leaves_only_the_sends_under_way_leased_briefly() {
    let mut server = SlowServer::start(6, 2).await;
    // Two waves of two: the first accepted and recorded (after SLOW), the second at the sink when the kill comes.
    tokio::time::sleep(crate::sink::SLOW + std::time::Duration::from_secs(1)).await;
    server.signal("KILL");
    server.process.wait().unwrap();
    assert_eq!(server.sink.received.lock().unwrap().len(), 2);
    let rows = server.rows();
    let leased: Vec<&Row> = rows.iter().filter(|r| r.lease_seconds > 0).collect();
    assert_eq!(
        rows.iter().map(|r| r.status.as_str()).collect::<Vec<_>>(),
        ["sent", "sent", "pending", "pending", "pending", "pending"],
        "{rows:#?}"
    );
    assert_eq!(leased.len(), 2, "the wave under way, no more: {rows:#?}");
    assert!(
        leased
            .iter()
            .all(|r| r.lease_seconds <= 60 && r.attempts == 1),
        "{rows:#?}"
    );
    assert_eq!(
        rows[4..],
        [
            row("test:5", "pending", 0, 0),
            row("test:6", "pending", 0, 0)
        ]
    );
    server.sink.stop().await;
}
