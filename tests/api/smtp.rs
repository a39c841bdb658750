//! Delivery through a real SMTP conversation: an in-process sink on loopback that can accept, refuse for now
//! (4xx) or refuse for good (5xx), and be stopped and restarted.

use std::sync::{Arc, Mutex};

use chrono::Utc;
use hanbao::jobs::delivery::{deliver_due, DeliveryReport};
use hanbao::mail::transport::Transport;
use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::backend_test;
use crate::submissions::world;

const FROM: &str = "hanbao <hanbao@example.org>";

/// How the sink answers `MAIL FROM`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mood {
    Accept,
    Busy,   // 451: try again later
    Refuse, // 550: never
}

/// A minimal SMTP server for tests: records each message's DATA.
struct Sink {
    port: u16,
    received: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Sink {
    async fn start(port: u16, mood: Mood) -> Self {
        // A restart on the same port may race the old listener's shutdown: retry for a moment.
        let mut attempt = 0;
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", port)).await {
                Ok(listener) => break listener,
                Err(_) if attempt < 50 => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                Err(e) => panic!("cannot bind the SMTP sink on port {port}: {e}"),
            }
        };
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let store = received.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let store = store.clone();
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    write.write_all(b"220 sink ESMTP\r\n").await.ok();
                    while let Ok(Some(line)) = lines.next_line().await {
                        let verb = line.split_whitespace().next().unwrap_or("").to_uppercase();
                        let reply: &[u8] = match verb.as_str() {
                            "EHLO" | "HELO" => b"250-sink\r\n250 8BITMIME\r\n",
                            "MAIL" if mood == Mood::Busy => b"451 4.3.0 try again later\r\n",
                            "MAIL" if mood == Mood::Refuse => b"550 5.7.1 relaying denied\r\n",
                            "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 OK\r\n",
                            "DATA" => {
                                write.write_all(b"354 go ahead\r\n").await.ok();
                                let mut data = String::new();
                                while let Ok(Some(l)) = lines.next_line().await {
                                    if l == "." {
                                        break;
                                    }
                                    data.push_str(&l);
                                    data.push('\n');
                                }
                                store.lock().unwrap().push(data);
                                b"250 OK queued\r\n"
                            }
                            "QUIT" => {
                                write.write_all(b"221 bye\r\n").await.ok();
                                break;
                            }
                            _ => b"502 not implemented\r\n",
                        };
                        if write.write_all(reply).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        Self {
            port,
            received,
            task,
        }
    }

    async fn stop(self) -> u16 {
        self.task.abort();
        let _ = self.task.await;
        self.port
    }
}

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
        std::env::temp_dir(),
    )
    .unwrap();
    let now = Utc::now();
    assert_eq!(
        deliver_due(&app.pool, &transport, FROM, now).await.unwrap(),
        DeliveryReport {
            sent: 0,
            retried: 1,
            failed: 0
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
        std::env::temp_dir(),
    )
    .unwrap();
    let later = now + chrono::Duration::minutes(5);
    assert_eq!(
        deliver_due(&app.pool, &transport, FROM, later)
            .await
            .unwrap()
            .sent,
        1
    );
    assert_eq!(
        deliver_due(&app.pool, &transport, FROM, later)
            .await
            .unwrap(),
        DeliveryReport::default()
    );
    let received = sink.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    let (_, sent) = app.get("/api/v1/outbox?status=sent").await;
    assert!(received[0].contains(&format!(
        "Message-ID: {}",
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
            std::env::temp_dir(),
        )
        .unwrap();
        assert_eq!(
            deliver_due(&app.pool, &transport, FROM, Utc::now())
                .await
                .unwrap(),
            DeliveryReport {
                sent: 0,
                retried: 0,
                failed: 1
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
            deliver_due(&app.pool, &transport, FROM, later)
                .await
                .unwrap(),
            DeliveryReport::default(),
            "never retried"
        );
    }
);
