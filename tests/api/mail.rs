//! The outbox reaches the mail transport: once per row, with its Message-ID, retried after transient failures.

use chrono::Utc;
use hanbao::jobs::delivery::{deliver_due, DeliveryReport};
use hanbao::mail::transport::Transport;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::backend_test;
use crate::helpers::send;
use crate::submissions::{as_token, token, world};

fn sender() -> hanbao::mail::transport::Sender {
    hanbao::mail::transport::Sender::new(FROM, "").unwrap()
}

const FROM: &str = "hanbao <hanbao@example.org>";

backend_test!(receipts_are_delivered_once, |app| async move {
    let (_, future) = world(&app, None).await;
    let reporter = token(&app, "reporter", Some("A")).await;
    let (status, receipt) = as_token(
        &app,
        &reporter,
        Method::POST,
        "/api/v1/submissions",
        Some(json!({"obligation_id": future, "period": "2030", "payload": {}})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    let (transport, sent) = Transport::memory();
    let report = deliver_due(&app.pool, &transport, &sender(), Utc::now())
        .await
        .unwrap();
    assert_eq!(
        report,
        DeliveryReport {
            sent: 1,
            retried: 0,
            failed: 0,
            dropped_recipients: 0,
        }
    );
    let (_, outbox) = app.get("/api/v1/outbox?status=sent").await;
    let row = &outbox["items"][0];
    assert_eq!(row["dedupe_key"], format!("receipt:{}", receipt["id"]));
    assert_eq!(row["attempts"], 1);
    {
        let sent = sent.lock().unwrap();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].to, ["baocao@a.gov.vn"]);
        // The outbox keeps the local part; the Message-ID is at the domain of mail_from.
        assert_eq!(
            sent[0].message_id,
            format!("<{}@example.org>", row["message_id"].as_str().unwrap())
        );
        // The sender's display name is the plan's coordinating office.
        assert_eq!(sent[0].from, "Sở <hanbao@example.org>");
        assert!(sent[0].text.contains("2030"));
    }
    // Nothing is sent twice for one reason.
    let again = deliver_due(&app.pool, &transport, &sender(), Utc::now())
        .await
        .unwrap();
    assert_eq!(again, DeliveryReport::default());
    assert_eq!(sent.lock().unwrap().len(), 1);
});

