//! The files of the lists and of the consolidation (CSV, XLSX), read back as an office's spreadsheet program
//! would, each value equal to the JSON answer's — on both backends.

use calamine::{Data, Reader};
use reqwest::{Method, StatusCode};

use crate::backend_test;
use crate::compliance::{figures_office, paper};
use crate::helpers::TestApp;
use crate::submissions::{as_token, token};

/// A file's bytes, after checking its type and that its name says what it is.
async fn download(app: &TestApp, path: &str, kind: &str, name: &str) -> Vec<u8> {
    let response = app.request(Method::GET, path).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with(kind), "{content_type}");
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(disposition.contains(name), "{disposition}");
    response.bytes().await.unwrap().to_vec()
}

/// The records of a CSV file with its BOM, header first.
fn csv_records(bytes: &[u8]) -> Vec<Vec<String>> {
    assert!(bytes.starts_with("\u{feff}".as_bytes()), "a BOM first");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&bytes[3..])
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// Every sheet of a workbook: (name, rows of cells as text; dates as YYYY-MM-DD).
fn read_sheets(bytes: Vec<u8>) -> Vec<(String, Vec<Vec<String>>)> {
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let names = book.sheet_names().to_owned();
    names
        .into_iter()
        .map(|name| {
            let range = book.worksheet_range(&name).unwrap();
            let rows = range
                .rows()
                .map(|row| {
                    row.iter()
                        .map(|cell| match cell {
                            Data::DateTime(d) => {
                                let t = d.as_datetime().unwrap();
                                if t.time() == chrono::NaiveTime::MIN {
                                    t.date().to_string()
                                } else {
                                    t.format("%Y-%m-%d %H:%M").to_string()
                                }
                            }
                            Data::Float(f) => f.to_string(),
                            Data::Int(i) => i.to_string(),
                            Data::Empty => String::new(),
                            other => other.to_string(),
                        })
                        .collect()
                })
                .collect();
            (name, rows)
        })
        .collect()
}

/// The rows of a sheet under its header row (the row whose first cell is `first_heading`).
fn body<'a>(rows: &'a [Vec<String>], first_heading: &str) -> &'a [Vec<String>] {
    let at = rows
        .iter()
        .position(|r| r.first().is_some_and(|c| c == first_heading))
        .unwrap_or_else(|| panic!("no header {first_heading} in {rows:?}"));
    &rows[at + 1..]
}

