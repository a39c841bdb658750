//! `GET /api/v1/compliance`: cells, rates and totals for a hand-counted case, as of two instants, with scopes,
//! filters, CSV, and bad input — on both backends.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::backend_test;
use crate::helpers::{pointers, TestApp};
use crate::submissions::{as_token, token};

/// Sở S coordinates a yearly report due "before 1 December" (last day 30 November) from 2023 to 2030, from:
/// A and B (there throughout), C (closed at the end of 2023, no successor), D (opened 1 June 2024). Returns the
/// obligation id.
async fn office(app: &TestApp) -> i64 {
    app.create_unit(
        json!({"code": "S", "name": "Sở Lao động", "kind": "department",
                           "contacts": {"reporters": ["so@s.gov.vn"], "heads": []}}),
    )
    .await;
    for (code, name, extra) in [
        ("A", "UBND quận A", json!({})),
        ("B", "UBND quận B", json!({})),
        ("C", "UBND huyện C", json!({"valid_until": "2023-12-31"})),
        ("D", "UBND quận D", json!({"valid_from": "2024-06-01"})),
    ] {
        let mut body = json!({"code": code, "name": name, "kind": "district", "parent": "S",
            "contacts": {"reporters": [format!("baocao@{}.gov.vn", code.to_lowercase())], "heads": []}});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        app.create_unit(body).await;
    }
    let (status, plan) = app
        .post(
            "/api/v1/plans",
            json!({"number": "269/KH-UBND", "title": "Kế hoạch", "coordinator": "S",
                   "starts_on": "2023-01-01", "ends_on": "2030-12-31"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{plan}");
    let (status, obligation) = app
        .post(
            &format!("/api/v1/plans/{}/obligations", plan["id"]),
            json!({"title": "Báo cáo kết quả", "recipient": "S",
                   "reporters": {"group": {"parent": "S", "kinds": ["district"]}},
                   "schedule": {"period_type": "yearly",
                                "due": {"rule": "fixed_date", "month": 12, "day": 1, "phrase": "before"}}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{obligation}");
    obligation["id"].as_i64().unwrap()
}

/// The office enters a paper report of `unit` for `period` that arrived on `day`; returns the receipt.
async fn paper(app: &TestApp, obligation: i64, unit: &str, period: &str, day: &str) -> Value {
    let (status, receipt) = app
        .post(
            "/api/v1/submissions",
            json!({"obligation_id": obligation, "period": period, "unit": unit, "payload": {},
                   "received_on": day}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{receipt}");
    receipt
}

async fn deadline_id(app: &TestApp, unit: &str, period: &str) -> i64 {
    let (_, page) = app
        .get(&format!("/api/v1/deadlines?unit={unit}&period={period}"))
        .await;
    page["items"][0]["id"].as_i64().unwrap()
}

/// (unit, period) → status word of every cell of an answer.
fn statuses(answer: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for row in answer["items"].as_array().unwrap() {
        for cell in row["cells"].as_array().unwrap() {
            out.push((
                row["unit"].as_str().unwrap().to_owned(),
                cell["period"].as_str().unwrap().to_owned(),
                cell["status"].as_str().unwrap().to_owned(),
            ));
        }
    }
    out
}

fn cells(expected: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    expected
        .iter()
        .map(|(u, p, s)| (u.to_string(), p.to_string(), s.to_string()))
        .collect()
}

/// The totals of one period of an answer.
fn period_totals(answer: &Value, period: &str) -> Value {
    answer["totals"]["per_period"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["period"] == period)
        .cloned()
        .unwrap_or_else(|| panic!("no totals for {period}: {answer}"))
}

backend_test!(a_hand_counted_office_as_of_two_instants, |app| async move {
    let obligation = office(&app).await;
    // 2023: A on time (arrived 20/11), C on time then returned for revision today, B nothing.
    paper(&app, obligation, "A", "2023", "2023-11-20").await;
    let c = paper(&app, obligation, "C", "2023", "2023-11-29").await;
    let (status, _) = app
        .post(
            &format!("/api/v1/submissions/{}/review", c["id"]),
            json!({"decision": "return", "comment": "Thiếu số liệu"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // 2024: A late (arrived 5/12: 30/11 was a Saturday, so the last day moved to Monday 2/12 and the report is
    // three days late), B waived today, D nothing.
    paper(&app, obligation, "A", "2024", "2024-12-05").await;
    let b2024 = deadline_id(&app, "B", "2024").await;
    let (status, _) = app
        .post(
            &format!("/api/v1/deadlines/{b2024}/waiver"),
            json!({"reason": "Sáp nhập"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // 2030: B's last day extended today, so it is `extended` until it is due.
    let b2030 = deadline_id(&app, "B", "2030").await;
    let (status, _) = app
        .post(
            &format!("/api/v1/deadlines/{b2030}/extension"),
            json!({"last_day": "2030-12-20", "reason": "Thiên tai"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // As the office stood on 1 June 2025: the review, the waiver and the extension made today had not
    // happened yet; 2025 was not yet due.
    let then = "as_of=2025-06-01T00:00:00%2B07:00&from_period=2023&to_period=2025";
    let (status, past) = app
        .get(&format!(
            "/api/v1/compliance?obligation={obligation}&{then}"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{past}");
    assert_eq!(past["periods"], json!(["2023", "2024", "2025"]));
    assert_eq!(
        statuses(&past),
        cells(&[
            ("A", "2023", "on_time"),
            ("A", "2024", "late"),
            ("A", "2025", "open"),
            ("B", "2023", "overdue"),
            ("B", "2024", "overdue"),
            ("B", "2025", "open"),
            ("C", "2023", "on_time"),
            ("C", "2024", "not_expected"),
            ("C", "2025", "not_expected"),
            ("D", "2023", "not_expected"),
            ("D", "2024", "overdue"),
            ("D", "2025", "open"),
        ])
    );
    // Hand-counted: 2023 expects A, B, C (3), received A and C, both on time; 2024 expects A, B, D (3),
    // received A, late.
    let y2023 = period_totals(&past, "2023");
    assert_eq!(
        (&y2023["expected"], &y2023["received"], &y2023["on_time"]),
        (&json!(3), &json!(2), &json!(2))
    );
    let y2024 = period_totals(&past, "2024");
    assert_eq!(
        (
            &y2024["expected"],
            &y2024["received"],
            &y2024["on_time"],
            &y2024["overdue"]
        ),
        (&json!(3), &json!(1), &json!(0), &json!(2))
    );
    let overall = &past["totals"]["overall"];
    assert_eq!(overall["expected"], 9, "{overall}");
    assert_eq!(overall["received"], 3);
    assert_eq!(overall["on_time"], 2);
    assert!((overall["reporting_rate"].as_f64().unwrap() - 3.0 / 9.0).abs() < 1e-9);
    assert!((overall["on_time_rate"].as_f64().unwrap() - 2.0 / 9.0).abs() < 1e-9);
    // A's row: its own totals, and the late cell's detail.
    let a = &past["items"][0];
    assert_eq!(
        (&a["unit"], &a["unit_name"]),
        (&json!("A"), &json!("UBND quận A"))
    );
    assert_eq!(a["totals"]["expected"], 3);
    assert_eq!(a["totals"]["received"], 2);
    let late = &a["cells"][1];
    assert_eq!(late["last_day"], "2024-12-02");
    assert_eq!(late["days_late"], 3);
    assert_eq!(late["received_at"], "2024-12-05T00:00:00+07:00");
    assert_eq!(late["version"], json!(null), "entered after 1 June 2025");
    // C's 2023 report was not yet returned then, nor B's 2024 deadline waived.
    assert_eq!(past["items"][2]["unit_valid_until"], "2023-12-31");

    // Now: C's report is returned (no longer received), B's 2024 waived (no longer expected), and the
    // 2025 deadlines have passed unfiled.
    let now_range = "from_period=2023&to_period=2025";
    let (_, today) = app
        .get(&format!(
            "/api/v1/compliance?obligation={obligation}&{now_range}"
        ))
        .await;
    assert_eq!(
        statuses(&today),
        cells(&[
            ("A", "2023", "on_time"),
            ("A", "2024", "late"),
            ("A", "2025", "overdue"),
            ("B", "2023", "overdue"),
            ("B", "2024", "waived"),
            ("B", "2025", "overdue"),
            ("C", "2023", "returned"),
            ("C", "2024", "not_expected"),
            ("C", "2025", "not_expected"),
            ("D", "2023", "not_expected"),
            ("D", "2024", "overdue"),
            ("D", "2025", "overdue"),
        ])
    );
    let y2023 = period_totals(&today, "2023");
    assert_eq!(
        (&y2023["expected"], &y2023["received"], &y2023["returned"]),
        (&json!(3), &json!(1), &json!(1))
    );
    let y2024 = period_totals(&today, "2024");
    assert_eq!(
        (&y2024["expected"], &y2024["waived"]),
        (&json!(2), &json!(1)),
        "a waived deadline leaves expected"
    );
    // No rate can pass 100 %: every received report is one of the expected deadline rows.
    for p in today["totals"]["per_period"].as_array().unwrap() {
        assert!(p["received"].as_i64() <= p["expected"].as_i64(), "{p}");
    }

    // The extension: `extended` now, judged against the new last day.
    let (_, extended) = app
        .get(&format!(
            "/api/v1/compliance?obligation={obligation}&period=2030&unit=B"
        ))
        .await;
    let cell = &extended["items"][0]["cells"][0];
    assert_eq!(cell["status"], "extended", "{extended}");
    assert_eq!(cell["last_day"], "2030-12-20");
    assert_eq!(cell["extended"], true);
    // Before the extension was granted (a moment ago is enough: it was decided now) the old last day held.
    let (_, before) = app
        .get(&format!(
            "/api/v1/compliance?obligation={obligation}&period=2030&unit=B&as_of=2026-01-01"
        ))
        .await;
    let cell = &before["items"][0]["cells"][0];
    assert_eq!(cell["status"], "open", "{before}");
    // 30/11/2030 is a Saturday: the last day had moved to Monday 2/12.
    assert_eq!(cell["last_day"], "2030-12-02");
});

backend_test!(filters_pages_and_scopes, |app| async move {
    let obligation = office(&app).await;
    paper(&app, obligation, "A", "2023", "2023-11-20").await;
    paper(&app, obligation, "C", "2023", "2023-11-20").await;
    paper(&app, obligation, "A", "2024", "2024-12-05").await;
    let range = "from_period=2023&to_period=2024&as_of=2025-06-01";
    // Status: the rows with an overdue cell (B for both years, D for 2024), all their cells shown.
    let (_, overdue) = app
        .get(&format!("/api/v1/compliance?{range}&status=overdue"))
        .await;
    let units: Vec<&str> = overdue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["unit"].as_str().unwrap())
        .collect();
    assert_eq!(units, ["B", "D"]);
    // Pages of one row, following the cursor, give every row once.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, page) = app
            .get(&format!("/api/v1/compliance?{range}&limit=1{cursor}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.push(page["items"][0]["unit"].as_str().unwrap().to_owned());
        assert_eq!(
            page["totals"]["overall"]["expected"], 6,
            "totals are the whole selection's on every page"
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(seen, ["A", "B", "C", "D"]);
    // Parent and recipient: S and everything under it; unit alone.
    let (_, under) = app
        .get(&format!("/api/v1/compliance?{range}&parent=S&recipient=S"))
        .await;
    assert_eq!(under["items"].as_array().unwrap().len(), 4);
    let (_, one) = app.get(&format!("/api/v1/compliance?{range}&unit=D")).await;
    assert_eq!(one["items"].as_array().unwrap().len(), 1);
    assert_eq!(one["totals"]["overall"]["expected"], 1);

    // A reporter sees its own unit only, and is refused another's.
    let reporter = token(&app, "reporter", Some("A")).await;
    let (status, own) = as_token(
        &app,
        &reporter,
        Method::GET,
        &format!("/api/v1/compliance?{range}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(statuses(&own).len(), 2);
    assert!(statuses(&own).iter().all(|(u, _, _)| u == "A"));
    let (status, _) = as_token(
        &app,
        &reporter,
        Method::GET,
        &format!("/api/v1/compliance?{range}&unit=B"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A coordinator of another office sees nothing of S's plan.
    app.create_unit(json!({"code": "X", "name": "Sở khác", "kind": "department"}))
        .await;
    let other = token(&app, "coordinator", Some("X")).await;
    let (_, nothing) = as_token(
        &app,
        &other,
        Method::GET,
        &format!("/api/v1/compliance?{range}"),
        None,
    )
    .await;
    assert_eq!(nothing["items"], json!([]));
    assert_eq!(nothing["totals"]["overall"]["expected"], 0);
    assert_eq!(nothing["totals"]["overall"]["reporting_rate"], json!(null));
});

backend_test!(bad_questions_are_field_errors, |app| async move {
    office(&app).await;
    for (query, pointer) in [
        ("period=2024x", "/period"),
        ("from_period=2025&to_period=2023", "/to_period"),
        ("from_period=2024&to_period=202412", "/to_period"),
        ("from_period=once", "/from_period"),
        ("unit=NOPE", "/unit"),
        ("parent=NOPE", "/parent"),
        ("recipient=NOPE", "/recipient"),
        ("obligation=999", "/obligation"),
        ("plan=999", "/plan"),
        ("status=lost", "/status"),
        ("as_of=yesterday", "/as_of"),
        ("cursor=zzz", "/cursor"),
        ("limit=0", "/limit"),
        ("format=pdf", "/format"),
        ("period=2024&from_period=2023", "/period"),
    ] {
        let (status, problem) = app.get(&format!("/api/v1/compliance?{query}")).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {problem}"
        );
        assert_eq!(pointers(&problem), [pointer], "{query}");
    }
});

backend_test!(csv_has_every_row_with_a_bom, |app| async move {
    let obligation = office(&app).await;
    paper(&app, obligation, "A", "2024", "2024-12-05").await;
    let response = app
        .request(
            Method::GET,
            &format!("/api/v1/compliance?obligation={obligation}&from_period=2023&to_period=2025&as_of=2025-06-01&limit=1"),
        )
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains(".csv"));
    let bytes = response.bytes().await.unwrap();
    assert!(bytes.starts_with("\u{feff}".as_bytes()), "a BOM first");
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "Mã đơn vị");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    // 12 cells, of which 3 are not expected (C after 2023, D before 2024): 9 lines, across every page.
    assert_eq!(rows.len(), 9);
    let late = rows
        .iter()
        .find(|r| &r[0] == "A" && &r[4] == "2024")
        .unwrap();
    assert_eq!((&late[5], &late[6], &late[10]), ("Nộp muộn", "late", "3"));
    // English on request.
    let (_, english) = {
        let response = app
            .request(
                Method::GET,
                &format!("/api/v1/compliance?obligation={obligation}&format=csv&lang=en&as_of=2025-06-01"),
            )
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    };
    assert!(english.contains("Unit code,Unit,"), "{english}");
    assert!(english.contains("Submitted late"));
});
