//! The notice tick walks a deadline through its life: reminders before, escalations after, each once.

use chrono::{DateTime, Utc};
use hanbao::domain::notify::OfficeHours;
use hanbao::service::notices::{tick, TickReport};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::backend_test;
use crate::helpers::TestApp;

fn hours() -> OfficeHours {
    OfficeHours {
        start: "08:00:00".parse().unwrap(),
        end: "17:00:00".parse().unwrap(),
    }
}

async fn tick_at(app: &TestApp, at: &str, dry_run: bool) -> TickReport {
    let now: DateTime<Utc> = DateTime::parse_from_rfc3339(at)
        .unwrap()
        .with_timezone(&Utc);
    let pool = app.pool.clone();
    tokio::task::spawn_blocking(move || tick(&mut pool.get().unwrap(), now, hours(), dry_run))
        .await
        .unwrap()
        .unwrap()
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