backend_test!(
    eml_files_and_retries_after_transient_failures,
    |app| async move {
        let (_, future) = world(&app, None).await;
        let (status, receipt) = app
            .post(
                "/api/v1/submissions",
                json!({"obligation_id": future, "period": "2030", "unit": "B", "payload": {}}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let dir = tempfile::tempdir().unwrap();

        // A mail directory that cannot be created: a transient failure, retried later, nothing lost.
        let blocked = dir.path().join("not-a-dir");
        std::fs::write(&blocked, "a file").unwrap();
        let broken = Transport::Files(blocked.join("mail"));
        let now = Utc::now();
        let report = deliver_due(&app.pool, &broken, &sender(), now)
            .await
            .unwrap();
        assert_eq!(
            report,
            DeliveryReport {
                sent: 0,
                retried: 1,
                failed: 0,
                dropped_recipients: 0,
            }
        );
        let (_, pending) = app.get("/api/v1/outbox?status=pending").await;
        assert!(pending["items"][0]["last_error"]
            .as_str()
            .unwrap()
            .contains("cannot create"));
        assert_eq!(
            deliver_due(&app.pool, &broken, &sender(), now)
                .await
                .unwrap(),
            DeliveryReport::default(),
            "backing off"
        );

        // Transient failures are retried for three days, then the email is given up, with the last answer.
        let mut patient = sender();
        patient.give_up_after = chrono::Duration::hours(1);
        let too_late = now + chrono::Duration::hours(2);
        let given_up = deliver_due(&app.pool, &broken, &patient, too_late)
            .await
            .unwrap();
        assert_eq!((given_up.failed, given_up.retried), (1, 0));
        let (_, failed) = app.get("/api/v1/outbox?status=failed").await;
        let last = failed["items"][0]["last_error"].as_str().unwrap();
        assert!(
            last.starts_with("given up after 1 hours") && last.contains("cannot create"),
            "{last}"
        );
        app.execute_sql("UPDATE outbox SET status = 'pending'");

        let files = Transport::Files(dir.path().join("mail"));
        let later = now + chrono::Duration::minutes(1);
        assert_eq!(
            deliver_due(&app.pool, &files, &sender(), later)
                .await
                .unwrap()
                .sent,
            1
        );
        let names: Vec<String> = std::fs::read_dir(dir.path().join("mail"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(
            names[0].ends_with(&format!("-receipt-{}.eml", receipt["id"])),
            "{names:?}"
        );
        let eml = std::fs::read_to_string(dir.path().join("mail").join(&names[0])).unwrap();
        let (_, sent) = app.get("/api/v1/outbox?status=sent").await;
        assert!(
            eml.contains(&format!(
                "Message-ID: <{}@example.org>",
                sent["items"][0]["message_id"].as_str().unwrap()
            )),
            "{eml}"
        );
        assert!(eml.contains("To: baocao@b.gov.vn"), "{eml}");
        assert!(eml.contains("multipart/alternative"), "{eml}");
        // A failed try, the try given up, and the one that went through.
        assert_eq!(sent["items"][0]["attempts"], 3);
    }
);

backend_test!(
    pruning_keeps_the_record_and_drops_what_is_spent,
    |app| async move {
        let (past, _) = world(&app, None).await;
        // Two receipts (outbox rows), one idempotency key.
        for unit in ["A", "B"] {
            let (status, _) = send(
            app.request(reqwest::Method::POST, "/api/v1/submissions")
                .header("Idempotency-Key", format!("k-{unit}"))
                .json(&json!({"obligation_id": past, "period": "2022", "unit": unit, "payload": {}})),
        )
        .await;
            assert_eq!(status, StatusCode::CREATED);
        }
        let (transport, _) = Transport::memory();
        deliver_due(&app.pool, &transport, &sender(), Utc::now())
            .await
            .unwrap();
        // A's receipt was sent and its key stored two years ago; B's are fresh.
        let two_years_ago = match app.backend {
            crate::helpers::Backend::Sqlite => "'2024-11-01T00:00:00.000000Z'",
            crate::helpers::Backend::Postgres => "'2024-11-01T00:00:00Z'",
        };
        app.execute_sql(&format!(
            "UPDATE outbox SET sent_at = {two_years_ago} WHERE dedupe_key = 'receipt:1'"
        ));
        app.execute_sql(&format!(
            "UPDATE idempotency_keys SET created_at = {two_years_ago} WHERE key = 'k-A'"
        ));
        // Claims: an old notice's, a fresh one's, an old yearly calendar letter's (kept: tiny, and looked at for
        // two months) and an old report of a failed email (kept as long as the failed email: never).
        let (old, fresh) = match app.backend {
            crate::helpers::Backend::Sqlite => (
                "'2024-11-01T00:00:00.000000Z'",
                "'2099-01-01T00:00:00.000000Z'",
            ),
            crate::helpers::Backend::Postgres => {
                ("'2024-11-01T00:00:00Z'", "'2099-01-01T00:00:00Z'")
            }
        };
        app.execute_sql(&format!(
            "INSERT INTO job_claims (job, slot, claimed_at) VALUES ('reminder:1', 'a', {old}), \
             ('reminder:2', 'b', {fresh}), ('calendar:vn', '2025', {old}), ('failed-email', '7', {old})"
        ));
        let audit_before = app.audit().await.len();
        let prune = |dry_run: bool| {
            let pool = app.pool.clone();
            async move {
                tokio::task::spawn_blocking(move || {
                    hanbao::service::prune::run(
                        &mut pool.get().unwrap(),
                        Utc::now(),
                        chrono::Duration::days(400),
                        dry_run,
                    )
                    .unwrap()
                })
                .await
                .unwrap()
            }
        };
        // Two letters' filing links: one written 61 days ago (expired a month ago), one today; and a session
        // opened with the old one.
        let (old_link, fresh_link) = app
            .with_conn(|c| {
                let unit = hanbao::store::units::find_by_code(c, "A")
                    .unwrap()
                    .unwrap()
                    .id;
                let now = Utc::now();
                let old =
                    hanbao::service::tokens::filing_link(c, unit, now - chrono::Duration::days(61))
                        .unwrap();
                let id = hanbao::store::tokens::find_active_by_hash(
                    c,
                    &hanbao::service::tokens::digest_hex(&old),
                )
                .unwrap()
                .unwrap()
                .id;
                hanbao::service::sessions::open(
                    c,
                    hanbao::service::sessions::Signer::Token(id),
                    now,
                )
                .unwrap();
                (
                    old,
                    hanbao::service::tokens::filing_link(c, unit, now).unwrap(),
                )
            })
            .await;
        let preview = prune(true).await;
        assert_eq!(
            (
                preview.sent_emails,
                preview.claims,
                preview.idempotency_keys,
                preview.filing_links
            ),
            (1, 1, 1, 1)
        );
        let (_, outbox) = app.get("/api/v1/outbox").await;
        assert_eq!(
            outbox["items"].as_array().unwrap().len(),
            2,
            "a dry run removes nothing"
        );
        assert_eq!(prune(false).await, preview);
        assert_eq!(prune(false).await.sent_emails, 0, "nothing left to prune");
        // The old link is gone with its session; the fresh one still works.
        let digest = |t: &str| hanbao::service::tokens::digest_hex(t);
        let (old_digest, fresh_digest) = (digest(&old_link), digest(&fresh_link));
        let (old_row, fresh_row) = app
            .with_conn(move |c| {
                (
                    hanbao::store::tokens::find_active_by_hash(c, &old_digest).unwrap(),
                    hanbao::store::tokens::find_active_by_hash(c, &fresh_digest).unwrap(),
                )
            })
            .await;
        assert!(old_row.is_none() && fresh_row.is_some());
        let (_, outbox) = app.get("/api/v1/outbox").await;
        assert_eq!(outbox["items"][0]["dedupe_key"], "receipt:2");
        // The record stays: both submissions, their deadlines, every audit entry.
        assert_eq!(app.audit().await.len(), audit_before);
        let (_, a) = app.get("/api/v1/deadlines?unit=A&period=2022").await;
        assert_eq!(a["items"][0]["status"], "late");
    }
);

backend_test!(
    one_bad_address_costs_nobody_else_their_copy,
    |app| async move {
        let (_, future) = world(&app, None).await;
        for unit in ["A", "B"] {
            let (status, _) = app
                .post(
                    "/api/v1/submissions",
                    json!({"obligation_id": future, "period": "2030", "unit": unit, "payload": {}}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED);
        }
        // Input refuses such addresses; these are stored by hand or by an older version (issue 11 §1.2).
        app.execute_sql(
            r#"UPDATE outbox SET recipients = '{"to":[".a@example.vn","good@example.vn"],"cc":["a..b@example.vn","office@example.vn"]}' WHERE dedupe_key = 'receipt:1'"#,
        );
        app.execute_sql(
            r#"UPDATE outbox SET recipients = '{"to":["a@b..vn"],"cc":[]}' WHERE dedupe_key = 'receipt:2'"#,
        );
        let (transport, sent) = Transport::memory();
        let report = deliver_due(&app.pool, &transport, &sender(), Utc::now())
            .await
            .unwrap();
        assert_eq!(
            report,
            DeliveryReport {
                sent: 1,
                retried: 0,
                failed: 1,
                dropped_recipients: 2,
            }
        );
        {
            let sent = sent.lock().unwrap();
            assert_eq!(sent.len(), 1);
            assert_eq!(sent[0].to, ["good@example.vn"]);
            assert_eq!(sent[0].cc, ["office@example.vn"]);
        }
        let (_, done) = app.get("/api/v1/outbox?status=sent").await;
        let note = done["items"][0]["last_error"].as_str().unwrap();
        assert!(
            note.starts_with("sent without:")
                && note.contains("`.a@example.vn`")
                && note.contains("`a..b@example.vn`"),
            "{note}"
        );
        let (_, failed) = app.get("/api/v1/outbox?status=failed").await;
        assert_eq!(failed["items"][0]["dedupe_key"], "receipt:2");
        assert!(failed["items"][0]["last_error"]
            .as_str()
            .unwrap()
            .starts_with("no recipient can be addressed: `a@b..vn`"));
    }
);
