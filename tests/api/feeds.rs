//! Calendar feeds (`…/deadlines.ics`) with feed tokens: parsed back as a calendar app would, each event's date
//! the deadline's last day, SEQUENCE bumped by a move, statuses marked; feed tokens read feeds and nothing else
//! — on both backends.

use chrono::{Duration, NaiveDate, Utc};
use icalendar::{Calendar, Component, DatePerhapsTime, EventStatus};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::backend_test;
use crate::compliance::office;
use crate::helpers::{pointers, send, TestApp};
use crate::submissions::{as_token, token};

async fn feed_token(app: &TestApp, role: &str, unit: Option<&str>) -> (i64, String) {
    let (status, issued) = app
        .post(
            "/api/v1/tokens",
            json!({"role": role, "unit": unit, "name": "Lịch của văn thư", "kind": "feed"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    assert_eq!(issued["kind"], "feed");
    (
        issued["id"].as_i64().unwrap(),
        issued["token"].as_str().unwrap().to_owned(),
    )
}

/// The body of a feed fetched with `?token=` as a calendar app does, and its status and content type.
async fn fetch(app: &TestApp, path: &str) -> (StatusCode, String, String) {
    let response = app.client.get(app.url(path)).send().await.unwrap();
    let status = response.status();
    let kind = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, kind, response.text().await.unwrap())
}

/// Every deadline of a listing, all pages, as (id, JSON).
async fn deadlines(app: &TestApp, query: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/deadlines?{query}&cursor={c}"),
            None => format!("/api/v1/deadlines?{query}"),
        };
        let (status, page) = app.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return items,
        }
    }
}

fn date(event: &icalendar::Event, which: &str) -> NaiveDate {
    let value = if which == "start" {
        event.get_start()
    } else {
        event.get_end()
    };
    match value {
        Some(DatePerhapsTime::Date(d)) => d,
        other => panic!("{which} is not a date: {other:?}"),
    }
}

fn id_of(event: &icalendar::Event) -> i64 {
    let uid = event.get_uid().unwrap();
    let (id, host) = uid
        .strip_prefix("deadline-")
        .and_then(|rest| rest.split_once('@'))
        .unwrap_or_else(|| panic!("UID {uid}"));
    assert!(!host.is_empty());
    id.parse().unwrap()
}

