//! Every email hanbao writes, in Vietnamese and English, rendered from the demo data (Hà Nội 269/KH-UBND's 2024
//! cycle walked from the first reminder to the letter to the department) and kept as reviewed insta snapshots.
//! Beside the snapshots: what no email may contain, and that each letter counts on from the ones before.

use hanbao::service::{self, Actor};
use hanbao::store::outbox::{EmailRow, Recipients};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{at, Backend, TestApp};

async fn file(app: &TestApp, instant: &str, body: serde_json::Value) -> i64 {
    let now = at(instant);
    app.with_conn(move |c| {
        let input = serde_json::from_value(body).unwrap();
        let filed =
            service::submissions::submit(c, &Actor::operator("test"), now, input, None).unwrap();
        filed.body["id"].as_i64().unwrap()
    })
    .await
}

async fn send_back(app: &TestApp, instant: &str, submission: i64, comment: &str) {
    let (now, comment) = (at(instant), comment.to_owned());
    app.with_conn(move |c| {
        let review = service::submissions::ReviewInput {
            decision: hanbao::store::states::ReviewDecision::Return,
            comment: Some(comment),
        };
        service::submissions::review(c, &Actor::operator("test"), now, submission, review).unwrap();
    })
    .await;
}

/// The demo as of 1 November 2024, Hoàn Kiếm and Cầu Giấy writing in English, the department with an
/// address and phone for its signature (test data: the seeds give none), and `office_language` for it.
async fn hanoi_2024(office_language: &str) -> TestApp {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.with_conn(|c| {
        service::demo::load(c, at("2024-11-01T00:00:00+07:00")).unwrap();
    })
    .await;
    for unit in ["HN-HOANKIEM", "HN-CAUGIAY"] {
        let (status, body) = app
            .patch(&format!("/api/v1/units/{unit}"), json!({"language": "en"}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body) = app
        .patch(
            "/api/v1/units/HN-SLDTBXH",
            json!({"language": office_language, "address": "Số 1 phố Minh Họa, Hà Nội (địa chỉ dùng cho kiểm thử)",
                   "phone": "024 0000 0000", "email": "vanphong@sldtbxh.example.gov.vn"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .patch("/api/v1/units/HN-TAYHO", json!({"phone": "024 1111 1111"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The 2024 cycle: last day Monday 2/12/2024 (30/11 is a Saturday).
    for instant in [
        "2024-11-19T08:00:00+07:00", // P14D
        "2024-11-29T08:00:00+07:00", // P3D (Saturday 30/11 → Friday)
        "2024-12-02T08:00:00+07:00", // P1D, the last day (and Monday's digest)
    ] {
        app.tick(instant).await;
    }
    let body = |unit: &str| json!({"obligation_id": 1, "period": "2024", "unit": unit, "payload": {"activities": 7}});
    // Long Biên's report arrived on paper on 28/11; Cầu Giấy filed in time.
    let mut paper = body("HN-LONGBIEN");
    paper["received_on"] = json!("2024-11-28");
    paper["document_ref"] = json!("1234/SĐ-LĐTBXH");
    file(&app, "2024-12-02T10:00:00+07:00", paper).await;
    let cau_giay = file(&app, "2024-12-02T15:30:00+07:00", body("HN-CAUGIAY")).await;
    // Đống Đa files the evening after the last day: PT20H27M50S late, said "20 giờ 27 phút" (never 28).
    let dong_da = file(&app, "2024-12-03T20:27:50+07:00", body("HN-DONGDA")).await;
    send_back(
        &app,
        "2024-12-04T09:00:00+07:00",
        dong_da,
        "Đề nghị bổ sung số liệu các hoạt động tại cơ sở.",
    )
    .await;
    send_back(
        &app,
        "2024-12-04T09:05:00+07:00",
        cau_giay,
        "Please add the figures for the ward-level activities.",
    )
    .await;
    for instant in [
        "2024-12-03T08:00:00+07:00", // escalation 1: the units
        "2024-12-06T08:00:00+07:00", // escalation 2: their heads, the department in copy
        "2024-12-09T08:00:00+07:00", // Monday: the department's digest
        "2024-12-10T08:00:00+07:00", // escalation 3: one letter to the department
    ] {
        app.tick(instant).await;
    }
    app
}

async fn outbox(app: &TestApp) -> Vec<EmailRow> {
    app.with_conn(|c| hanbao::store::outbox::emails(c, None, None, 100_000).unwrap())
        .await
}

/// The latest email whose dedupe key starts with `key` and that goes to `to`, as a reviewer reads it.
fn letter(emails: &[EmailRow], key: &str, to: &str) -> String {
    // The latest one: the demo's own sample reports were receipted at loading, before the walk.
    let email = emails
        .iter()
        .rev()
        .find(|e| {
            e.dedupe_key.starts_with(key)
                && Recipients::from_stored(&e.recipients)
                    .unwrap()
                    .to
                    .iter()
                    .any(|a| a == to)
        })
        .unwrap_or_else(|| panic!("no {key} email to {to}"));
    let recipients = Recipients::from_stored(&email.recipients).unwrap();
    format!(
        "From: {}\nTo: {}\nCc: {}\nSubject: {}\n\n{}\n----- HTML -----\n{}",
        email.sender_name.as_deref().unwrap_or("(mail_from)"),
        recipients.to.join(", "),
        recipients.cc.join(", "),
        email.subject,
        email.text_body,
        email.html_body
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_letter_in_vietnamese_and_english() {
    let app = hanoi_2024("vi").await;
    let emails = outbox(&app).await;
    let cases = [
        (
            "vi_reminder_p14d",
            "reminder:",
            "P14D",
            "baocao.hn-badinh@example.gov.vn",
        ),
        (
            "vi_reminder_p3d",
            "reminder:",
            "P3D",
            "baocao.hn-badinh@example.gov.vn",
        ),
        (
            "vi_reminder_p1d",
            "reminder:",
            "P1D",
            "baocao.hn-badinh@example.gov.vn",
        ),
        (
            "en_reminder_p14d",
            "reminder:",
            "P14D",
            "baocao.hn-hoankiem@example.gov.vn",
        ),
        (
            "en_reminder_p3d",
            "reminder:",
            "P3D",
            "baocao.hn-hoankiem@example.gov.vn",
        ),
        (
            "en_reminder_p1d",
            "reminder:",
            "P1D",
            "baocao.hn-hoankiem@example.gov.vn",
        ),
        (
            "vi_escalation_1",
            "escalation:",
            ":1",
            "baocao.hn-badinh@example.gov.vn",
        ),
        (
            "vi_escalation_2",
            "escalation:",
            ":2",
            "lanhdao.hn-badinh@example.gov.vn",
        ),
        (
            "en_escalation_1",
            "escalation:",
            ":1",
            "baocao.hn-hoankiem@example.gov.vn",
        ),
        (
            "en_escalation_2",
            "escalation:",
            ":2",
            "lanhdao.hn-hoankiem@example.gov.vn",
        ),
        (
            "vi_receipt_paper",
            "receipt:",
            "",
            "baocao.hn-longbien@example.gov.vn",
        ),
        (
            "vi_receipt_late",
            "receipt:",
            "",
            "baocao.hn-dongda@example.gov.vn",
        ),
        (
            "en_receipt",
            "receipt:",
            "",
            "baocao.hn-caugiay@example.gov.vn",
        ),
        (
            "vi_returned",
            "returned:",
            "",
            "baocao.hn-dongda@example.gov.vn",
        ),
        (
            "en_returned",
            "returned:",
            "",
            "baocao.hn-caugiay@example.gov.vn",
        ),
        (
            "vi_overdue_list",
            "overdue_list:",
            "",
            "baocao.hn-sldtbxh@example.gov.vn",
        ),
        (
            "vi_digest",
            "digest:",
            "",
            "baocao.hn-sldtbxh@example.gov.vn",
        ),
    ];
    for (name, kind, step, to) in cases {
        let matching: Vec<EmailRow> = emails
            .iter()
            .filter(|e| e.dedupe_key.starts_with(kind) && e.dedupe_key.ends_with(step))
            .cloned()
            .collect();
        insta::assert_snapshot!(format!("letter_{name}"), letter(&matching, kind, to));
    }
    nothing_for_machines_in(&emails);

    // Each email counts on from the ones before: Ba Đình's first escalation knows of its three reminders.
    let first = letter(&emails, "escalation:", "baocao.hn-badinh@example.gov.vn");
    assert!(first.contains("đã gửi 3 thư nhắc"), "{first}");
    // The third step is one letter to the department listing its late units, not one per unit.
    let lists = emails
        .iter()
        .filter(|e| e.dedupe_key.starts_with("overdue_list:"))
        .count();
    assert_eq!(lists, 1);
    let list = letter(&emails, "overdue_list:", "baocao.hn-sldtbxh@example.gov.vn");
    assert!(
        list.contains("27 đơn vị chưa gửi Báo cáo kết quả"),
        "{list}"
    );
    assert!(
        !list.contains("UBND quận Long Biên"),
        "Long Biên filed: {list}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_department_reads_english_when_it_asks() {
    let app = hanoi_2024("en").await;
    let emails = outbox(&app).await;
    for (name, kind) in [
        ("en_overdue_list", "overdue_list:"),
        ("en_digest", "digest:"),
    ] {
        insta::assert_snapshot!(
            format!("letter_{name}"),
            letter(&emails, kind, "baocao.hn-sldtbxh@example.gov.vn")
        );
    }
    nothing_for_machines_in(&emails);
}

/// No email shows a person HTTP, JSON, an id, a token, an ISO date or a UTC offset.
fn nothing_for_machines_in(emails: &[EmailRow]) {
    assert!(emails.len() > 100, "the walk sends a real amount of mail");
    let forbidden = [
        "POST ",
        "GET ",
        "/api/",
        "JSON",
        "json",
        "token",
        "obligation_id",
        "T00:00",
        "+07:00",
        "2024-12-",
        "[hanbao]",
        "ngày ngày",
        "E1",
        "kỳ 2024",
    ];
    for email in emails {
        for part in [&email.subject, &email.text_body, &email.html_body] {
            for word in forbidden {
                assert!(
                    !part.contains(word),
                    "`{word}` in {}: {part}",
                    email.dedupe_key
                );
            }
        }
    }
}

#[test]
fn the_yearly_calendar_letter_to_the_operators() {
    let context = json!({
        "calendar": "Lịch làm việc cơ quan nhà nước Việt Nam (Vietnamese public-service working days)",
        "code": "vn", "year": 2027,
    });
    for language in ["vi", "en"] {
        let email = hanbao::mail::render(language, "calendar", &context).unwrap();
        insta::assert_snapshot!(
            format!("letter_{language}_calendar"),
            format!(
                "Subject: {}\n\n{}\n----- HTML -----\n{}",
                email.subject, email.text, email.html
            )
        );
    }
}

#[test]
fn the_daily_letter_of_failed_emails_to_the_operators() {
    let context = json!({
        "now_words": "08 giờ 00 phút, ngày 01 tháng 12 năm 2026",
        "count": 52,
        "emails": [
            {"subject": "Nhắc hạn gửi báo cáo: Kết quả thực hiện Kế hoạch 269/KH-UBND, năm 2026",
             "to": "vanthu@ubnd-badinh.example.vn, giamdoc@soldtbxh.example.vn",
             "created_words": "08 giờ 00 phút, ngày 17 tháng 11 năm 2026",
             "error": "550 5.1.1 <vanthu@ubnd-badinh.example.vn>: mailbox unavailable"},
            {"subject": "Giấy biên nhận báo cáo <Phường Hoàn Kiếm>",
             "to": "vanthu@hoankiem.example.vn",
             "created_words": "14 giờ 10 phút, ngày 27 tháng 11 năm 2026",
             "error": "given up after 72 hours of failures; last: 451 4.3.0 try again later"},
        ],
        "more": 50,
    });
    for language in ["vi", "en"] {
        let email = hanbao::mail::render(language, "failed_emails", &context).unwrap();
        insta::assert_snapshot!(
            format!("letter_{language}_failed_emails"),
            format!(
                "Subject: {}\n\n{}\n----- HTML -----\n{}",
                email.subject, email.text, email.html
            )
        );
    }
}

/// With `public_url`, a unit's reminder carries its filing link above the plan's own filing words.
#[test]
fn a_reminder_with_its_filing_link() {
    let context = json!({
        "to": "UBND phường Ba Đình", "unit": "UBND phường Ba Đình", "days_left": 14, "notice_number": 1,
        "about": {
            "plan_number": "269/KH-UBND",
            "plan_title": "Kế hoạch truyền thông về giảm nghèo",
            "plan_issued_words": "ngày 18 tháng 10 năm 2022",
            "obligation": "Báo cáo kết quả thực hiện",
            "wording": null,
            "period_words": "năm 2026",
            "last_day_words": "ngày 30 tháng 11 năm 2026",
            "recipient": "Sở Nông nghiệp và Môi trường",
            "filing": null,
            "link": "https://hanbao.ldtbxh.hanoi.gov.vn/l/hb_EXAMPLE?to=%2Fdeadlines%2F7%2Ffile",
            "office": {"name": "Sở Nông nghiệp và Môi trường", "address": null, "phone": "024 1234 5678", "email": null},
        },
    });
    for language in ["vi", "en"] {
        let email = hanbao::mail::render(language, "reminder", &context).unwrap();
        insta::assert_snapshot!(
            format!("letter_{language}_reminder_with_link"),
            format!(
                "Subject: {}\n\n{}\n----- HTML -----\n{}",
                email.subject, email.text, email.html
            )
        );
    }
}
