//! The notice tick walks a deadline through its life: reminders before, escalations after, each once.

use chrono::{DateTime, Utc};
use hanbao::domain::notify::{DigestCron, OfficeHours, Offset, Timing};
use hanbao::service::tick::{tick, TickReport};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::backend_test;
use crate::helpers::TestApp;

/// Office hours 08:00–17:00; digests on 1 January only, so that they stay out of the reminder tests.
fn timing() -> Timing {
    timing_with_digests("0 8 1 1 *")
}

fn timing_with_digests(cron: &str) -> Timing {
    Timing {
        hours: OfficeHours {
            start: "08:00:00".parse().unwrap(),
            end: "17:00:00".parse().unwrap(),
        },
        digest: DigestCron::parse(cron).unwrap(),
        max_catch_up: Offset::parse("P3D").unwrap(),
        admins: Vec::new(),
        zone: chrono_tz::Asia::Ho_Chi_Minh,
    }
}

fn instant(at: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(at)
        .unwrap()
        .with_timezone(&Utc)
}

async fn tick_with(app: &TestApp, timing: Timing, at: &str, dry_run: bool) -> TickReport {
    let (now, pool) = (instant(at), app.pool.clone());
    tokio::task::spawn_blocking(move || tick(&mut pool.get().unwrap(), now, &timing, dry_run))
        .await
        .unwrap()
        .unwrap()
}

async fn tick_at(app: &TestApp, at: &str, dry_run: bool) -> TickReport {
    tick_with(app, timing(), at, dry_run).await
}

/// (unit, kind, step) of each notice, sorted.
fn sent(report: &TickReport) -> Vec<(String, String, String)> {
    let mut rows: Vec<_> = report
        .notices
        .iter()
        .map(|n| (n.unit.clone(), n.kind.to_owned(), n.step.clone()))
        .collect();
    rows.sort();
    rows
}

fn row(unit: &str, kind: &str, step: &str) -> (String, String, String) {
    (unit.into(), kind.into(), step.into())
}

async fn outbox(app: &TestApp) -> Vec<Value> {
    app.get("/api/v1/outbox?limit=1000").await.1["items"]
        .as_array()
        .unwrap()
        .clone()
}

async fn setup(app: &TestApp) -> i64 {
    app.create_unit(json!({"code": "S", "name": "Sở", "kind": "department",
                           "contacts": {"reporters": ["vanthu@so.gov.vn"], "heads": ["giamdoc@so.gov.vn"]}})).await;
    for code in ["A", "B"] {
        let lower = code.to_lowercase();
        app.create_unit(json!({"code": code, "name": format!("UBND {code}"), "kind": "district", "parent": "S",
            "contacts": {"reporters": [format!("baocao@{lower}.gov.vn")], "heads": [format!("chutich@{lower}.gov.vn")]}})).await;
    }
    let (_, plan) = app.post("/api/v1/plans", json!({"number": "5/KH", "title": "Plan", "coordinator": "S",
                                                   "starts_on": "2030-01-01", "ends_on": "2030-12-31"})).await;
    // Last day: 30/11/2030 is a Saturday → Monday 2/12; due 2030-12-03T00:00+07:00.
    let (status, obligation) = app.post(&format!("/api/v1/plans/{}/obligations", plan["id"]), json!({
        "title": "Báo cáo năm", "recipient": "S", "reporters": {"units": ["A", "B"]},
        "schedule": {"period_type": "yearly", "due": {"rule": "fixed_date", "month": 12, "day": 1, "phrase": "before"}}
    })).await;
    assert_eq!(status, StatusCode::CREATED, "{obligation}");
    obligation["id"].as_i64().unwrap()
}

