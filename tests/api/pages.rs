//! The web pages as a browser meets them over HTTP (a real browser drives them in the browser tests): sign-in
//! and its session cookie, the overview and the matrix in Vietnamese and English, the headers every page
//! carries, CSRF, revocation, scopes — on both backends.

use reqwest::{header, Method, StatusCode};
use serde_json::json;

use crate::backend_test;
use crate::compliance::{office, paper};
use crate::helpers::TestApp;
use crate::submissions::token;

/// A browser without JavaScript: no redirects followed, cookies carried by hand.
struct Browser {
    client: reqwest::Client,
    base: String,
    cookies: Vec<String>,
}

impl Browser {
    fn new(app: &TestApp) -> Self {
        Self {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: app.url(""),
            cookies: Vec::new(),
        }
    }

    async fn send(
        &mut self,
        method: Method,
        path: &str,
        form: Option<&[(&str, &str)]>,
    ) -> (StatusCode, header::HeaderMap, String) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header(header::ACCEPT_LANGUAGE, "vi-VN,vi;q=0.9");
        if !self.cookies.is_empty() {
            request = request.header(header::COOKIE, self.cookies.join("; "));
        }
        if let Some(form) = form {
            let body: String = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form.iter())
                .finish();
            request = request
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body);
        }
        let response = request.send().await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        for set in headers.get_all(header::SET_COOKIE) {
            let pair = set.to_str().unwrap().split(';').next().unwrap().to_owned();
            let name = pair.split('=').next().unwrap().to_owned();
            self.cookies.retain(|c| !c.starts_with(&format!("{name}=")));
            if !pair.ends_with('=') {
                self.cookies.push(pair);
            }
        }
        (status, headers, response.text().await.unwrap())
    }

    async fn get(&mut self, path: &str) -> (StatusCode, header::HeaderMap, String) {
        self.send(Method::GET, path, None).await
    }

    async fn post(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, header::HeaderMap, String) {
        self.send(Method::POST, path, Some(form)).await
    }
}

/// The form secret of a page.
fn csrf(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with its secret");
    html[at + 19..].split('"').next().unwrap().to_owned()
}

