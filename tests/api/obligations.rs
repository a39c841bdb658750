//! Obligations materialise deadlines: the Hà Nội worked example, field errors, calendar edits, events and
//! succession, through the API on both backends.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::backend_test;
use crate::helpers::{pointers, TestApp};

fn yearly_before_1_december(starts_on: &str, ends_on: &str) -> Value {
    json!({"period_type": "yearly", "cutoff": "calendar",
           "due": {"rule": "fixed_date", "month": 12, "day": 1, "phrase": "before"},
           "shift": "next_working_day", "starts_on": starts_on, "ends_on": ends_on, "calendar": "vn"})
}

async fn plan(
    app: &TestApp,
    number: &str,
    coordinator: &str,
    starts_on: &str,
    ends_on: &str,
) -> i64 {
    let (status, plan) = app
        .post(
            "/api/v1/plans",
            json!({"number": number, "title": format!("Plan {number}"), "coordinator": coordinator,
                   "starts_on": starts_on, "ends_on": ends_on}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{plan}");
    plan["id"].as_i64().unwrap()
}

async fn obligation(app: &TestApp, plan_id: i64, body: Value) -> Value {
    let (status, obligation) = app
        .post(&format!("/api/v1/plans/{plan_id}/obligations"), body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{obligation}");
    obligation
}

/// (period, last_day, due_at, status) of a unit's deadlines, in due order.
async fn deadlines_of(app: &TestApp, query: &str) -> Vec<(String, String, String, String)> {
    let (status, page) = app.get(&format!("/api/v1/deadlines?{query}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let s = |k: &str| d[k].as_str().unwrap().to_owned();
            (s("period"), s("last_day"), s("due_at"), s("status"))
        })
        .collect()
}

fn row(
    period: &str,
    last_day: &str,
    due_at: &str,
    status: &str,
) -> (String, String, String, String) {
    (period.into(), last_day.into(), due_at.into(), status.into())
}

backend_test!(hanoi_269_worked_example, |app| async move {
    app.seed_hanoi().await;
    let plan_id = plan(
        &app,
        "269/KH-UBND",
        "HN-SLDTBXH",
        "2022-01-01",
        "2025-12-31",
    )
    .await;
    let created = obligation(
        &app,
        plan_id,
        json!({"title": "Báo cáo kết quả hàng năm", "recipient": "HN-SLDTBXH",
               "reporters": {"group": {"parent": "HN", "kinds": ["district"]}},
               "schedule": yearly_before_1_december("2022-01-01", "2025-12-31")}),
    )
    .await;
    // Two districts × 2022, 2023, 2024; the 2025 cycle (last day 1/12/2025) has no district and no department.
    assert_eq!(
        created["materialised"],
        json!({"created": 6, "rescheduled": 0, "removed": 0})
    );
    assert_eq!(created["deadlines"], 6);
    assert_eq!(
        created["window"],
        json!({"starts_on": "2022-01-01", "ends_on": "2025-12-31"})
    );
    assert_eq!(created["reminders"], json!(["P14D", "P3D", "P1D"]));
    assert_eq!(
        created["escalation"][1],
        json!({"after": "P3D", "to": ["heads"], "cc": ["recipient"]})
    );
    let warnings: Vec<(&str, &str)> = created["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["period"].as_str().unwrap(), w["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        warnings,
        [("2025", "no_reporter"), ("2025", "no_recipient")]
    );
    // The 2025 cycle has no deadline: the list says why instead of looking complete.
    let (_, cycle) = app
        .get(&format!(
            "/api/v1/deadlines?obligation={}&period=2025",
            created["id"]
        ))
        .await;
    assert_eq!(cycle["items"], json!([]));
    let why: Vec<&str> = cycle["warnings"]
        .as_array()
        .unwrap_or_else(|| panic!("{cycle}"))
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect();
    assert_eq!(why, ["no_reporter", "no_recipient"], "{cycle}");
    assert_eq!(
        created["last_day_rule"],
        "30/11, or the next working day when it is a day off (Civil Code art. 148)"
    );

    assert_eq!(
        deadlines_of(&app, "unit=HN-BADINH").await,
        [
            row("2022", "2022-11-30", "2022-12-01T00:00:00+07:00", "overdue"),
            row("2023", "2023-11-30", "2023-12-01T00:00:00+07:00", "overdue"),
            // 30/11/2024 is a Saturday: the last day moves to Monday 2/12.
            row("2024", "2024-12-02", "2024-12-03T00:00:00+07:00", "overdue"),
        ]
    );
    // The strict reading of "trước ngày 01 tháng 12": Friday 29/11/2024 instead of Monday 2/12.
    let mut strict_schedule = yearly_before_1_december("2024-01-01", "2024-12-31");
    strict_schedule["shift"] = json!("previous_working_day");
    let strict_plan = plan(
        &app,
        "1/KH-strict",
        "HN-SLDTBXH",
        "2024-01-01",
        "2024-12-31",
    )
    .await;
    let strict = obligation(
        &app,
        strict_plan,
        json!({"title": "2024, strict", "recipient": "HN-SLDTBXH", "reporters": {"units": ["HN-BADINH"]},
               "schedule": strict_schedule}),
    )
    .await;
    assert_eq!(
        strict["last_day_rule"],
        "30/11, or the previous working day when it is a day off"
    );
    assert_eq!(
        deadlines_of(&app, &format!("obligation={}", strict["id"])).await,
        [row(
            "2024",
            "2024-11-29",
            "2024-11-30T00:00:00+07:00",
            "overdue"
        )]
    );
    // A date in a filter is the start of that day in the office's zone (Asia/Ho_Chi_Minh), not 00:00 UTC
    // (07:00 here): "due before 3/12/2024" excludes the deadline due at 00:00 on 3/12.
    for (filter, periods) in [
        ("due_before=2024-12-03", vec!["2022", "2023"]),
        ("due_before=2024-12-04", vec!["2022", "2023", "2024"]),
        ("due_after=2024-12-03", vec!["2024"]),
        (
            "due_before=2024-12-03T00:00:00%2B07:00",
            vec!["2022", "2023"],
        ),
        (
            "due_before=2024-12-03T00:00:00Z",
            vec!["2022", "2023", "2024"],
        ),
    ] {
        let query = format!("obligation={}&unit=HN-BADINH&{filter}", created["id"]);
        let found: Vec<String> = deadlines_of(&app, &query)
            .await
            .into_iter()
            .map(|d| d.0)
            .collect();
        assert_eq!(found, periods, "{filter}");
    }

    // 2025 with a unit that still exists: 30/11/2025 is a Sunday → Monday 1/12.
    app.create_unit(json!({"code": "HN-PHUONG-BADINH", "name": "UBND phường Ba Đình", "kind": "commune", "parent": "HN"}))
        .await;
    let single = obligation(
        &app,
        plan_id,
        json!({"title": "2025 only", "recipient": "HN", "reporters": {"units": ["HN-PHUONG-BADINH"]},
               "schedule": yearly_before_1_december("2025-01-01", "2025-12-31")}),
    )
    .await;
    let id = single["id"].as_i64().unwrap();
    assert_eq!(
        deadlines_of(&app, &format!("obligation={id}")).await,
        [row(
            "2025",
            "2025-12-01",
            "2025-12-02T00:00:00+07:00",
            "overdue"
        )]
    );
    let (status, read) = app.get(&format!("/api/v1/obligations/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read["deadlines"], 1);
    assert!(read.get("materialised").is_none());
    let (_, listed) = app
        .get(&format!("/api/v1/plans/{plan_id}/obligations"))
        .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
});

backend_test!(obligation_field_errors_store_nothing, |app| async move {
    app.seed_hanoi().await;
    let plan_id = plan(
        &app,
        "269/KH-UBND",
        "HN-SLDTBXH",
        "2022-01-01",
        "2025-12-31",
    )
    .await;
    let good = json!({"title": "x", "recipient": "HN-SLDTBXH", "reporters": {"units": ["HN-BADINH"]},
                      "schedule": yearly_before_1_december("2022-01-01", "2025-12-31")});
    let with = |pointer: &str, value: Value| {
        let mut body = good.clone();
        *body.pointer_mut(pointer).unwrap() = value;
        body
    };
    let mut february_31 = with("/schedule/due/month", json!(2));
    *february_31.pointer_mut("/schedule/due/day").unwrap() = json!(31);
    let cases = [
        (february_31, "/schedule/due/day"),
        (
            with("/schedule/due/rule", json!("sometimes")),
            "/schedule/due",
        ),
        (
            with("/schedule/starts_on", json!("2021-01-01")),
            "/schedule/starts_on",
        ),
        (
            with("/schedule/calendar", json!("mars")),
            "/schedule/calendar",
        ),
        (
            with("/reporters", json!({"units": ["HN-NOWHERE"]})),
            "/reporters/units/0",
        ),
        (
            with(
                "/reporters",
                json!({"group": {"parent": "NOPE", "kinds": ["district"]}}),
            ),
            "/reporters/group/parent",
        ),
        (with("/recipient", json!("NOPE")), "/recipient"),
        (with("/title", json!(" ")), "/title"),
    ];
    let before = app.snapshot().await;
    for (body, pointer) in &cases {
        let (status, problem) = app
            .post(
                &format!("/api/v1/plans/{plan_id}/obligations"),
                body.clone(),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert!(
            pointers(&problem).iter().any(|p| p.starts_with(pointer)),
            "{pointer}: {problem}"
        );
    }
    let mut extra = good.clone();
    extra["reminders"] = json!(["P3D", "three days"]);
    extra["escalation"] = json!([{"after": "P1D", "to": []}]);
    extra["form"] = json!({"type": "nonsense"});
    let (status, problem) = app
        .post(&format!("/api/v1/plans/{plan_id}/obligations"), extra)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut found = pointers(&problem);
    found.sort();
    assert_eq!(found, ["/escalation/0/to", "/form", "/reminders/1"]);
    let mut zero = good.clone();
    zero["reminders"] = json!(["P0D"]);
    let (status, problem) = app
        .post(&format!("/api/v1/plans/{plan_id}/obligations"), zero)
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a reminder at due_at could never be sent in time"
    );
    assert_eq!(pointers(&problem), ["/reminders/0"]);
    let (status, _) = app
        .post("/api/v1/plans/999/obligations", good.clone())
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(app.snapshot().await, before);
    assert_eq!(
        deadlines_of(&app, "").await.len(),
        0,
        "no deadline was stored"
    );
});

backend_test!(calendar_edits_move_open_deadlines_only, |app| async move {
    app.create_unit(json!({"code": "SO", "name": "Sở", "kind": "department"}))
        .await;
    for code in ["A", "B"] {
        app.create_unit(json!({"code": code, "name": code, "kind": "district", "parent": "SO"}))
            .await;
    }
    let plan_id = plan(&app, "1/KH", "SO", "2030-01-01", "2030-03-31").await;
    // "within 10 days after the month": January 2030 → 10/2 (a Sunday → Monday 11/2).
    let created = obligation(
        &app,
        plan_id,
        json!({"title": "Monthly", "recipient": "SO", "reporters": {"units": ["A", "B"]},
               "schedule": {"period_type": "monthly", "due": {"rule": "after_period_end", "days": 10}}}),
    )
    .await;
    assert_eq!(created["materialised"]["created"], 6);
    let january = |rows: Vec<(String, String, String, String)>| -> Vec<String> {
        rows.into_iter()
            .filter(|r| r.0 == "203001")
            .map(|r| r.1)
            .collect()
    };
    assert_eq!(
        january(deadlines_of(&app, "period=203001").await),
        ["2030-02-11", "2030-02-11"]
    );

    // B has already reported January (as the submissions feature will record it): B's deadline must not move.
    app.execute_sql(
        "UPDATE deadlines SET state = 'submitted', submitted_at = '2025-01-01T01:00:00.000000Z' \
         WHERE period = '203001' AND unit_id = (SELECT id FROM units WHERE code = 'B')",
    );
    let (status, edit) = app
        .post(
            "/api/v1/calendars/vn/days",
            json!({"date": "2030-02-11", "kind": "holiday", "name": "Nghỉ bù"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{edit}");
    assert_eq!(edit["deadlines_rescheduled"], 1);
    assert_eq!(
        deadlines_of(&app, "unit=A&period=203001").await[0].1,
        "2030-02-12"
    );
    assert_eq!(
        deadlines_of(&app, "unit=B&period=203001").await[0].1,
        "2030-02-11"
    );
    assert_eq!(
        deadlines_of(&app, "unit=B&period=203001").await[0].3,
        "submitted"
    );

    let (status, days) = app.get("/api/v1/calendars/vn/days?year=2030").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        days["years"],
        json!([{"year": 2030, "calendar_complete": false}])
    );
    assert_eq!(
        days["days"],
        json!([{"date": "2030-02-11", "kind": "holiday", "name": "Nghỉ bù"}])
    );

    let (status, removed) = app
        .call(Method::DELETE, "/api/v1/calendars/vn/days/2030-02-11", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{removed}");
    assert_eq!(removed["deadlines_rescheduled"], 1);
    assert_eq!(
        deadlines_of(&app, "unit=A&period=203001").await[0].1,
        "2030-02-11"
    );

    // A holiday on a Sunday is not a calendar fact anybody publishes; a làm-bù day must be a weekend day.
    let (status, problem) = app
        .post(
            "/api/v1/calendars/vn/days",
            json!({"date": "2030-02-10", "kind": "holiday"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(pointers(&problem), ["/kind"]);
    let (status, _) = app
        .call(Method::DELETE, "/api/v1/calendars/vn/days/2030-02-10", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.get("/api/v1/calendars/xx/days").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (_, published) = app.get("/api/v1/calendars/vn/days?year=2025").await;
    assert_eq!(
        published["years"],
        json!([{"year": 2025, "calendar_complete": true}])
    );
    assert!(published["days"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["date"] == "2025-04-26" && d["kind"] == "working_day"));
});

backend_test!(events_create_event_deadlines, |app| async move {
    app.create_unit(json!({"code": "BH", "name": "Phòng VH-TT Biên Hòa", "kind": "office"}))
        .await;
    for code in ["BH-TANHIEP", "BH-TRANGDAI"] {
        app.create_unit(json!({"code": code, "name": code, "kind": "commune", "parent": "BH"}))
            .await;
    }
    let plan_id = plan(&app, "PVHTT", "BH", "2025-01-01", "2025-12-31").await;
    let created = obligation(
        &app,
        plan_id,
        json!({"title": "Báo cáo sau đợt tuyên truyền", "recipient": "BH",
               "reporters": {"group": {"parent": "BH", "kinds": ["commune"]}},
               "schedule": {"period_type": "event", "due": {"rule": "after_event", "days": 5, "working_days": true}}}),
    )
    .await;
    assert_eq!(
        created["materialised"]["created"], 0,
        "no campaign yet, no deadline"
    );
    let obligation_id = created["id"].as_i64().unwrap();
    // A campaign ending Friday 25/4/2025: working days 26/4 (làm bù Saturday), 28/4, 29/4, then 30/4–2/5 are
    // holidays, then 5/5 and 6/5 → the 5th working day is Tuesday 6 May.
    let (status, event) = app
        .post("/api/v1/events", json!({"obligation_id": obligation_id, "name": "Đợt tuyên truyền tháng 4", "ended_on": "2025-04-25"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{event}");
    assert_eq!(event["deadlines"], 2);
    let period = event["period"].as_str().unwrap().to_owned();
    assert_eq!(period, format!("E{}", event["id"]));
    let rows = deadlines_of(&app, &format!("period={period}")).await;
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter()
            .all(|r| r.1 == "2025-05-06" && r.2 == "2025-05-07T00:00:00+07:00"),
        "{rows:?}"
    );

    // An event for only one ward.
    let (_, only) = app
        .post("/api/v1/events", json!({"obligation_id": obligation_id, "name": "Đợt 2", "ended_on": "2025-06-02", "units": ["BH-TANHIEP"]}))
        .await;
    assert_eq!(only["deadlines"], 1);
    let (_, events) = app
        .get(&format!("/api/v1/events?obligation={obligation_id}"))
        .await;
    assert_eq!(events["items"].as_array().unwrap().len(), 2);

    let yearly_plan = obligation(
        &app,
        plan_id,
        json!({"title": "Yearly", "recipient": "BH", "reporters": {"units": ["BH-TANHIEP"]},
               "schedule": yearly_before_1_december("2025-01-01", "2025-12-31")}),
    )
    .await;
    let (status, problem) = app
        .post(
            "/api/v1/events",
            json!({"obligation_id": yearly_plan["id"], "name": "x", "ended_on": "2025-04-25"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(pointers(&problem), ["/obligation_id"]);
});

backend_test!(succession_moves_open_deadlines, |app| async move {
    app.create_unit(json!({"code": "P", "name": "Province", "kind": "province"}))
        .await;
    for code in ["A", "B", "C"] {
        app.create_unit(json!({"code": code, "name": code, "kind": "district", "parent": "P"}))
            .await;
    }
    let plan_id = plan(&app, "2/KH", "P", "2022-01-01", "2025-12-31").await;
    obligation(
        &app,
        plan_id,
        json!({"title": "Yearly", "recipient": "P", "reporters": {"units": ["A"]},
               "schedule": yearly_before_1_december("2022-01-01", "2025-12-31")}),
    )
    .await;
    assert_eq!(deadlines_of(&app, "unit=A").await.len(), 4);

    // A splits into B and C on 1 July 2024: the 2024 and 2025 deadlines (last days 2/12/2024, 1/12/2025) go
    // to both; 2022 and 2023 stay with A.
    let (status, result) = app
        .post(
            "/api/v1/units/A/succession",
            json!({"successors": ["B", "C"], "on": "2024-07-01", "kind": "split"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result["deadlines_moved"], 2);
    assert_eq!(result["deadlines_created"], 4);
    assert_eq!(result["unit"]["valid_until"], "2024-06-30");
    let periods = |rows: Vec<(String, String, String, String)>| {
        rows.into_iter().map(|r| r.0).collect::<Vec<_>>()
    };
    assert_eq!(
        periods(deadlines_of(&app, "unit=A").await),
        ["2022", "2023"]
    );
    assert_eq!(
        periods(deadlines_of(&app, "unit=B").await),
        ["2024", "2025"]
    );
    assert_eq!(
        periods(deadlines_of(&app, "unit=C").await),
        ["2024", "2025"]
    );

    let audit = app.audit().await;
    let succession = audit
        .iter()
        .find(|e| e["action"] == "unit.succession")
        .expect("audited");
    assert_eq!(succession["entity_id"], "A");
    assert_eq!(succession["after"]["deadlines_moved"], 2);

    let (status, problem) = app
        .post(
            "/api/v1/units/B/succession",
            json!({"successors": ["B"], "on": "2025-01-01", "kind": "rename"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(pointers(&problem), ["/successors/0"]);
    let (status, problem) = app
        .post(
            "/api/v1/units/B/succession",
            json!({"successors": ["A", "C"], "on": "2025-01-01", "kind": "rename"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(pointers(&problem), ["/successors"]);
});

backend_test!(deadline_filters_statuses_and_pages, |app| async move {
    app.create_unit(json!({"code": "S", "name": "Sở", "kind": "department"}))
        .await;
    app.create_unit(json!({"code": "D", "name": "District", "kind": "district", "parent": "S"}))
        .await;
    let past = plan(&app, "past", "S", "2022-01-01", "2023-12-31").await;
    let future = plan(&app, "future", "S", "2030-01-01", "2031-12-31").await;
    for plan_id in [past, future] {
        obligation(
            &app,
            plan_id,
            json!({"title": "Yearly", "recipient": "S", "reporters": {"units": ["D"]},
                   "schedule": {"period_type": "yearly", "due": {"rule": "fixed_date", "month": 12, "day": 1, "phrase": "before"}}}),
        )
        .await;
    }
    let periods = |rows: Vec<(String, String, String, String)>| {
        rows.into_iter().map(|r| r.0).collect::<Vec<_>>()
    };
    assert_eq!(
        periods(deadlines_of(&app, "").await),
        ["2022", "2023", "2030", "2031"]
    );
    assert_eq!(
        periods(deadlines_of(&app, "status=overdue").await),
        ["2022", "2023"]
    );
    assert_eq!(
        periods(deadlines_of(&app, "status=open").await),
        ["2030", "2031"]
    );
    assert!(deadlines_of(&app, "status=submitted").await.is_empty());
    assert_eq!(
        periods(deadlines_of(&app, "due_after=2023-01-01&due_before=2031-01-01").await),
        ["2023", "2030"]
    );
    assert_eq!(
        periods(deadlines_of(&app, "status=open&due_before=2031-01-01T00:00:00Z").await),
        ["2030"]
    );

    let (_, first) = app.get("/api/v1/deadlines?limit=3").await;
    assert_eq!(first["items"].as_array().unwrap().len(), 3);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let (_, rest) = app
        .get(&format!("/api/v1/deadlines?limit=3&cursor={cursor}"))
        .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert_eq!(rest["items"][0]["period"], "2031");
    assert!(rest.get("next_cursor").is_none());

    let one = &first["items"][0];
    let (status, read) = app.get(&format!("/api/v1/deadlines/{}", one["id"])).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&read, one);

    let (status, problem) = app
        .get("/api/v1/deadlines?status=late-ish&due_before=soon&unit=NOPE&cursor=x")
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut found = pointers(&problem);
    found.sort();
    assert_eq!(found, ["/cursor", "/due_before", "/status", "/unit"]);
});

backend_test!(unit_changes_move_open_deadlines_only, |app| async move {
    app.create_unit(json!({"code": "P", "name": "Province", "kind": "province"}))
        .await;
    app.create_unit(json!({"code": "D1", "name": "D1", "kind": "district", "parent": "P"}))
        .await;
    let plan_id = plan(&app, "3/KH", "P", "2024-01-01", "2031-12-31").await;
    obligation(
        &app,
        plan_id,
        json!({"title": "Yearly", "recipient": "P", "reporters": {"group": {"parent": "P", "kinds": ["district"]}},
               "schedule": yearly_before_1_december("2024-01-01", "2031-12-31")}),
    )
    .await;
    // A district created later joins the group: like every reporter, it has a deadline for each period of the
    // window in which it exists (no valid_from: all of them).
    app.create_unit(json!({"code": "D2", "name": "D2", "kind": "district", "parent": "P"}))
        .await;
    let periods = |rows: Vec<(String, String, String, String)>| {
        rows.into_iter().map(|r| r.0).collect::<Vec<_>>()
    };
    assert_eq!(periods(deadlines_of(&app, "unit=D2").await).len(), 8);
    app.create_unit(json!({"code": "D3", "name": "D3", "kind": "district", "parent": "P", "valid_from": "2029-01-01"})).await;
    assert_eq!(
        periods(deadlines_of(&app, "unit=D3").await),
        ["2029", "2030", "2031"]
    );

    // D1 moves to New York: open deadlines end at New York's midnight, overdue ones keep their moment.
    let (status, _) = app
        .patch("/api/v1/units/D1", json!({"time_zone": "America/New_York"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let rows = deadlines_of(&app, "unit=D1").await;
    let by_period = |p: &str| rows.iter().find(|r| r.0 == p).unwrap().2.clone();
    // Overdue: the same instant (midnight in Hà Nội), now shown in the unit's new offset.
    assert_eq!(
        by_period("2024"),
        "2024-12-02T12:00:00-05:00",
        "overdue: unchanged"
    );
    assert_eq!(
        by_period("2030"),
        "2030-12-03T00:00:00-05:00",
        "open: re-zoned"
    );

    // A holiday on a past last day moves nothing; a holiday on a future one moves the open deadlines.
    let (_, past) = app
        .post(
            "/api/v1/calendars/vn/days",
            json!({"date": "2025-12-01", "kind": "holiday"}),
        )
        .await;
    assert_eq!(past["deadlines_rescheduled"], 0);
    let (_, future) = app
        .post(
            "/api/v1/calendars/vn/days",
            json!({"date": "2031-12-01", "kind": "holiday"}),
        )
        .await;
    assert_eq!(future["deadlines_rescheduled"], 3, "D1, D2 and D3's 2031");

    // Dates far outside any plan are refused with a pointer, not stored.
    let (status, problem) = app
        .post(
            "/api/v1/calendars/vn/days",
            json!({"date": "9999-12-31", "kind": "holiday"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(pointers(&problem), ["/date"]);
    let (status, problem) = app
        .patch("/api/v1/units/D2", json!({"valid_until": "3100-01-01"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(pointers(&problem), ["/valid_until"]);
});

backend_test!(plan_period_changes_move_open_deadlines, |app| async move {
    app.create_unit(json!({"code": "S", "name": "Sở", "kind": "department"}))
        .await;
    app.create_unit(json!({"code": "D", "name": "D", "kind": "district", "parent": "S"}))
        .await;
    let plan_id = plan(&app, "4/KH", "S", "2030-01-01", "2032-12-31").await;
    let follows = obligation(
        &app,
        plan_id,
        json!({"title": "Follows the plan", "recipient": "S", "reporters": {"units": ["D"]},
               "schedule": {"period_type": "yearly", "due": {"rule": "fixed_date", "month": 12, "day": 1, "phrase": "before"}}}),
    )
    .await;
    assert_eq!(follows["deadlines"], 3);
    let (status, _) = app
        .patch(
            &format!("/api/v1/plans/{plan_id}"),
            json!({"ends_on": "2031-12-31"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, read) = app
        .get(&format!("/api/v1/obligations/{}", follows["id"]))
        .await;
    assert_eq!(
        read["deadlines"], 2,
        "the 2032 deadline went with the plan's last year"
    );
    assert_eq!(read["window"]["ends_on"], "2031-12-31");

    obligation(
        &app,
        plan_id,
        json!({"title": "Own window", "recipient": "S", "reporters": {"units": ["D"]},
               "schedule": yearly_before_1_december("2031-01-01", "2031-12-31")}),
    )
    .await;
    let (status, problem) = app
        .patch(
            &format!("/api/v1/plans/{plan_id}"),
            json!({"ends_on": "2030-12-31"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(pointers(&problem), ["/ends_on"]);
    let (_, unchanged) = app.get(&format!("/api/v1/plans/{plan_id}")).await;
    assert_eq!(
        unchanged["ends_on"], "2031-12-31",
        "the refused change was rolled back"
    );
});

backend_test!(
    calendar_files_add_new_years_and_keep_stored_ones,
    |app| async move {
        app.create_unit(json!({"code": "SO", "name": "Sở", "kind": "department"}))
            .await;
        app.create_unit(json!({"code": "A", "name": "A", "kind": "district", "parent": "SO"}))
            .await;
        let plan_id = plan(&app, "1/KH", "SO", "2030-01-01", "2030-03-31").await;
        obligation(
            &app,
            plan_id,
            json!({"title": "Monthly", "recipient": "SO", "reporters": {"units": ["A"]},
                   "schedule": {"period_type": "monthly", "due": {"rule": "after_period_end", "days": 10}}}),
        )
        .await;
        assert_eq!(
            deadlines_of(&app, "unit=A&period=203001").await[0].1,
            "2030-02-11"
        );

        // HANBAO_CONFIG_DIR/calendars: the shipped vn.toml with 2030 published (11/2 off) and a change to 2023,
        // plus a calendar of its own.
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("calendars")).unwrap();
        let shipped = include_str!("../../config/calendars/vn.toml");
        let edited = shipped
            .replacen(
                "off = [\"2023-01-02\",",
                "off = [\"2023-03-01\", \"2023-01-02\",",
                1,
            )
            // 2026, stored as incomplete: its missing day arrives and it becomes complete.
            .replacen(
                "complete = false\noff = [\"2026-01-01\",",
                "complete = true\noff = [\"2026-09-01\", \"2026-01-01\",",
                1,
            );
        assert_eq!(
            edited.matches("2023-03-01").count() + edited.matches("2026-09-01").count(),
            2
        );
        // An administrator removed a 2026 day through the API: the file must not bring it back.
        let (status, _) = app
            .call(Method::DELETE, "/api/v1/calendars/vn/days/2026-04-27", None)
            .await;
        assert_eq!(status, StatusCode::OK);
        std::fs::write(
            dir.path().join("calendars/vn.toml"),
            format!("{edited}\n[years.2030]\ncomplete = true\noff = [\"2030-02-11\"]\nwork = []\n"),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("calendars/office.toml"),
            "[years.2030]\ncomplete = false\noff = [\"2030-01-02\"]\nwork = []\n",
        )
        .unwrap();
        let (pool, path) = (app.pool.clone(), dir.path().to_path_buf());
        tokio::task::spawn_blocking(move || {
            hanbao::service::calendars::ensure_builtin(
                &mut pool.get().unwrap(),
                chrono::Utc::now(),
                Some(&path),
            )
        })
        .await
        .unwrap()
        .unwrap();

        let (_, year) = app.get("/api/v1/calendars/vn/days?year=2030").await;
        assert_eq!(
            year["years"],
            json!([{"year": 2030, "calendar_complete": true}])
        );
        assert_eq!(
            deadlines_of(&app, "unit=A&period=203001").await[0].1,
            "2030-02-12",
            "open deadlines follow the new year's holidays"
        );
        let (_, stored) = app.get("/api/v1/calendars/vn/days?year=2023").await;
        assert!(
            !stored["days"].to_string().contains("2023-03-01"),
            "a stored year is not changed by a file: {stored}"
        );
        let (_, y2026) = app.get("/api/v1/calendars/vn/days?year=2026").await;
        assert_eq!(
            y2026["years"],
            json!([{"year": 2026, "calendar_complete": true}])
        );
        let listed = y2026["days"].to_string();
        assert!(listed.contains("2026-09-01"), "{listed}");
        assert!(
            !listed.contains("2026-04-27"),
            "an API removal stays removed: {listed}"
        );
        let (status, office) = app.get("/api/v1/calendars/office/days?year=2030").await;
        assert_eq!(status, StatusCode::OK, "{office}");
        assert_eq!(office["days"][0]["date"], "2030-01-02");
    }
);

backend_test!(calendar_years_2021_2022_names_and_gaps, |app| async move {
    // The calendar API keeps the names of the calendar data, for every year 2021-2026.
    let (_, year) = app.get("/api/v1/calendars/vn/days?year=2022").await;
    assert_eq!(
        year["years"],
        json!([{"year": 2022, "calendar_complete": true}])
    );
    let tet = year["days"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["date"] == "2022-01-31")
        .unwrap_or_else(|| panic!("{year}"));
    assert_eq!(tet["name"], "Tết Nguyên đán");

    // Huế's district plans are due "by 31/1" (đến hết ngày): in 2022 that is the first day of Tết, so the last
    // day moves to the first working day after it, Monday 7/2.
    app.create_unit(json!({"code": "TTH", "name": "UBND tỉnh Thừa Thiên Huế", "kind": "province"}))
        .await;
    app.create_unit(json!({"code": "TTH-HUONGTRA", "name": "UBND thị xã Hương Trà", "kind": "district", "parent": "TTH"}))
        .await;
    let plan_id = plan(&app, "440/KH-UBND", "TTH", "2021-01-01", "2027-12-31").await;
    let created = obligation(&app, plan_id, json!({
        "title": "Kế hoạch truyền thông năm", "recipient": "TTH", "reporters": {"units": ["TTH-HUONGTRA"]},
        "schedule": {"period_type": "yearly", "due": {"rule": "fixed_date", "month": 1, "day": 31, "phrase": "no_later_than"}}
    })).await;
    let days: Vec<(String, String)> = deadlines_of(&app, "unit=TTH-HUONGTRA")
        .await
        .into_iter()
        .map(|(period, last_day, _, _)| (period, last_day))
        .collect();
    assert_eq!(days[1], ("2022".to_owned(), "2022-02-07".to_owned()));
    assert_eq!(
        days[0],
        ("2021".to_owned(), "2021-02-01".to_owned()),
        "31/1/2021 is a Sunday"
    );

    // 2026 is incomplete in the data and 2027 absent: the obligation says its last days there may move.
    let incomplete: Vec<&str> = created["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["code"] == "calendar_incomplete")
        .map(|w| w["period"].as_str().unwrap())
        .collect();
    assert_eq!(incomplete, ["2026", "2027"], "{created}");
    let (_, read) = app
        .get(&format!("/api/v1/obligations/{}", created["id"]))
        .await;
    assert_eq!(read["warnings"], created["warnings"]);
});