backend_test!(a_deadline_through_its_life, |app| async move {
    let obligation = setup(&app).await;
    // Deadlines are looked at once when made, then only when their next moment comes.
    let first = tick_at(&app, "2030-11-19T07:59:00+07:00", false).await;
    assert_eq!(first.deadlines_looked_at, 2);
    assert!(
        first.notices.is_empty(),
        "nothing before 08:00 on the reminder's day"
    );

    // A dry run shows what would go and changes nothing.
    let preview = tick_at(&app, "2030-11-19T08:00:00+07:00", true).await;
    assert_eq!(
        sent(&preview),
        [row("A", "reminder", "P14D"), row("B", "reminder", "P14D")]
    );
    assert!(outbox(&app).await.is_empty());
    let real = tick_at(&app, "2030-11-19T08:00:00+07:00", false).await;
    assert_eq!(sent(&real), sent(&preview));
    assert_eq!(
        sent(&tick_at(&app, "2030-11-19T08:05:00+07:00", false).await),
        [],
        "repeated ticks send nothing new"
    );
    let mails = outbox(&app).await;
    assert_eq!(mails.len(), 2);
    assert!(mails.iter().any(|m| m["to"] == json!(["baocao@a.gov.vn"])
        && m["subject"]
            .as_str()
            .unwrap()
            .contains("02 tháng 12 năm 2030")));

    // B reports; only A is reminded again (P3D: Saturday 30/11 → Friday 29/11 at 08:00).
    let (status, _) = app
        .post(
            "/api/v1/submissions",
            json!({"obligation_id": obligation, "period": "2030", "unit": "B", "payload": {}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        sent(&tick_at(&app, "2030-11-29T09:00:00+07:00", false).await),
        [row("A", "reminder", "P3D")]
    );

    // C joins late (after the P14D and P3D moments, as after downtime): it gets only the latest due reminder.
    app.create_unit(
        json!({"code": "C", "name": "UBND C", "kind": "district", "parent": "S",
        "contacts": {"reporters": ["baocao@c.gov.vn"], "heads": ["chutich@c.gov.vn"]}}),
    )
    .await;
    let (status, _) = app
        .patch(
            &format!("/api/v1/obligations/{obligation}"),
            json!({"reporters": {"units": ["A", "B", "C"]}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        sent(&tick_at(&app, "2030-12-02T10:00:00+07:00", false).await),
        [row("A", "reminder", "P1D"), row("C", "reminder", "P1D")]
    );

    // Overdue: the ladder, each step once, to the right people.
    assert_eq!(
        sent(&tick_at(&app, "2030-12-03T07:00:00+07:00", false).await),
        [],
        "escalations wait for office hours"
    );
    assert_eq!(
        sent(&tick_at(&app, "2030-12-03T08:00:00+07:00", false).await),
        [row("A", "escalation", "1"), row("C", "escalation", "1")]
    );
    let second = tick_at(&app, "2030-12-06T08:00:00+07:00", false).await;
    assert_eq!(
        sent(&second),
        [row("A", "escalation", "2"), row("C", "escalation", "2")]
    );
    let to_a = second.notices.iter().find(|n| n.unit == "A").unwrap();
    assert_eq!(to_a.to, ["chutich@a.gov.vn"]);
    assert_eq!(to_a.cc, ["vanthu@so.gov.vn", "giamdoc@so.gov.vn"]);
    let third = tick_at(&app, "2030-12-10T08:00:00+07:00", false).await;
    assert_eq!(
        sent(&third),
        [row("A", "escalation", "3"), row("C", "escalation", "3")]
    );
    assert_eq!(
        third.notices[0].to,
        ["vanthu@so.gov.vn", "giamdoc@so.gov.vn"]
    );
    let after = tick_at(&app, "2031-01-10T08:00:00+07:00", false).await;
    assert_eq!(
        (after.deadlines_looked_at, after.notices.len()),
        (0, 0),
        "nothing left to look at"
    );

    let keys: Vec<String> = outbox(&app)
        .await
        .iter()
        .map(|m| m["dedupe_key"].as_str().unwrap().to_owned())
        .collect();
    let mut unique = keys.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), keys.len(), "one email per reason");
});

backend_test!(racing_ticks_send_each_email_once, |app| async move {
    setup(&app).await;
    tick_at(&app, "2030-11-01T08:00:00+07:00", false).await;
    let (one, two) = tokio::join!(
        tick_at(&app, "2030-11-19T08:00:00+07:00", false),
        tick_at(&app, "2030-11-19T08:00:00+07:00", false)
    );
    assert_eq!(
        one.notices.len() + two.notices.len(),
        2,
        "{:?} {:?}",
        sent(&one),
        sent(&two)
    );
    assert_eq!(outbox(&app).await.len(), 2);
});

backend_test!(catch_up_waits_for_office_hours, |app| async move {
    setup(&app).await;
    // Back after a long downtime on Sunday evening 8/12/2030: the overdue deadlines wait for Monday morning.
    let sunday = tick_at(&app, "2030-12-08T20:00:00+07:00", false).await;
    assert_eq!(sunday.deadlines_looked_at, 2);
    assert!(sunday.notices.is_empty(), "{:?}", sent(&sunday));
    assert!(tick_at(&app, "2030-12-09T07:59:00+07:00", false)
        .await
        .notices
        .is_empty());
    // Monday 08:00: only the latest due step (P3D, since P7D is Tuesday 10/12), once per unit.
    let monday = tick_at(&app, "2030-12-09T08:00:00+07:00", false).await;
    assert_eq!(
        sent(&monday),
        [row("A", "escalation", "2"), row("B", "escalation", "2")]
    );
});

/// A digest sent by a tick: (recipient unit, to, subject, text body).
type Digest = (String, Vec<String>, String, String);

/// Ticks with Monday-08:00 digests; returns the digests it sent.
async fn digest_tick(app: &TestApp, at: &str) -> Vec<Digest> {
    let report = tick_with(app, timing_with_digests("0 8 * * MON"), at, false).await;
    let pool = app.pool.clone();
    let rows = tokio::task::spawn_blocking(move || {
        hanbao::store::outbox::emails(&mut pool.get().unwrap(), None, None, 1000).unwrap()
    })
    .await
    .unwrap();
    report
        .notices
        .iter()
        .filter(|n| n.kind == "digest")
        .map(|n| {
            let row = rows
                .iter()
                .find(|r| r.subject == n.subject)
                .expect("queued");
            (
                n.unit.clone(),
                n.to.clone(),
                n.subject.clone(),
                row.text_body.clone(),
            )
        })
        .collect()
}

/// Moves a submission's arrival into the travelled-to time (the server stamps the real clock).
fn received_at(app: &TestApp, at: &str) {
    let t = instant(at);
    let value = match app.backend {
        crate::helpers::Backend::Sqlite => t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        crate::helpers::Backend::Postgres => t.to_rfc3339(),
    };
    app.execute_sql(&format!("UPDATE submissions SET received_at = '{value}'"));
}

backend_test!(the_weekly_digest_goes_once_per_slot, |app| async move {
    let obligation = setup(&app).await;
    // Sunday, then Monday before 08:00: last Monday's slot is more than a day old, nothing goes.
    assert!(digest_tick(&app, "2030-11-17T09:00:00+07:00")
        .await
        .is_empty());
    assert!(digest_tick(&app, "2030-11-18T07:59:00+07:00")
        .await
        .is_empty());
    // Monday 18/11 08:00: the deadlines (due 3/12) are more than 14 days away and nothing came in: nothing to say.
    assert!(digest_tick(&app, "2030-11-18T08:00:00+07:00")
        .await
        .is_empty());

    // B reports on Wednesday 20/11.
    let (status, _) = app
        .post(
            "/api/v1/submissions",
            json!({"obligation_id": obligation, "period": "2030", "unit": "B", "payload": {}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    received_at(&app, "2030-11-20T10:00:00+07:00");

    // Monday 25/11 08:00: A is due within 14 days, B's report arrived since the last digest.
    let monday = digest_tick(&app, "2030-11-25T08:00:00+07:00").await;
    assert_eq!(monday.len(), 1, "{monday:?}");
    let (unit, to, subject, text) = &monday[0];
    assert_eq!(unit, "S");
    assert_eq!(to, &["vanthu@so.gov.vn", "giamdoc@so.gov.vn"]);
    assert_eq!(
        subject,
        "Tổng hợp báo cáo ngày 25 tháng 11 năm 2030: 0 quá hạn, 1 sắp đến hạn, 1 đã nhận"
    );
    let section = |title: &str| -> String {
        let start = text
            .find(title)
            .unwrap_or_else(|| panic!("{title} in {text}"));
        text[start..].split("\n\n").next().unwrap().to_owned()
    };
    assert!(section("ĐẾN HẠN")
        .contains("- UBND A: Báo cáo năm, năm 2030 — hạn hết ngày 02 tháng 12 năm 2030"));
    assert!(!section("ĐẾN HẠN").contains("UBND B"), "B has reported");
    assert!(section("ĐÃ NHẬN").contains(
        "- UBND B: Báo cáo năm, năm 2030 — lần 1, nhận lúc 10 giờ 00 ngày 20 tháng 11 năm 2030"
    ));
    assert!(section("QUÁ HẠN").contains("Không có báo cáo nào quá hạn"));
    assert!(
        digest_tick(&app, "2030-11-25T08:05:00+07:00")
            .await
            .is_empty(),
        "repeated ticks send nothing new"
    );

    // Two instances racing on the next slot: one digest.
    let digests = timing_with_digests("0 8 * * MON");
    let (one, two) = tokio::join!(
        tick_with(&app, digests.clone(), "2030-12-02T08:00:00+07:00", false),
        tick_with(&app, digests, "2030-12-02T08:00:00+07:00", false)
    );
    let count = |r: &TickReport| r.notices.iter().filter(|n| n.kind == "digest").count();
    assert_eq!(count(&one) + count(&two), 1);

    // Monday 9/12: A is overdue; nothing new came in since the last digest.
    let overdue = digest_tick(&app, "2030-12-09T08:00:00+07:00").await;
    assert_eq!(overdue.len(), 1);
    assert!(
        overdue[0]
            .2
            .contains(": 1 quá hạn, 0 sắp đến hạn, 0 đã nhận"),
        "{}",
        overdue[0].2
    );
    assert!(overdue[0].3.contains(
        "- UBND A: Báo cáo năm, năm 2030 — hạn hết ngày 02 tháng 12 năm 2030, đã quá hạn 7 ngày"
    ));

    // Down over Monday 16/12, back on Tuesday morning: the missed slot goes out late, once.
    let late = digest_tick(&app, "2030-12-17T07:30:00+07:00").await;
    assert_eq!(late.len(), 1);
    assert!(late[0].2.contains("ngày 16 tháng 12 năm 2030"));
    // Down from before Monday 23/12 until Wednesday: that slot is skipped; the next Monday's comes.
    assert!(digest_tick(&app, "2030-12-25T09:00:00+07:00")
        .await
        .is_empty());
    assert_eq!(
        digest_tick(&app, "2030-12-30T08:00:00+07:00").await.len(),
        1
    );

    let keys: Vec<Value> = outbox(&app)
        .await
        .into_iter()
        .map(|m| m["dedupe_key"].clone())
        .filter(|k| k.as_str().unwrap().starts_with("digest:"))
        .collect();
    assert_eq!(keys.len(), 5, "{keys:?}");
});

backend_test!(
    one_broken_deadline_does_not_stop_the_others,
    |app| async move {
        setup(&app).await;
        // A's stored zone has become unreadable (as a bad manual edit would leave it).
        app.execute_sql("UPDATE units SET time_zone = 'Mars/Olympus_Mons' WHERE code = 'A'");
        let report = tick_at(&app, "2030-11-19T08:00:00+07:00", false).await;
        assert_eq!(sent(&report), [row("B", "reminder", "P14D")]);
        assert_eq!(report.skipped, 1);
        // Repaired, A is looked at again an hour later and gets its reminder then.
        app.execute_sql("UPDATE units SET time_zone = 'Asia/Ho_Chi_Minh' WHERE code = 'A'");
        assert!(tick_at(&app, "2030-11-19T08:30:00+07:00", false)
            .await
            .notices
            .is_empty());
        let report = tick_at(&app, "2030-11-19T09:00:00+07:00", false).await;
        assert_eq!(sent(&report), [row("A", "reminder", "P14D")]);
        assert_eq!(report.skipped, 0);
    }
);

backend_test!(
    history_stale_steps_and_closed_units_get_no_email,
    |app| async move {
        setup(&app).await;
        // History: a 2025 cycle recorded now (its deadline was due on 2/12/2025, before the obligation was made).
        let (_, plan) = app
            .post(
                "/api/v1/plans",
                json!({"number": "6/KH", "title": "Plan 2025", "coordinator": "S",
                   "starts_on": "2025-01-01", "ends_on": "2025-12-31"}),
            )
            .await;
        let (status, old) = app.post(&format!("/api/v1/plans/{}/obligations", plan["id"]), json!({
        "title": "Báo cáo năm 2025", "recipient": "S", "reporters": {"units": ["A", "B"]},
        "schedule": {"period_type": "yearly", "due": {"rule": "fixed_date", "month": 12, "day": 1, "phrase": "before"}}
    })).await;
        assert_eq!(status, StatusCode::CREATED, "{old}");
        let switched_on = tick_at(&app, "2026-12-02T08:30:00+07:00", false).await;
        assert_eq!(
            (switched_on.deadlines_looked_at, sent(&switched_on)),
            (0, vec![]),
            "a deadline past due when it was recorded gets no escalation"
        );
        let (_, listed) = app
            .get(&format!("/api/v1/deadlines?obligation={}", old["id"]))
            .await;
        assert!(
            listed["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|d| d["status"] == "overdue"),
            "history still shows: {listed}"
        );

        // The 2030 cycle is live: its first step goes out.
        assert_eq!(
            sent(&tick_at(&app, "2030-12-03T08:00:00+07:00", false).await),
            [row("A", "escalation", "1"), row("B", "escalation", "1")]
        );
        // B closes on 5/12 (its successor is not hanbao's to guess here): nothing more is written to it.
        let (status, _) = app
            .patch("/api/v1/units/B", json!({"valid_until": "2030-12-05"}))
            .await;
        assert_eq!(status, StatusCode::OK);
        let second = tick_at(&app, "2030-12-06T08:00:00+07:00", false).await;
        assert_eq!(sent(&second), [row("A", "escalation", "2")]);
        assert_eq!(second.closed_units, 1);
        // Downtime from 6/12 to 20/12: step 3 (10/12) is ten days old, more than max_catch_up (P3D): not sent.
        let late = tick_at(&app, "2030-12-20T08:00:00+07:00", false).await;
        assert_eq!(sent(&late), []);
        assert_eq!(outbox(&app).await.len(), 3);
    }
);

backend_test!(
    operators_hear_once_a_year_that_next_years_holidays_are_missing,
    |app| async move {
        let mut timing = timing();
        timing.admins = vec!["quantri@so.example.vn".into()];
        let calendar = |r: &TickReport| {
            r.notices
                .iter()
                .filter(|n| n.kind == "calendar")
                .map(|n| (n.step.clone(), n.period.clone(), n.to.clone()))
                .collect::<Vec<_>>()
        };
        // Before November nothing; from 1 November 2026 once, for 2027 (not in the shipped calendar).
        let october = tick_with(&app, timing.clone(), "2026-10-30T08:00:00+07:00", false).await;
        assert!(calendar(&october).is_empty());
        let november = tick_with(&app, timing.clone(), "2026-11-02T08:00:00+07:00", false).await;
        assert_eq!(
            calendar(&november),
            [(
                "vn".to_owned(),
                "2027".to_owned(),
                vec!["quantri@so.example.vn".to_owned()]
            )]
        );
        let again = tick_with(&app, timing.clone(), "2026-11-03T08:00:00+07:00", false).await;
        assert!(calendar(&again).is_empty(), "once a year");
        // Nobody to tell: nothing is decided (and nothing claimed for next time).
        let mut silent = timing.clone();
        silent.admins.clear();
        assert!(
            calendar(&tick_with(&app, silent, "2027-11-02T08:00:00+07:00", false).await).is_empty()
        );
        let mails = outbox(&app).await;
        let letter = mails
            .iter()
            .find(|m| m["dedupe_key"] == "calendar:vn:2027")
            .unwrap();
        assert_eq!(
            letter["subject"],
            "Lịch làm việc năm 2027 chưa có đủ ngày nghỉ lễ, Tết"
        );
    }
);

backend_test!(
    operators_hear_once_a_day_of_the_emails_that_failed,
    |app| async move {
        let mut timing = timing();
        timing.admins = vec!["quantri@so.example.vn".into()];
        let failed = |key: &str| {
            let at = match app.backend {
                crate::helpers::Backend::Sqlite => "'2026-11-30T01:00:00.000000Z'",
                crate::helpers::Backend::Postgres => "'2026-11-30T01:00:00Z'",
            };
            app.execute_sql(&format!(
                r#"INSERT INTO outbox (dedupe_key, message_id, recipients, subject, text_body, html_body, status,
                    attempts, next_attempt_at, created_at, last_error)
                   VALUES ('{key}', '{key}', '{{"to":["vanthu@a.gov.vn"],"cc":["so@so.gov.vn"]}}', 'Nhắc hạn {key}',
                    'x', 'x', 'failed', 1, {at}, {at}, '550 5.1.1 mailbox unavailable')"#
            ));
        };
        let letters = |r: &TickReport| {
            r.notices
                .iter()
                .filter(|n| n.kind == "failed_emails")
                .map(|n| (n.period.clone(), n.step.clone()))
                .collect::<Vec<_>>()
        };
        // Nothing failed: no letter, nothing claimed.
        let quiet = tick_with(&app, timing.clone(), "2026-12-01T09:00:00+07:00", false).await;
        assert_eq!(letters(&quiet), []);
        failed("r1");
        failed("r2");
        // Before the day's office hours nothing; from 08:00 one letter listing both; once a day.
        let early = tick_with(&app, timing.clone(), "2026-12-01T07:59:00+07:00", false).await;
        assert_eq!(letters(&early), []);
        let first = tick_with(&app, timing.clone(), "2026-12-01T08:00:00+07:00", false).await;
        assert_eq!(letters(&first), [("2026-12-01".to_owned(), "2".to_owned())]);
        failed("r3");
        let again = tick_with(&app, timing.clone(), "2026-12-01T15:00:00+07:00", false).await;
        assert_eq!(letters(&again), [], "once a day");
        // The next day only the email that failed since.
        let next = tick_with(&app, timing.clone(), "2026-12-02T08:00:00+07:00", false).await;
        assert_eq!(letters(&next), [("2026-12-02".to_owned(), "1".to_owned())]);
        let later = tick_with(&app, timing.clone(), "2026-12-03T08:00:00+07:00", false).await;
        assert_eq!(letters(&later), [], "each failed email is reported once");
        let mails = outbox(&app).await;
        let letter = mails
            .iter()
            .find(|m| m["dedupe_key"] == "failed-emails:2026-12-01")
            .unwrap();
        assert_eq!(letter["subject"], "2 thư của hệ thống không gửi được");
        assert_eq!(letter["to"], json!(["quantri@so.example.vn"]));
    }
);
