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
pub async fn office(app: &TestApp) -> i64 {
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
pub async fn paper(app: &TestApp, obligation: i64, unit: &str, period: &str, day: &str) -> Value {
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

backend_test!(xlsx_says_what_the_json_says, |app| async move {
    use calamine::{Data, DataType, Reader};
    let obligation = office(&app).await;
    paper(&app, obligation, "A", "2023", "2023-11-20").await;
    paper(&app, obligation, "A", "2024", "2024-12-05").await;
    let query = format!("obligation={obligation}&from_period=2023&to_period=2025&as_of=2025-06-01");
    let (_, json) = app.get(&format!("/api/v1/compliance?{query}")).await;
    let response = app
        .request(
            Method::GET,
            &format!("/api/v1/compliance?{query}&format=xlsx&limit=1"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains(".xlsx"));
    let bytes = response.bytes().await.unwrap().to_vec();
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let matrix = book.worksheet_range("Tình hình").unwrap();
    let text = |r: u32, c: u32| {
        matrix
            .get_value((r, c))
            .map(|d| d.to_string())
            .unwrap_or_default()
    };
    assert_eq!(
        text(0, 0),
        "Tình hình gửi báo cáo — Kế hoạch số 269/KH-UBND — từ năm 2023 đến năm 2025"
    );
    assert!(
        text(1, 0).starts_with("Số liệu tính đến 00 giờ 00, ngày 01 tháng 6 năm 2025"),
        "{}",
        text(1, 0)
    );
    // Header at row 4: the periods from column 5 on.
    let periods: Vec<String> = (4..7).map(|c| text(3, c)).collect();
    assert_eq!(periods, ["2023", "2024", "2025"]);
    // Every row of the JSON (all pages: the workbook holds the whole selection), every cell labelled.
    let items = json["items"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    for (i, item) in items.iter().enumerate() {
        let r = 4 + i as u32;
        assert_eq!(text(r, 1), item["unit"].as_str().unwrap());
        assert_eq!(text(r, 2), item["unit_name"].as_str().unwrap());
        for (j, cell) in item["cells"].as_array().unwrap().iter().enumerate() {
            let shown = text(r, 4 + j as u32);
            let expected = match cell["status"].as_str().unwrap() {
                "on_time" => "Đúng hạn",
                "late" => "Nộp muộn",
                "overdue" => "Quá hạn",
                "open" => "Chưa đến hạn",
                "not_expected" => "–",
                other => panic!("{other} not in this case"),
            };
            assert!(shown.starts_with(expected), "{shown} for {cell}");
        }
        let totals = &item["totals"];
        assert_eq!(
            matrix.get_value((r, 7)).and_then(|d| d.get_float()),
            totals["expected"].as_f64()
        );
        assert_eq!(
            matrix.get_value((r, 10)).and_then(|d| d.get_float()),
            totals["reporting_rate"].as_f64()
        );
    }
    // The totals row.
    let last = 4 + items.len() as u32;
    assert_eq!(text(last, 2), "Tổng cộng");
    assert_eq!(text(last, 5), "1/3", "2024: A received, of A, B, D");
    assert_eq!(
        matrix.get_value((last, 7)).and_then(|d| d.get_float()),
        json["totals"]["overall"]["expected"].as_f64()
    );
    // The details: one line per expected cell, the last day a real date.
    let details = book.worksheet_range("Chi tiết").unwrap();
    let expected_cells: Vec<&Value> = items
        .iter()
        .flat_map(|i| i["cells"].as_array().unwrap())
        .filter(|c| c["status"] != "not_expected")
        .collect();
    assert_eq!(details.height(), 1 + expected_cells.len());
    for (k, cell) in expected_cells.iter().enumerate() {
        let r = 1 + k as u32;
        assert_eq!(
            details.get_value((r, 3)).map(|d| d.to_string()).unwrap(),
            cell["period"].as_str().unwrap()
        );
        let day = details.get_value((r, 5)).unwrap();
        assert!(matches!(day, Data::DateTime(_)), "{day:?}");
        assert_eq!(
            day.as_date().unwrap().to_string(),
            cell["last_day"].as_str().unwrap()
        );
    }
});

backend_test!(obligations_across_plans, |app| async move {
    let yearly = office(&app).await;
    // A second office X with its own plan and a monthly obligation for its one unit Y.
    app.create_unit(json!({"code": "X", "name": "Sở Văn hóa", "kind": "department"}))
        .await;
    app.create_unit(
        json!({"code": "Y", "name": "UBND phường Y", "kind": "commune", "parent": "X"}),
    )
    .await;
    let (_, plan) = app
        .post(
            "/api/v1/plans",
            json!({"number": "12/KH", "title": "Kế hoạch X", "coordinator": "X",
                   "starts_on": "2030-01-01", "ends_on": "2030-12-31"}),
        )
        .await;
    let (status, monthly) = app
        .post(
            &format!("/api/v1/plans/{}/obligations", plan["id"]),
            json!({"title": "Báo cáo tháng", "recipient": "X", "reporters": {"units": ["Y"]},
                   "schedule": {"period_type": "monthly", "due": {"rule": "after_period_end", "days": 5}}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{monthly}");
    let ids = |page: &Value| -> Vec<i64> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_i64().unwrap())
            .collect()
    };
    let monthly = monthly["id"].as_i64().unwrap();
    let (_, all) = app.get("/api/v1/obligations").await;
    assert_eq!(ids(&all), [yearly, monthly]);
    assert_eq!(all["items"][0]["recipient_name"], "Sở Lao động");
    for (query, expected) in [
        ("period_type=monthly", vec![monthly]),
        ("period_type=yearly", vec![yearly]),
        ("recipient=X", vec![monthly]),
        ("reporter=A", vec![yearly]),
        ("reporter=Y", vec![monthly]),
        (&format!("plan={}", plan["id"]), vec![monthly]),
        ("reporter=S", vec![]),
    ] {
        let (status, page) = app.get(&format!("/api/v1/obligations?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}: {page}");
        assert_eq!(ids(&page), expected, "{query}");
    }
    // Scopes: X's coordinator sees its plan's; A's reporter the one it reports under.
    let coordinator = token(&app, "coordinator", Some("X")).await;
    let (_, mine) = as_token(&app, &coordinator, Method::GET, "/api/v1/obligations", None).await;
    assert_eq!(ids(&mine), [monthly]);
    let reporter = token(&app, "reporter", Some("A")).await;
    let (_, own) = as_token(&app, &reporter, Method::GET, "/api/v1/obligations", None).await;
    assert_eq!(ids(&own), [yearly]);
    let (status, _) = as_token(
        &app,
        &reporter,
        Method::GET,
        "/api/v1/obligations?reporter=Y",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for (query, pointer) in [
        ("period_type=daily", "/period_type"),
        ("reporter=NOPE", "/reporter"),
        ("recipient=NOPE", "/recipient"),
        ("plan=999", "/plan"),
    ] {
        let (status, problem) = app.get(&format!("/api/v1/obligations?{query}")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(pointers(&problem), [pointer]);
    }
});

backend_test!(submissions_list_filters_and_scopes, |app| async move {
    let obligation = office(&app).await;
    let a2023 = paper(&app, obligation, "A", "2023", "2023-11-20").await;
    paper(&app, obligation, "A", "2024", "2024-12-05").await;
    let b = token(&app, "reporter", Some("B")).await;
    let (status, own) = as_token(
        &app,
        &b,
        Method::POST,
        "/api/v1/submissions",
        Some(json!({"obligation_id": obligation, "period": "2030", "payload": {}})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{own}");
    let (status, _) = app
        .post(
            &format!("/api/v1/submissions/{}/review", a2023["id"]),
            json!({"decision": "return", "comment": "Bổ sung"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let units = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                format!(
                    "{} {}",
                    s["unit"].as_str().unwrap(),
                    s["period"].as_str().unwrap()
                )
            })
            .collect()
    };
    let (_, all) = app.get("/api/v1/submissions").await;
    assert_eq!(units(&all), ["A 2023", "A 2024", "B 2030"]);
    assert_eq!(all["items"][0]["unit_name"], "UBND quận A");
    assert_eq!(all["items"][0]["obligation_id"], obligation);
    for (query, expected) in [
        ("unit=A", vec!["A 2023", "A 2024"]),
        ("period=2024", vec!["A 2024"]),
        ("on_behalf=false", vec!["B 2030"]),
        ("on_behalf=true", vec!["A 2023", "A 2024"]),
        ("decision=return", vec!["A 2023"]),
        ("decision=none", vec!["A 2024", "B 2030"]),
        (&format!("obligation={obligation}&since=2099-01-01"), vec![]),
        ("limit=1&cursor=", vec!["A 2023"]),
    ] {
        let (status, page) = app.get(&format!("/api/v1/submissions?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}: {page}");
        assert_eq!(units(&page), expected, "{query}");
    }
    // B's reporter sees B's only.
    let (_, mine) = as_token(&app, &b, Method::GET, "/api/v1/submissions", None).await;
    assert_eq!(units(&mine), ["B 2030"]);
    for (query, pointer) in [
        ("decision=maybe", "/decision"),
        ("unit=NOPE", "/unit"),
        ("period=x", "/period"),
        ("since=soon", "/since"),
        ("obligation=999", "/obligation"),
    ] {
        let (status, problem) = app.get(&format!("/api/v1/submissions?{query}")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(pointers(&problem), [pointer]);
    }
});

/// The office of [`office`] with a second obligation that has a form of figures and texts; for 2030, A files,
/// B files twice (only the current version counts), D files and is returned, C closed long before. Returns the
/// obligation's id.
pub async fn figures_office(app: &TestApp) -> i64 {
    office(app).await;
    let (_, plans) = app.get("/api/v1/plans").await;
    let plan = plans["items"][0]["id"].as_i64().unwrap();
    let form = json!({"type": "object", "properties": {
        "so_hoat_dong": {"type": "integer", "title": "Số hoạt động"},
        "so_nguoi": {"type": "integer", "title": "Số người tham dự", "x-aggregate": "avg"},
        "ghi_chu": {"type": "string", "title": "Ghi chú"},
        "hoat_dong": {"type": "array", "items": {"type": "string"}, "title": "Các hoạt động"}
    }});
    let (status, obligation) = app
        .post(
            &format!("/api/v1/plans/{plan}/obligations"),
            json!({"title": "Báo cáo số liệu", "recipient": "S",
                   "reporters": {"group": {"parent": "S", "kinds": ["district"]}},
                   "schedule": {"period_type": "yearly",
                                "due": {"rule": "fixed_date", "month": 12, "day": 1, "phrase": "before"}},
                   "form": form}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{obligation}");
    let id = obligation["id"].as_i64().unwrap();
    let file = |unit: &'static str, payload: Value| async move {
        let (status, receipt) = app
            .post(
                "/api/v1/submissions",
                json!({"obligation_id": id, "period": "2030", "unit": unit, "payload": payload}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{receipt}");
        receipt
    };
    file("A", json!({"so_hoat_dong": 3, "so_nguoi": 100, "ghi_chu": "Tốt", "hoat_dong": ["Hội nghị", "Tờ rơi"]})).await;
    // B files twice: only the current version counts.
    file("B", json!({"so_hoat_dong": 1, "so_nguoi": 900})).await;
    file("B", json!({"so_hoat_dong": 5, "so_nguoi": 300})).await;
    let d = file("D", json!({"so_hoat_dong": 2, "so_nguoi": 200})).await;
    let (status, _) = app
        .post(
            &format!("/api/v1/submissions/{}/review", d["id"]),
            json!({"decision": "return", "comment": "Sai số liệu"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    id
}

backend_test!(consolidation_of_a_period, |app| async move {
    let id = figures_office(&app).await;
    let (status, c) = app
        .get(&format!(
            "/api/v1/obligations/{id}/consolidation?period=2030"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{c}");
    // Expected: A, B, D (C closed in 2023); in the totals: A and B; D's report was returned.
    assert_eq!(
        (c["units_expected"].as_i64(), c["units_included"].as_i64()),
        (Some(3), Some(2))
    );
    let field = |name: &str| {
        c["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["field"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(field("so_hoat_dong")["value"], 8.0);
    assert_eq!(field("so_hoat_dong")["aggregate"], "sum");
    assert_eq!(field("so_hoat_dong")["title"], "Số hoạt động");
    assert_eq!(field("so_nguoi")["value"], 200.0, "avg of 100 and 300");
    assert_eq!(field("so_nguoi")["units"], 2);
    let texts = c["texts"].as_array().unwrap();
    let notes = texts.iter().find(|t| t["field"] == "ghi_chu").unwrap();
    assert_eq!(
        notes["answers"],
        json!([{"unit": "A", "unit_name": "UBND quận A", "value": "Tốt"}])
    );
    let activities = texts.iter().find(|t| t["field"] == "hoat_dong").unwrap();
    assert_eq!(
        activities["answers"][0]["value"],
        json!(["Hội nghị", "Tờ rơi"])
    );
    assert_eq!(
        c["missing"],
        json!([{"unit": "D", "unit_name": "UBND quận D", "status": "returned"}])
    );

    // Who may read it, and bad input.
    let reporter = token(&app, "reporter", Some("A")).await;
    let path = format!("/api/v1/obligations/{id}/consolidation?period=2030");
    let (status, _) = as_token(&app, &reporter, Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    app.create_unit(json!({"code": "X", "name": "Sở khác", "kind": "department"}))
        .await;
    let other = token(&app, "coordinator", Some("X")).await;
    let (status, _) = as_token(&app, &other, Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, problem) = app
        .get(&format!(
            "/api/v1/obligations/{id}/consolidation?period=20x"
        ))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(pointers(&problem), ["/period"]);
    let (status, _) = app
        .get("/api/v1/obligations/999/consolidation?period=2030")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .get(&format!("/api/v1/obligations/{id}/consolidation"))
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the period is needed"
    );
});