backend_test!(a_units_calendar_is_its_deadlines, |app| async move {
    let obligation = office(&app).await;
    let all = deadlines(&app, "unit=A").await;
    // The first of A's deadlines still open gets a later last day; B's of the same period is waived.
    let open = all
        .iter()
        .find(|d| d["status"] == "open")
        .expect("an open deadline")
        .clone();
    let period = open["period"].as_str().unwrap().to_owned();
    let last_day: NaiveDate = open["last_day"].as_str().unwrap().parse().unwrap();
    let later = last_day + Duration::days(10);
    let (status, _) = app
        .post(
            &format!("/api/v1/deadlines/{}/extension", open["id"]),
            json!({"last_day": later, "reason": "Bão lũ"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let b = deadlines(&app, &format!("unit=B&period={period}")).await;
    let (status, _) = app
        .post(
            &format!("/api/v1/deadlines/{}/waiver", b[0]["id"]),
            json!({"reason": "Đơn vị sáp nhập"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let (_, rules) = app.get(&format!("/api/v1/obligations/{obligation}")).await;
    let reminders = rules["reminders"].as_array().unwrap().len();
    assert!(reminders > 0, "{rules}");
    let (_, secret) = feed_token(&app, "reporter", Some("A")).await;
    let (status, kind, text) = fetch(
        &app,
        &format!("/api/v1/units/A/deadlines.ics?token={secret}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(kind.starts_with("text/calendar"), "{kind}");
    assert!(
        text.contains("X-WR-CALNAME:Hạn báo cáo — UBND quận A"),
        "{text}"
    );
    let calendar: Calendar = text.parse().expect("the feed parses as iCalendar");
    let events: Vec<&icalendar::Event> = calendar.events().collect();

    // The same deadlines as the API lists from a year back (the feed's window), in the same order.
    let from = (Utc::now() - Duration::days(366)).to_rfc3339();
    let expected = deadlines(&app, &format!("unit=A&due_after={}", urlencoding(&from))).await;
    assert!(!expected.is_empty());
    let ids: Vec<i64> = events.iter().map(|e| id_of(e)).collect();
    let expected_ids: Vec<i64> = expected.iter().map(|d| d["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, expected_ids);
    for (event, deadline) in events.iter().zip(&expected) {
        let last_day: NaiveDate = deadline["last_day"].as_str().unwrap().parse().unwrap();
        assert_eq!(date(event, "start"), last_day, "{deadline}");
        assert_eq!(date(event, "end"), last_day.succ_opt().unwrap());
        let summary = event.get_summary().unwrap();
        assert!(summary.contains("Báo cáo kết quả"), "{summary}");
        let alarms: Vec<_> = event
            .components()
            .iter()
            .filter(|c| c.component_kind() == "VALARM")
            .collect();
        let moved = deadline["id"] == open["id"];
        assert_eq!(event.get_sequence(), Some(u32::from(moved)), "{deadline}");
        match deadline["status"].as_str().unwrap() {
            "open" => {
                // One alarm per reminder of the obligation, each at the absolute moment its email goes out.
                assert_eq!(alarms.len(), reminders, "{text}");
                for alarm in alarms {
                    let trigger = alarm.property_value("TRIGGER").unwrap();
                    assert!(trigger.ends_with('Z'), "{trigger}");
                }
                if moved {
                    assert!(summary.starts_with("[Được gia hạn] "), "{summary}");
                } else {
                    assert!(!summary.starts_with('['), "{summary}");
                }
            }
            "overdue" => {
                assert!(summary.starts_with("[Quá hạn] "), "{summary}");
                assert!(alarms.is_empty());
            }
            other => panic!("unexpected status {other}"),
        }
        assert_eq!(event.get_status(), Some(EventStatus::Confirmed));
    }
    let moved = events
        .iter()
        .find(|e| id_of(e) == open["id"].as_i64().unwrap())
        .unwrap();
    assert_eq!(date(moved, "start"), later);
    let description = moved.get_description().unwrap();
    assert!(
        description.contains("Kế hoạch số 269/KH-UBND"),
        "{description}"
    );

    // The office's calendar of the obligation: every unit's, each event named by its unit; B's waived one is
    // cancelled. In English on request.
    let (_, viewer) = feed_token(&app, "viewer", None).await;
    let (status, _, text) = fetch(
        &app,
        &format!("/api/v1/obligations/{obligation}/deadlines.ics?token={viewer}&lang=en"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(
        text.contains("X-WR-CALNAME:Reporting deadlines — Báo cáo kết quả"),
        "{text}"
    );
    let calendar: Calendar = text.parse().unwrap();
    let waived = calendar
        .events()
        .find(|e| id_of(e) == b[0]["id"].as_i64().unwrap())
        .expect("B's waived deadline");
    assert_eq!(waived.get_status(), Some(EventStatus::Cancelled));
    assert!(waived
        .get_summary()
        .unwrap()
        .starts_with("[Exempt] UBND quận B: "));
    let units: std::collections::BTreeSet<&str> = calendar
        .events()
        .map(|e| {
            let summary = e.get_summary().unwrap();
            let summary = summary.split("] ").last().unwrap();
            summary.split(':').next().unwrap()
        })
        .collect();
    assert!(
        units.contains("UBND quận A") && units.contains("UBND quận B"),
        "{units:?}"
    );
});

/// `from` as a query value.
fn urlencoding(from: &str) -> String {
    from.replace('+', "%2B").replace(':', "%3A")
}

backend_test!(
    a_feed_token_reads_feeds_and_nothing_else,
    |app| async move {
        let obligation = office(&app).await;
        let (id, secret) = feed_token(&app, "reporter", Some("A")).await;
        let before = app.snapshot().await;

        // On any other route, in the header: 403, nothing changed.
        let (status, problem) =
            as_token(&app, &secret, Method::GET, "/api/v1/deadlines", None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("calendar feeds"),
            "{problem}"
        );
        let (status, _) = as_token(
            &app,
            &secret,
            Method::POST,
            "/api/v1/submissions",
            Some(json!({"obligation_id": obligation, "period": "2026", "payload": {}})),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // In the query of another route: an unknown parameter there.
        let (status, problem) = send(
            app.client
                .get(app.url(&format!("/api/v1/deadlines?token={secret}"))),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
        assert_eq!(pointers(&problem), ["/token"]);
        assert_eq!(app.snapshot().await, before);

        // Its own unit only.
        let (status, _, text) = fetch(
            &app,
            &format!("/api/v1/units/B/deadlines.ics?token={secret}"),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{text}");
        assert!(
            text.contains("problem") || text.contains("reporter"),
            "{text}"
        );
        let (status, _, _) = fetch(
            &app,
            &format!("/api/v1/units/NOPE/deadlines.ics?token={secret}"),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // An API token may read a feed from the header, never from the address (it would end up in histories).
        let api = token(&app, "reporter", Some("A")).await;
        let (status, _) = as_token(
            &app,
            &api,
            Method::GET,
            "/api/v1/units/A/deadlines.ics",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let (status, problem) = send(
            app.client
                .get(app.url(&format!("/api/v1/units/A/deadlines.ics?token={api}"))),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(pointers(&problem), ["/token"]);

        // No token, a wrong one, a typo in a parameter.
        let (status, _, _) = fetch(&app, "/api/v1/units/A/deadlines.ics").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, _, _) = fetch(&app, "/api/v1/units/A/deadlines.ics?token=hb_wrong").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, problem) = send(app.client.get(app.url(&format!(
            "/api/v1/units/A/deadlines.ics?token={secret}&langg=en"
        ))))
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
        assert_eq!(pointers(&problem), ["/langg"]);

        // A filing link cannot be made through the API; revoking a feed token ends its feed at once.
        let (status, problem) = app
            .post(
                "/api/v1/tokens",
                json!({"role": "reporter", "unit": "A", "name": "x", "kind": "filing_link"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(pointers(&problem), ["/kind"]);
        let (status, _) = app
            .call(Method::DELETE, &format!("/api/v1/tokens/{id}"), None)
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, _, _) = fetch(
            &app,
            &format!("/api/v1/units/A/deadlines.ics?token={secret}"),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
);