backend_test!(sign_in_overview_matrix_and_sign_out, |app| async move {
    let obligation = office(&app).await;
    paper(&app, obligation, "A", "2024", "2024-12-05").await;
    let coordinator = token(&app, "coordinator", Some("S")).await;
    let mut browser = Browser::new(&app);

    // Not signed in: to the sign-in page, which carries every page's headers.
    let (status, headers, _) = browser.get("/").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/sign-in");
    let (status, headers, html) = browser.get("/sign-in").await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .contains("script-src 'none'"));
    assert!(headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
    assert_eq!(headers[header::REFERRER_POLICY], "same-origin");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(html.contains("<html lang=\"vi\">") && html.contains("Mã truy cập"));
    assert!(!html.contains("<script"), "no script on any page");

    // A wrong token: the page again, with the error in words, and no session.
    let (status, _, html) = browser
        .post("/sign-in", &[("token", "hb_not-a-token")])
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        html.contains("Mã truy cập không đúng hoặc đã bị thu hồi"),
        "{html}"
    );
    assert!(html.contains("<title>Lỗi: Đăng nhập"));
    assert!(browser.cookies.is_empty());

    // The coordinator's token: a session cookie (HttpOnly, SameSite=Lax), then the overview.
    let (status, headers, _) = browser.post("/sign-in", &[("token", &coordinator)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let set = headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"),
        "{set}"
    );
    let (status, headers, html) = browser.get("/").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    assert!(html.contains("Kế hoạch 269&#x2f;KH-UBND"), "{html}");
    // The current period (the next one due, whatever year the tests run in): A, B and D are expected.
    assert!(html.contains("0/3"), "{html}");
    assert!(!html.contains("hb_"), "no token on a page");

    // The matrix: every cell a word, the late one with its days.
    let (status, _, html) = browser
        .get(&format!(
            "/obligations/{obligation}?from_period=2023&to_period=2024"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains("Nộp muộn") && html.contains("3 ngày"),
        "{html}"
    );
    assert!(html.contains("UBND quận A") && html.contains("Quá hạn"));
    assert!(html.contains("Tổng cộng"));
    assert!(
        html.contains("cần xử lý) Báo cáo kết quả"),
        "the title counts what needs attention"
    );
    // A filter the use case refuses: the page says which field, in words, and keeps the values.
    let (status, _, html) = browser
        .get(&format!(
            "/obligations/{obligation}?from_period=2024&to_period=202412"
        ))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("Có lỗi cần sửa") && html.contains("value=\"202412\""),
        "{html}"
    );
    // The download with the session.
    let (status, headers, _) = browser
        .get(&format!(
            "/obligations/{obligation}/export.xlsx?from_period=2023&to_period=2024"
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .contains("spreadsheetml"));

    // English by the switch, remembered in a cookie.
    let (status, headers, _) = browser.get("/language?to=en&back=/").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/");
    let (_, _, html) = browser.get("/").await;
    assert!(
        html.contains("<html lang=\"en\">")
            && html.contains("Overview")
            && html.contains("Sign out")
    );
    // The switch never sends anyone elsewhere: not with a tab (browsers drop it: "//evil"), not with a line break.
    for back in ["/%09/evil.example", "/%0A", "%2F%2Fevil.example"] {
        let (status, headers, _) = browser.get(&format!("/language?to=vi&back={back}")).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{back}");
        assert_eq!(headers[header::LOCATION], "/", "{back}");
    }
    let (_, headers, _) = browser
        .get("/language?to=vi&back=https://evil.example/")
        .await;
    assert_eq!(headers[header::LOCATION], "/");

    // Sign-out needs the page's secret: without it, a clear refusal and the session stays.
    let (status, _, html) = browser.post("/sign-out", &[("csrf", "forged")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("Biểu mẫu đã cũ"), "{html}");
    let (_, _, html) = browser.get("/").await;
    let (status, headers, _) = browser.post("/sign-out", &[("csrf", &csrf(&html))]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/sign-in");
    let (status, _, _) = browser.get("/").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "signed out");
});

backend_test!(
    revoking_a_token_ends_its_sessions_and_scopes_hold,
    |app| async move {
        let obligation = office(&app).await;
        app.create_unit(json!({"code": "X", "name": "Sở khác", "kind": "department"}))
            .await;
        let (status, issued) = app
            .post(
                "/api/v1/tokens",
                json!({"role": "coordinator", "unit": "X", "name": "Chuyên viên Sở khác"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let secret = issued["token"].as_str().unwrap();
        let mut browser = Browser::new(&app);
        let (status, _, _) = browser.post("/sign-in", &[("token", secret)]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (status, _, html) = browser.get("/").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains("Chuyên viên Sở khác"),
            "the token's name, not its id"
        );
        assert!(
            !html.contains("269&#x2f;KH-UBND"),
            "another office's plan is not listed"
        );
        // Another office's obligation: not found, as a page.
        let (status, _, html) = browser.get(&format!("/obligations/{obligation}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(html.contains("Không tìm thấy"));
        // Nor its download, nor its consolidation; a period that is not one is a page, not a failure.
        let (status, _, _) = browser
            .get(&format!("/obligations/{obligation}/export.xlsx"))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _, _) = browser
            .get(&format!(
                "/obligations/{obligation}/consolidation?period=2024"
            ))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // Revoked: the session ends at once.
        let (status, _) = app
            .call(
                Method::DELETE,
                &format!("/api/v1/tokens/{}", issued["id"]),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, headers, _) = browser.get("/").await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(headers[header::LOCATION], "/sign-in");
    }
);

/// The `nonce` of a filing form.
fn nonce(html: &str) -> String {
    let at = html.find("name=\"nonce\" value=\"").expect("a filing form");
    html[at + 20..].split('"').next().unwrap().to_owned()
}

backend_test!(a_unit_files_through_the_form_once, |app| async move {
    office(&app).await;
    let (_, plans) = app.get("/api/v1/plans").await;
    let plan = plans["items"][0]["id"].as_i64().unwrap();
    let (status, obligation) = app
        .post(
            &format!("/api/v1/plans/{plan}/obligations"),
            json!({"title": "Báo cáo số liệu", "recipient": "S",
                   "reporters": {"group": {"parent": "S", "kinds": ["district"]}},
                   "schedule": {"period_type": "yearly",
                                "due": {"rule": "fixed_date", "month": 12, "day": 1, "phrase": "before"}},
                   "wording": "Trước ngày 01 tháng 12 hằng năm, báo cáo kết quả.",
                   "form": {"type": "object", "required": ["so"], "properties": {
                       "so": {"type": "integer", "title": "Số hoạt động", "minimum": 0},
                       "ghi_chu": {"type": "string", "title": "Ghi chú", "maxLength": 100}}}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{obligation}");
    let id = obligation["id"].as_i64().unwrap();
    let (_, found) = app
        .get(&format!(
            "/api/v1/deadlines?obligation={id}&unit=A&period=2030"
        ))
        .await;
    let deadline = found["items"][0]["id"].as_i64().unwrap();
    let (_, found) = app
        .get(&format!(
            "/api/v1/deadlines?obligation={id}&unit=B&period=2030"
        ))
        .await;
    let others = found["items"][0]["id"].as_i64().unwrap();
    let reporter = token(&app, "reporter", Some("A")).await;
    let mut browser = Browser::new(&app);
    browser.post("/sign-in", &[("token", &reporter)]).await;

    // The unit lands on its own list, with the obligation's link to file.
    let (status, _, html) = browser.get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Báo cáo cần nộp") && html.contains("UBND quận A"),
        "{html}"
    );
    assert!(
        html.contains(&format!("/deadlines/{deadline}/file")),
        "{html}"
    );
    // The form from the schema: labels from titles, the optional field marked, the plan's own words.
    let (status, _, html) = browser.get(&format!("/deadlines/{deadline}/file")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("<label for=\"f-so\">Số hoạt động</label>"),
        "{html}"
    );
    assert!(html.contains("Ghi chú <span class=\"muted\">(không bắt buộc)</span>"));
    assert!(html.contains("inputmode=\"numeric\""));
    assert!(html.contains("Trước ngày 01 tháng 12 hằng năm"));
    let (secret, key) = (csrf(&html), nonce(&html));
    // Wrong types: the page again, the message built from the title, the value kept, nothing filed.
    let (status, _, html) = browser
        .post(
            &format!("/deadlines/{deadline}/file"),
            &[
                ("csrf", &secret),
                ("nonce", &key),
                ("so", "mười"),
                ("ghi_chu", ""),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Số hoạt động phải là số nguyên"), "{html}");
    assert!(html.contains("value=\"mười\""));
    assert!(html.contains("<title>Lỗi:"));
    let (_, filed) = app.get("/api/v1/submissions").await;
    assert_eq!(filed["items"], json!([]), "nothing filed");
    // Without the form's secret: refused.
    let (status, _, _) = browser
        .post(
            &format!("/deadlines/{deadline}/file"),
            &[("nonce", &key), ("so", "3")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Correct: filed ("1.250" read as 1250), to the receipt.
    let form = [
        ("csrf", secret.as_str()),
        ("nonce", key.as_str()),
        ("so", "1.250"),
        ("ghi_chu", "Tốt"),
    ];
    let (status, headers, _) = browser
        .post(&format!("/deadlines/{deadline}/file"), &form)
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let receipt = headers[header::LOCATION].to_str().unwrap().to_owned();
    assert!(
        receipt.starts_with("/submissions/") && receipt.ends_with("/receipt"),
        "{receipt}"
    );
    let (status, _, html) = browser.get(&receipt).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Đã nộp báo cáo") && html.contains("Mã biên nhận"),
        "{html}"
    );
    assert!(html.contains("1250") && html.contains("Đúng hạn"));
    assert!(!html.contains("token "), "who filed, by name");
    // The same form posted again (a double click, a reload): the same receipt, no second version.
    let (status, headers, _) = browser
        .post(&format!("/deadlines/{deadline}/file"), &form)
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION].to_str().unwrap(), receipt);
    let (_, filed) = app.get("/api/v1/submissions").await;
    assert_eq!(filed["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        filed["items"][0]["payload"],
        json!({"so": 1250, "ghi_chu": "Tốt"})
    );
    // Another unit's deadline is not this unit's to see.
    let (status, _, html) = browser.get(&format!("/deadlines/{others}/file")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Không tìm thấy"));
});

backend_test!(
    the_office_returns_a_report_and_the_unit_files_again,
    |app| async move {
        office(&app).await;
        let (_, plans) = app.get("/api/v1/plans").await;
        let plan = plans["items"][0]["id"].as_i64().unwrap();
        let (_, obligation) = app
        .post(
            &format!("/api/v1/plans/{plan}/obligations"),
            json!({"title": "Báo cáo số liệu", "recipient": "S",
                   "reporters": {"group": {"parent": "S", "kinds": ["district"]}},
                   "schedule": {"period_type": "yearly",
                                "due": {"rule": "fixed_date", "month": 12, "day": 1, "phrase": "before"}},
                   "form": {"type": "object", "properties": {
                       "so": {"type": "integer", "title": "Số hoạt động"}}}}),
        )
        .await;
        let id = obligation["id"].as_i64().unwrap();
        let (_, found) = app
            .get(&format!(
                "/api/v1/deadlines?obligation={id}&unit=A&period=2030"
            ))
            .await;
        let deadline = found["items"][0]["id"].as_i64().unwrap();
        let (unit_token, coordinator, viewer) = (
            token(&app, "reporter", Some("A")).await,
            token(&app, "coordinator", Some("S")).await,
            token(&app, "viewer", None).await,
        );
        let mut unit = Browser::new(&app);
        unit.post("/sign-in", &[("token", &unit_token)]).await;
        let (_, _, html) = unit.get(&format!("/deadlines/{deadline}/file")).await;
        let file = |html: &str, so: &str| {
            let (secret, key) = (csrf(html), nonce(html));
            (secret, key, so.to_owned())
        };
        let (secret, key, so) = file(&html, "3");
        let (status, _, _) = unit
            .post(
                &format!("/deadlines/{deadline}/file"),
                &[("csrf", &secret), ("nonce", &key), ("so", &so)],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);

        // The office: version 1 with its answer, and the review form.
        let mut office_browser = Browser::new(&app);
        office_browser
            .post("/sign-in", &[("token", &coordinator)])
            .await;
        let path = format!("/deadlines/{deadline}");
        let (status, _, html) = office_browser.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(
            html.contains("UBND quận A") && html.contains("Phiên bản 1"),
            "{html}"
        );
        assert!(
            html.contains("Số hoạt động") && html.contains(">3<"),
            "{html}"
        );
        assert!(html.contains("Đơn vị đã nộp đúng hạn."));
        let submission = {
            let at = html.find("name=\"submission\" value=\"").unwrap();
            html[at + 25..].split('"').next().unwrap().to_owned()
        };
        // Returning needs a comment.
        let (status, _, html) = office_browser
            .post(
                &format!("{path}/review"),
                &[
                    ("csrf", &csrf(&html)),
                    ("submission", &submission),
                    ("decision", "return"),
                    ("comment", ""),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("Nhập lý do trả lại"), "{html}");
        let (status, headers, _) = office_browser
            .post(
                &format!("{path}/review"),
                &[
                    ("csrf", &csrf(&html)),
                    ("submission", &submission),
                    ("decision", "return"),
                    ("comment", "Bổ sung số hoạt động quý IV"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(headers[header::LOCATION].to_str().unwrap(), path);

        // The unit sees the comment, and the form comes back filled with version 1.
        let (_, _, html) = unit.get("/").await;
        assert!(
            html.contains("Bổ sung số hoạt động quý IV") && html.contains("Sửa và nộp lại"),
            "{html}"
        );
        let (_, _, html) = unit.get(&format!("/deadlines/{deadline}/file")).await;
        assert!(
            html.contains("Bổ sung số hoạt động quý IV") && html.contains("value=\"3\""),
            "{html}"
        );
        let (secret, key, so) = file(&html, "5");
        let (status, _, _) = unit
            .post(
                &format!("/deadlines/{deadline}/file"),
                &[("csrf", &secret), ("nonce", &key), ("so", &so)],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);

        // The office: version 2 on top, its change marked, version 1 returned with the comment; then accepted.
        let (_, _, html) = office_browser.get(&path).await;
        let (v2, v1) = (
            html.find("Phiên bản 2").unwrap(),
            html.find("Phiên bản 1").unwrap(),
        );
        assert!(v2 < v1, "newest first");
        assert!(html.contains("đã sửa, trước là: 3"), "{html}");
        assert!(html.contains("Bổ sung số hoạt động quý IV"));
        let submission = {
            let at = html.find("name=\"submission\" value=\"").unwrap();
            html[at + 25..].split('"').next().unwrap().to_owned()
        };
        let (status, _, _) = office_browser
            .post(
                &format!("{path}/review"),
                &[
                    ("csrf", &csrf(&html)),
                    ("submission", &submission),
                    ("decision", "accept"),
                    ("comment", ""),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, _, html) = office_browser.get(&path).await;
        assert!(html.contains("Đã tiếp nhận"));
        assert!(
            !html.contains("name=\"decision\""),
            "nothing left to review"
        );

        // A viewer reads it, and cannot review.
        let mut reader = Browser::new(&app);
        reader.post("/sign-in", &[("token", &viewer)]).await;
        let (status, _, html) = reader.get(&path).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Phiên bản 2") && !html.contains("name=\"decision\""));
    }
);

backend_test!(
    a_filing_link_is_one_units_for_thirty_days,
    |app| async move {
        office(&app).await;
        let unit_id = app
            .with_conn(|c| {
                hanbao::store::units::find_by_code(c, "A")
                    .unwrap()
                    .unwrap()
                    .id
            })
            .await;
        let now = chrono::Utc::now();
        let (fresh, old) = app
            .with_conn(move |c| {
                (
                    hanbao::service::tokens::filing_link(c, unit_id, now).unwrap(),
                    hanbao::service::tokens::filing_link(
                        c,
                        unit_id,
                        now - chrono::Duration::days(31),
                    )
                    .unwrap(),
                )
            })
            .await;
        // It travels in an email's address: it opens the pages, never the API (nor a calendar feed).
        for path in ["/api/v1/deadlines?unit=A", "/api/v1/units/A/deadlines.ics"] {
            let (status, problem) =
                crate::submissions::as_token(&app, &fresh, Method::GET, path, None).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {problem}");
        }
        // Written 31 days ago: expired, on the API and as a link.
        let (status, _) =
            crate::submissions::as_token(&app, &old, Method::GET, "/api/v1/deadlines", None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let mut browser = Browser::new(&app);
        let (status, _, html) = browser.post(&format!("/l/{old}"), &[("to", "/")]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(html.contains("đã hết hạn (30 ngày)"));
        // A good one signs the unit in, and only to pages of this site.
        let (status, headers, _) = browser
            .post(&format!("/l/{fresh}"), &[("to", "https://evil.example/")])
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(headers[header::LOCATION], "/");
        let (status, _, html) = browser.get("/").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Báo cáo cần nộp"));
    }
);

backend_test!(
    the_consolidation_page_states_its_coverage,
    |app| async move {
        office(&app).await;
        let (_, plans) = app.get("/api/v1/plans").await;
        let plan = plans["items"][0]["id"].as_i64().unwrap();
        let (_, obligation) = app
        .post(
            &format!("/api/v1/plans/{plan}/obligations"),
            json!({"title": "Báo cáo số liệu", "recipient": "S",
                   "reporters": {"group": {"parent": "S", "kinds": ["district"]}},
                   "schedule": {"period_type": "yearly",
                                "due": {"rule": "fixed_date", "month": 12, "day": 1, "phrase": "before"}},
                   "form": {"type": "object", "properties": {
                       "so": {"type": "integer", "title": "Số hoạt động"},
                       "ghi_chu": {"type": "string", "title": "Ghi chú"}}}}),
        )
        .await;
        let id = obligation["id"].as_i64().unwrap();
        for (unit, so) in [("A", 1200), ("B", 50)] {
            let (status, _) = app
                .post(
                    "/api/v1/submissions",
                    json!({"obligation_id": id, "period": "2030", "unit": unit,
                       "payload": {"so": so, "ghi_chu": format!("Ghi chú {unit}")}}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED);
        }
        let coordinator = token(&app, "coordinator", Some("S")).await;
        let mut office_browser = Browser::new(&app);
        office_browser
            .post("/sign-in", &[("token", &coordinator)])
            .await;
        let (status, _, html) = office_browser
            .get(&format!("/obligations/{id}/consolidation?period=2030"))
            .await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(
            html.contains("Tổng hợp từ 2&#x2f;3 đơn vị đã nộp"),
            "{html}"
        );
        assert!(
            html.contains("1.250"),
            "1200 + 50, grouped as offices write numbers: {html}"
        );
        assert!(
            html.contains("Ghi chú A") && html.contains("UBND quận D"),
            "{html}"
        );
        // A period that is not one: a page saying so, never a server failure.
        let (status, _, html) = office_browser
            .get(&format!("/obligations/{id}/consolidation?period=20x"))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("Không thực hiện được"), "{html}");
        // A reporting unit does not read the others' figures.
        let reporter = token(&app, "reporter", Some("A")).await;
        let mut unit = Browser::new(&app);
        unit.post("/sign-in", &[("token", &reporter)]).await;
        let (status, headers, _) = unit
            .get(&format!("/obligations/{id}/consolidation?period=2030"))
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(headers[header::LOCATION], "/");
    }
);

backend_test!(
    a_unit_with_many_deadlines_sees_its_newest,
    |app| async move {
        office(&app).await;
        // Weekly reports over 22 years: more than one page of deadlines for unit A alone.
        let (status, plan) = app
            .post(
                "/api/v1/plans",
                json!({"number": "7/KH", "title": "Theo dõi tuần", "coordinator": "S",
                   "starts_on": "2010-01-04", "ends_on": "2031-12-28"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{plan}");
        let (status, obligation) = app
        .post(
            &format!("/api/v1/plans/{}/obligations", plan["id"]),
            json!({"title": "Báo cáo tuần", "recipient": "S", "reporters": {"units": ["A"]},
                   "schedule": {"period_type": "weekly", "due": {"rule": "after_period_end", "days": 2}}}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{obligation}");
        assert!(
            obligation["deadlines"].as_i64().unwrap() > 1000,
            "{obligation}"
        );
        let id = obligation["id"].as_i64().unwrap();
        let (_, newest) = app
            .get(&format!("/api/v1/deadlines?obligation={id}&period=2031W52"))
            .await;
        let newest = newest["items"][0]["id"].as_i64().unwrap();
        let reporter = token(&app, "reporter", Some("A")).await;
        let mut unit = Browser::new(&app);
        unit.post("/sign-in", &[("token", &reporter)]).await;
        let (status, _, html) = unit.get("/").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains(&format!("/deadlines/{newest}/file")),
            "the newest deadline, past the first page, is listed"
        );
    }
);

/// Every email queued so far: (dedupe key, first recipient, subject).
async fn outbox(app: &TestApp) -> Vec<(String, String, String)> {
    let (_, page) = app.get("/api/v1/outbox?limit=1000").await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["dedupe_key"].as_str().unwrap().to_owned(),
                e["to"][0].as_str().unwrap_or_default().to_owned(),
                e["subject"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

backend_test!(the_office_reminds_extends_and_waives, |app| async move {
    office(&app).await;
    let deadline = |unit: &'static str, period: &'static str| {
        let app = &app;
        async move {
            let (_, found) = app
                .get(&format!("/api/v1/deadlines?unit={unit}&period={period}"))
                .await;
            found["items"][0]["id"].as_i64().unwrap()
        }
    };
    let (a2024, a2025) = (deadline("A", "2024").await, deadline("A", "2025").await);
    let (coordinator, viewer) = (
        token(&app, "coordinator", Some("S")).await,
        token(&app, "viewer", None).await,
    );
    let mut office_browser = Browser::new(&app);
    office_browser
        .post("/sign-in", &[("token", &coordinator)])
        .await;

    // The late list: each overdue deadline, how late, nothing sent yet, a button each.
    let (status, _, html) = office_browser.get("/late").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains("UBND quận A") && html.contains("UBND quận B"),
        "{html}"
    );
    assert!(html.contains("Chưa gửi thư nào"), "{html}");
    // C closed at the end of 2023: its overdue 2023 report is history, not someone to remind.
    assert!(!html.contains("UBND huyện C"), "{html}");
    assert!(
        html.contains(&format!("/deadlines/{a2025}/remind")),
        "{html}"
    );
    let secret = csrf(&html);

    // A reminder now: one email to the unit, through the outbox, audited; then back with a notice.
    let before = outbox(&app).await.len();
    let (status, headers, _) = office_browser
        .post(
            &format!("/deadlines/{a2025}/remind"),
            &[("csrf", &secret), ("back", "/late")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers["location"],
        format!("/late?done=sent&deadline={a2025}").as_str()
    );
    let emails = outbox(&app).await;
    assert_eq!(emails.len(), before + 1);
    let sent = emails
        .iter()
        .find(|(key, _, _)| key.starts_with(&format!("escalation:{a2025}:by-hand-")))
        .expect("the reminder in the outbox");
    assert_eq!(sent.1, "baocao@a.gov.vn");
    let (_, audit) = app
        .get(&format!("/api/v1/audit?entity=deadline&entity_id={a2025}"))
        .await;
    assert_eq!(audit["items"][0]["action"], "deadline.remind", "{audit}");
    let (_, _, html) = office_browser
        .get(&format!("/late?done=sent&deadline={a2025}"))
        .await;
    assert!(
        html.contains("UBND quận A: Đã gửi thư nhắc cho đơn vị"),
        "{html}"
    );
    assert!(html.contains("Đã nhắc hôm nay"), "{html}");

    // The same unit again today, for another deadline: nothing more is sent.
    let (status, headers, _) = office_browser
        .post(
            &format!("/deadlines/{a2024}/remind"),
            &[("csrf", &secret), ("back", &format!("/deadlines/{a2024}"))],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers["location"],
        format!("/deadlines/{a2024}?done=already&deadline={a2024}").as_str()
    );
    assert_eq!(outbox(&app).await.len(), before + 1);
    let (_, _, html) = office_browser
        .get(&format!("/deadlines/{a2024}?done=already&deadline={a2024}"))
        .await;
    assert!(html.contains("đã được nhắc hôm nay"), "{html}");
    assert!(
        html.contains("Đã nhắc hôm nay") && !html.contains("/remind\""),
        "no second button today: {html}"
    );
    // Without the form secret, or by a viewer: refused, nothing sent.
    let (status, _, _) = office_browser
        .post(&format!("/deadlines/{a2024}/remind"), &[("csrf", "nope")])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let mut viewer_browser = Browser::new(&app);
    viewer_browser.post("/sign-in", &[("token", &viewer)]).await;
    let (status, _, html) = viewer_browser.get("/late").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !html.contains("Gửi nhắc ngay"),
        "a viewer only reads: {html}"
    );
    let viewer_secret = csrf(&html);
    let (status, _, _) = viewer_browser
        .post(
            &format!("/deadlines/{}/remind", deadline("B", "2025").await),
            &[("csrf", &viewer_secret)],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(outbox(&app).await.len(), before + 1);

    // An extension: a missing day and reason are shown beside their fields, what was typed kept.
    let b2030 = deadline("B", "2030").await;
    let path = format!("/deadlines/{b2030}");
    let (status, _, html) = office_browser
        .post(
            &format!("{path}/extension"),
            &[("csrf", &secret), ("last_day", ""), ("reason", "Bão lũ")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("Nhập ngày hạn mới") && html.contains(">Bão lũ</textarea>"),
        "{html}"
    );
    let (status, _, html) = office_browser
        .post(
            &format!("{path}/extension"),
            &[
                ("csrf", &secret),
                ("last_day", "01/01/2020"),
                ("reason", "Bão lũ"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("phải sau hạn hiện tại"), "{html}");
    let (status, _, _) = office_browser
        .post(
            &format!("{path}/extension"),
            &[
                ("csrf", &secret),
                ("last_day", "2030-12-20"),
                ("reason", "Bão lũ"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, d) = app.get(&format!("/api/v1/deadlines/{b2030}")).await;
    assert_eq!(
        (d["last_day"].as_str(), d["extension_reason"].as_str()),
        (Some("2030-12-20"), Some("Bão lũ"))
    );
    let (_, _, html) = office_browser.get(&path).await;
    assert!(
        html.contains("Gia hạn đến hết ngày 20 tháng 12 năm 2030. Lý do: Bão lũ"),
        "{html}"
    );

    // A waiver needs its reason; then the unit is exempt and the history says why.
    let (status, _, html) = office_browser
        .post(
            &format!("{path}/waiver"),
            &[("csrf", &secret), ("reason", " ")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Nhập lý do miễn nộp"), "{html}");
    let (status, _, _) = office_browser
        .post(
            &format!("{path}/waiver"),
            &[("csrf", &secret), ("reason", "Đơn vị sáp nhập")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, _, html) = office_browser.get(&path).await;
    assert!(
        html.contains("Được miễn") && html.contains("Miễn nộp kỳ này. Lý do: Đơn vị sáp nhập"),
        "{html}"
    );
    assert!(
        !html.contains(&format!("{path}/waiver")),
        "no more decisions on a waived deadline"
    );
    // A second waiver posted (a reload) changes nothing: a clear page, not a failure.
    let (status, _, _) = office_browser
        .post(
            &format!("{path}/waiver"),
            &[("csrf", &secret), ("reason", "x")],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
});

backend_test!(the_office_enters_a_paper_report, |app| async move {
    office(&app).await;
    let (_, found) = app.get("/api/v1/deadlines?unit=A&period=2024").await;
    let deadline = found["items"][0]["id"].as_i64().unwrap();
    let coordinator = token(&app, "coordinator", Some("S")).await;
    let mut browser = Browser::new(&app);
    browser.post("/sign-in", &[("token", &coordinator)]).await;
    let (_, _, html) = browser.get(&format!("/deadlines/{deadline}")).await;
    let path = format!("/deadlines/{deadline}/file");
    assert!(
        html.contains(&path),
        "the deadline page offers the office's filing: {html}"
    );
    let (status, _, html) = browser.get(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Ngày nhận văn bản") && html.contains("Số đến"),
        "{html}"
    );
    let (secret, key) = (csrf(&html), nonce(&html));
    // A day that is not one, then a day in the future: beside the field, what was typed kept, nothing filed.
    for (day, message) in [
        ("31/02/2024", "nhập một ngày"),
        ("2099-01-01", "không được sau hôm nay"),
    ] {
        let (status, _, html) = browser
            .post(
                &path,
                &[
                    ("csrf", &secret),
                    ("nonce", &key),
                    ("received_on", day),
                    ("document_ref", "15/SLĐ"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{day}");
        assert!(
            html.contains(message) && html.contains("value=\"15&#x2f;SLĐ\""),
            "{html}"
        );
    }
    let (_, listed) = app.get("/api/v1/submissions").await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 0);
    let (status, headers, _) = browser
        .post(
            &path,
            &[
                ("csrf", &secret),
                ("nonce", &key),
                ("received_on", "20/11/2024"),
                ("document_ref", "15/SLĐ"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(headers["location"].to_str().unwrap().ends_with("/receipt"));
    // Judged on the day it arrived: on time, filed on the unit's behalf, with its incoming number.
    let (_, listed) = app.get("/api/v1/submissions").await;
    let filed = &listed["items"][0];
    assert_eq!(filed["on_behalf"], true);
    assert_eq!(filed["on_time"], true);
    assert_eq!(filed["received_on"], "2024-11-20");
    assert_eq!(filed["document_ref"], "15/SLĐ");
});

backend_test!(a_units_page_and_the_charts, |app| async move {
    let obligation = office(&app).await;
    paper(&app, obligation, "A", "2023", "2023-11-20").await;
    paper(&app, obligation, "A", "2024", "2024-12-05").await;
    app.create_unit(
        json!({"code": "AB", "name": "UBND quận AB", "kind": "district", "parent": "S"}),
    )
    .await;
    let (status, body) = app
        .post(
            "/api/v1/units/B/succession",
            json!({"successors": ["AB"], "on": "2031-01-01", "kind": "merge"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (coordinator, viewer) = (
        token(&app, "coordinator", Some("S")).await,
        token(&app, "viewer", None).await,
    );
    let mut office_browser = Browser::new(&app);
    office_browser
        .post("/sign-in", &[("token", &coordinator)])
        .await;
    let (status, _, html) = office_browser.get("/units/A").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains("<h1>UBND quận A</h1>") && html.contains("Sở Lao động"),
        "{html}"
    );
    assert!(
        html.contains("baocao@a.gov.vn"),
        "a coordinator sees whom to write to"
    );
    // 2023 on time, 2024 late: the chart reads 100 % and 0 %, in its text and in its label.
    assert!(html.contains("role=\"img\""), "{html}");
    assert!(
        html.contains("2023 100%") && html.contains("2024 0%"),
        "{html}"
    );
    assert!(
        html.contains("Nộp muộn") || html.contains("Quá hạn"),
        "{html}"
    );
    let (_, _, html) = office_browser.get("/units/B").await;
    assert!(
        html.contains("Chuyển giao cho")
            && html.contains("UBND quận AB")
            && html.contains("sáp nhập"),
        "{html}"
    );
    let (_, _, html) = office_browser.get("/units/AB").await;
    assert!(
        html.contains("Tiếp nhận từ") && html.contains("UBND quận B"),
        "{html}"
    );
    let (status, _, _) = office_browser.get("/units/NOPE").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The overview draws the past periods' on-time rates beside each obligation.
    let (_, _, html) = office_browser.get("/").await;
    assert!(
        html.contains("<svg class=\"chart\"") && html.contains("Tỷ lệ nộp đúng hạn các kỳ trước"),
        "{html}"
    );
    // A viewer reads the page without the unit's addresses.
    let mut viewer_browser = Browser::new(&app);
    viewer_browser.post("/sign-in", &[("token", &viewer)]).await;
    let (status, _, html) = viewer_browser.get("/units/A").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("baocao@a.gov.vn"), "{html}");
});