backend_test!(the_consolidation_as_files, |app| async move {
    let id = figures_office(&app).await;
    let path = format!("/api/v1/obligations/{id}/consolidation?period=2030");
    let (_, json) = app.get(&path).await;

    let book = download(
        &app,
        &format!("{path}&format=xlsx"),
        "application/vnd.openxmlformats",
        &format!("tong-hop-bao-cao-{id}-2030.xlsx"),
    )
    .await;
    let sheets = read_sheets(book);
    let names: Vec<&str> = sheets.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Tổng hợp", "Nội dung", "Chưa nộp"]);
    let figures = &sheets[0].1;
    assert_eq!(
        figures[0][0],
        "Tổng hợp báo cáo — Báo cáo số liệu — Kế hoạch số 269/KH-UBND — năm 2030"
    );
    assert!(
        figures[1][0].starts_with("Tổng hợp từ 2/3 đơn vị đã nộp"),
        "{figures:?}"
    );
    let rows = body(figures, "STT");
    assert_eq!(rows.len(), json["fields"].as_array().unwrap().len());
    for (row, field) in rows.iter().zip(json["fields"].as_array().unwrap()) {
        assert_eq!(row[1], field["title"].as_str().unwrap());
        assert_eq!(row[2], field["field"].as_str().unwrap());
        assert_eq!(row[4], field["value"].as_f64().unwrap().to_string());
        assert_eq!(row[5], field["units"].to_string());
    }
    let sum = rows.iter().find(|r| r[2] == "so_nguoi").unwrap();
    assert_eq!((sum[3].as_str(), sum[4].as_str()), ("Trung bình", "200"));
    let texts = body(&sheets[1].1, "Chỉ tiêu");
    assert!(
        texts.contains(&vec![
            "Các hoạt động".to_owned(),
            "A".to_owned(),
            "UBND quận A".to_owned(),
            "Hội nghị, Tờ rơi".to_owned()
        ]),
        "{texts:?}"
    );
    let missing = body(&sheets[2].1, "STT");
    assert_eq!(
        missing,
        [vec![
            "1".to_owned(),
            "D".to_owned(),
            "UBND quận D".to_owned(),
            "Bị trả lại".to_owned()
        ]]
    );

    // CSV: one table, the part first; English on request.
    let csv = download(
        &app,
        &format!("{path}&format=csv&lang=en"),
        "text/csv",
        ".csv",
    )
    .await;
    let records = csv_records(&csv);
    assert_eq!(records[0][0], "Part");
    let figures: Vec<&Vec<String>> = records.iter().filter(|r| r[0] == "Figures").collect();
    assert_eq!(figures.len(), json["fields"].as_array().unwrap().len());
    let activities = records
        .iter()
        .find(|r| r[0] == "Figures" && r[2] == "so_hoat_dong")
        .unwrap();
    assert_eq!(
        (
            activities[3].as_str(),
            activities[4].as_str(),
            activities[5].as_str()
        ),
        ("Sum", "8", "2")
    );
    let missing: Vec<&Vec<String>> = records.iter().filter(|r| r[0] == "Missing").collect();
    assert_eq!(missing.len(), 1);
    assert_eq!(
        (missing[0][6].as_str(), missing[0][8].as_str()),
        ("D", "Returned for correction")
    );
    assert!(records.iter().any(|r| r[0] == "Texts" && r[8] == "Tốt"));

    // Bad input is the JSON's problem, files or not.
    let (status, _) = app
        .get(&format!(
            "/api/v1/obligations/{id}/consolidation?period=20x&format=xlsx"
        ))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app.get(&format!("{path}&format=pdf")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
});

backend_test!(the_lists_as_files, |app| async move {
    let figures = figures_office(&app).await;
    let (_, all) = app.get("/api/v1/obligations").await;
    let obligation = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .find(|id| *id != figures)
        .unwrap();
    paper(&app, obligation, "A", "2024", "2024-12-05").await;

    // Obligations: every one, whatever the page size asked.
    let (_, listed) = app.get("/api/v1/obligations").await;
    let listed = listed["items"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 2);
    let book = download(
        &app,
        "/api/v1/obligations?format=xlsx&limit=1",
        "application/vnd.openxmlformats",
        "nghia-vu-bao-cao.xlsx",
    )
    .await;
    let sheets = read_sheets(book);
    assert_eq!(sheets[0].1[0][0], "Danh sách nghĩa vụ báo cáo");
    let rows = body(&sheets[0].1, "Mã nghĩa vụ");
    assert_eq!(rows.len(), listed.len());
    for (row, o) in rows.iter().zip(&listed) {
        assert_eq!(row[0], o["id"].to_string());
        assert_eq!(row[2], o["title"].as_str().unwrap());
        assert_eq!(row[4], o["recipient_name"].as_str().unwrap());
        assert_eq!(row[5], "Hằng năm");
        assert_eq!(row[6], o["window"]["starts_on"].as_str().unwrap());
        assert_eq!(row[8], o["deadlines"].to_string());
    }
    let csv = csv_records(
        &download(
            &app,
            "/api/v1/obligations?format=csv&limit=1",
            "text/csv",
            "nghia-vu-bao-cao.csv",
        )
        .await,
    );
    assert_eq!(csv.len(), 1 + listed.len());
    assert_eq!(csv[0][0], "Mã nghĩa vụ");
    assert_eq!(csv[2][2], listed[1]["title"].as_str().unwrap());

    // Submissions: the JSON's, with the late one's lateness in words and the returned one's review.
    let (_, listed) = app.get("/api/v1/submissions?limit=1000").await;
    let listed = listed["items"].as_array().unwrap().clone();
    let csv = csv_records(
        &download(
            &app,
            "/api/v1/submissions?format=csv&limit=2",
            "text/csv",
            "bao-cao-da-nhan.csv",
        )
        .await,
    );
    assert_eq!(csv.len(), 1 + listed.len());
    for (row, s) in csv[1..].iter().zip(&listed) {
        assert_eq!(row[0], s["id"].to_string());
        assert_eq!(row[1], s["unit"].as_str().unwrap());
        assert_eq!(row[5], s["version"].to_string());
        assert_eq!(row[6], s["received_at"].as_str().unwrap());
        assert_eq!(
            row[8],
            if s["on_time"] == true {
                "Có"
            } else {
                "Không"
            }
        );
    }
    let late = csv.iter().find(|r| r[1] == "A" && r[4] == "2024").unwrap();
    assert_eq!(late[7], "2024-12-05", "the paper's arrival day");
    assert!(late[9].contains("ngày"), "lateness in words: {late:?}");
    let returned = csv.iter().find(|r| r[1] == "D").unwrap();
    assert_eq!(
        (returned[13].as_str(), returned[14].as_str()),
        ("Trả lại để sửa", "Sai số liệu")
    );
    assert!(
        csv.iter().any(|r| r[15].contains("so_hoat_dong: 3")),
        "{csv:?}"
    );
    let book = read_sheets(
        download(
            &app,
            "/api/v1/submissions?format=xlsx&lang=en",
            "application/vnd.openxmlformats",
            ".xlsx",
        )
        .await,
    );
    let rows = body(&book[0].1, "Submission id");
    assert_eq!(rows.len(), listed.len());
    let late = rows.iter().find(|r| r[1] == "A" && r[4] == "2024").unwrap();
    assert_eq!(late[7], "2024-12-05");
    assert_eq!(late[8], "No");

    // Scoped like the JSON: a reporter's file holds its own unit's only.
    let b = token(&app, "reporter", Some("B")).await;
    let response = app
        .client
        .get(app.url("/api/v1/submissions?format=csv"))
        .bearer_auth(&b)
        .send()
        .await
        .unwrap();
    let csv = csv_records(&response.bytes().await.unwrap());
    assert!(csv.len() > 1);
    assert!(csv[1..].iter().all(|r| r[1] == "B"), "{csv:?}");
    let (status, _) = as_token(
        &app,
        &b,
        Method::GET,
        "/api/v1/submissions?unit=A&format=xlsx",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A refusal or a bad filter is a problem document, never an empty file with 200.
    let (status, _) = as_token(
        &app,
        &b,
        Method::GET,
        "/api/v1/submissions?unit=A&format=csv",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, problem) = app
        .get("/api/v1/submissions?since=yesterday&format=csv")
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
});
