//! The pages in a real browser: headless Chromium driven over WebDriver (Debian's `chromium` and
//! `chromium-driver`, installed by `.ci/run`). Each step leaves a screenshot in `target/screenshots/` for a
//! reviewer to look at. Without a chromedriver the tests say they were skipped; under `CI=true` that is a
//! failure.

use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::compliance::office;
use crate::helpers::{Backend, TestApp};
use crate::submissions::token;

/// A chromedriver on a free port, stopped when dropped.
struct Driver {
    process: std::process::Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn chromedriver() -> Option<std::path::PathBuf> {
    let from_env = std::env::var_os("HANBAO_TEST_CHROMEDRIVER").map(std::path::PathBuf::from);
    from_env
        .into_iter()
        .chain(["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"].map(Into::into))
        .find(|p| p.is_file())
}

fn chromium() -> Option<std::path::PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .map(std::path::PathBuf::from)
        .into_iter()
        .find(|p| p.is_file())
}

/// Starts chromedriver, or says why not (a failure under CI).
async fn driver(test: &str) -> Option<Driver> {
    let (Some(driver), Some(_)) = (chromedriver(), chromium()) else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{test}: no chromedriver/chromium, and CI=true: install Debian's chromium and chromium-driver"
        );
        eprintln!("{test}: SKIPPED — no chromedriver or chromium on this machine (apt-get install chromium chromium-driver)");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // Owned by `Driver` at once: its Drop kills and waits for it on every path.
    let driver = Driver {
        process: std::process::Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
        port,
    };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Some(driver);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not listen on {port}");
}

/// A fresh headless browser (its own profile: no cookies), preferring Vietnamese, as root needs it.
async fn browser(driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium().unwrap(),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1280,900"],
            "prefs": {"intl.accept_languages": "vi-VN,vi"},
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a browser session")
}

/// Saves a screenshot of the page for a reviewer, after checking the page passes the accessibility check.
async fn screenshot(client: &Client, name: &str) {
    accessible(client, name).await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = client.screenshot().await.unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

/// A basic accessibility check of the page as the browser renders it (WCAG 2.1 AA, two criteria): every visible
/// form control has a label (`label[for]`, an enclosing label, `aria-label` or `aria-labelledby`; 1.3.1, 4.1.2)
/// and every visible piece of text contrasts at least 4.5:1 with the background it sits on (1.4.3), computed
/// from the styles in force.
const ACCESSIBILITY: &str = r#"
const bad = [];
const shown = el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
  if (!shown(el)) continue;
  const labelled = (el.id && document.querySelector('label[for="' + el.id + '"]')) || el.closest('label')
    || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
  if (!labelled) bad.push('no label: ' + (el.name || el.outerHTML.slice(0, 80)));
}
const rgb = c => (c.match(/[\d.]+/g) || ['0', '0', '0', '0']).map(Number);
const lum = c => {
  const [r, g, b] = rgb(c).slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};
const background = el => {
  for (; el; el = el.parentElement) {
    const c = getComputedStyle(el).backgroundColor, v = rgb(c);
    if (v.length < 4 || v[3] > 0) return c;
  }
  return 'rgb(255, 255, 255)';
};
for (const el of document.querySelectorAll('body *')) {
  if (!shown(el) || el.closest('svg, .visually-hidden')) continue;
  if (!Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim())) continue;
  const a = lum(getComputedStyle(el).color), b = lum(background(el));
  const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  if (ratio < 4.5) bad.push('contrast ' + ratio.toFixed(2) + ':1 ' + el.tagName + ' "' + el.textContent.trim().slice(0, 40) + '"');
}
return bad;
"#;

async fn accessible(client: &Client, page: &str) {
    let found = client.execute(ACCESSIBILITY, vec![]).await.unwrap();
    let problems: Vec<String> = serde_json::from_value(found).unwrap();
    assert!(problems.is_empty(), "{page}: {problems:#?}");
}

async fn text(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

/// Waits (up to 10 s) until the element `css` shows `needle`: after a click that posts a form and comes back to
/// a page with the same elements, waiting for an element would return before the new page is there.
async fn wait_for_text(client: &Client, css: &str, needle: &str) -> String {
    let started = std::time::Instant::now();
    loop {
        if let Ok(element) = client.find(Locator::Css(css)).await {
            if let Ok(shown) = element.text().await {
                if shown.contains(needle) {
                    return shown;
                }
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "`{needle}` never showed in {css}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Signs in with `token` through the sign-in page.
async fn sign_in(client: &Client, app: &TestApp, token: &str) {
    client.goto(&app.url("/sign-in")).await.unwrap();
    client
        .find(Locator::Id("token"))
        .await
        .unwrap()
        .send_keys(token)
        .await
        .unwrap();
    client
        .find(Locator::Css("form.narrow button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client.wait().for_element(Locator::Css("h1")).await.unwrap();
}

/// The mission in a browser: the office signs in and sees its overview; a unit opens its list, files with a
/// field error, corrects it with the keyboard only, gets the receipt; the office's matrix shows that cell on
/// time; English by the switch; a revoked token's session is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_and_a_unit_in_a_browser() {
    let Some(driver) = driver("browser::the_office_and_a_unit_in_a_browser").await else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
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
                   "form": {"type": "object", "required": ["so"], "properties": {
                       "so": {"type": "integer", "title": "Số hoạt động", "minimum": 0,
                              "description": "Tổng số hoạt động truyền thông trong năm"}}}}),
        )
        .await;
    let obligation = obligation["id"].as_i64().unwrap();
    let coordinator = token(&app, "coordinator", Some("S")).await;
    let (_, issued) = app
        .post(
            "/api/v1/tokens",
            json!({"role": "reporter", "unit": "A", "name": "Văn thư quận A"}),
        )
        .await;
    let reporter = issued["token"].as_str().unwrap().to_owned();

    // The office.
    let office_browser = browser(&driver).await;
    sign_in(&office_browser, &app, &coordinator).await;
    assert_eq!(text(&office_browser, "h1").await, "Tổng quan");
    assert!(office_browser.title().await.unwrap().contains("Tổng quan"));
    screenshot(&office_browser, "01-office-overview").await;

    // The unit: its list, the form, a field error, then the receipt.
    let unit = browser(&driver).await;
    sign_in(&unit, &app, &reporter).await;
    assert_eq!(text(&unit, "h1").await, "Báo cáo cần nộp");
    screenshot(&unit, "02-unit-deadlines").await;
    let (_, found) = app
        .get(&format!(
            "/api/v1/deadlines?obligation={obligation}&unit=A&period=2030"
        ))
        .await;
    let deadline = found["items"][0]["id"].as_i64().unwrap();
    unit.goto(&app.url(&format!("/deadlines/{deadline}/file")))
        .await
        .unwrap();
    let field = unit.find(Locator::Id("f-so")).await.unwrap();
    // The label is bound to the input, and the hint described.
    assert_eq!(text(&unit, "label[for=f-so]").await, "Số hoạt động");
    assert_eq!(
        field
            .attr("aria-describedby")
            .await
            .unwrap()
            .unwrap()
            .trim(),
        "f-so-hint"
    );
    field.send_keys("mười").await.unwrap();
    unit.find(Locator::Css("form.narrow button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    unit.wait()
        .for_element(Locator::Css(".error-summary"))
        .await
        .unwrap();
    assert!(text(&unit, ".error-summary")
        .await
        .contains("Số hoạt động phải là số nguyên"));
    assert!(unit.title().await.unwrap().starts_with("Lỗi:"));
    screenshot(&unit, "03-filing-form-error").await;
    // Keyboard only: focus the field, replace its value, and submit with Enter.
    let field = unit.find(Locator::Id("f-so")).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys("12\u{E007}").await.unwrap();
    unit.wait()
        .for_element(Locator::Css(".panel"))
        .await
        .unwrap();
    assert!(text(&unit, ".panel").await.contains("Đã nộp báo cáo"));
    screenshot(&unit, "04-receipt").await;

    // The office's matrix shows that cell on time.
    office_browser
        .goto(&app.url(&format!(
            "/obligations/{obligation}?from_period=2030&to_period=2030"
        )))
        .await
        .unwrap();
    let first_row = text(&office_browser, ".matrix tbody tr").await;
    assert!(
        first_row.contains("UBND quận A") && first_row.contains("Đúng hạn"),
        "{first_row}"
    );
    screenshot(&office_browser, "05-office-matrix").await;

    // English by the switch.
    office_browser
        .find(Locator::Css("a[hreflang=en]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    office_browser
        .wait()
        .for_element(Locator::Css("html[lang=en]"))
        .await
        .unwrap();
    assert!(text(&office_browser, ".matrix tbody tr")
        .await
        .contains("On time"));
    screenshot(&office_browser, "06-office-matrix-english").await;

    // The unit's token revoked: its session is gone at the next page.
    let (status, _) = app
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/tokens/{}", issued["id"]),
            None,
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK);
    unit.goto(&app.url("/")).await.unwrap();
    unit.wait().for_element(Locator::Id("token")).await.unwrap();
    assert!(unit
        .current_url()
        .await
        .unwrap()
        .path()
        .ends_with("/sign-in"));

    office_browser.close().await.unwrap();
    unit.close().await.unwrap();
}

/// From the letter to version 2, in a browser, on the real binary: a unit opens the filing link of a reminder in
/// the outbox, lands on the page with one button, files with a field error and corrects it; the office (signed
/// in) returns the report with a comment; the unit sees the comment in its form, filled with what it sent, and
/// files version 2. A form posted without its CSRF secret is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_follows_its_letter_and_files_again_after_a_return() {
    let Some(driver) =
        driver("browser::a_unit_follows_its_letter_and_files_again_after_a_return").await
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    crate::cli::demo_as_of(dir.path());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let public = format!("http://127.0.0.1:{port}");
    let letters = crate::cli::reminders_with_links(dir.path(), &public);
    let link = letters[0]
        .text_body
        .split_whitespace()
        .find(|w| w.starts_with(&format!("{public}/l/")))
        .expect("a link in the reminder")
        .to_owned();
    let admin = "browser-test-admin-token-0123456789";
    let mut server = crate::cli::serve(dir.path(), port, admin);
    let started = std::time::Instant::now();
    while reqwest::get(format!("{public}/healthz")).await.is_err() {
        assert!(started.elapsed().as_secs() < 30, "the server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The unit opens its letter's link: one button, then its form.
    let unit = browser(&driver).await;
    unit.goto(&link).await.unwrap();
    screenshot(&unit, "07-letter-link-landing").await;
    unit.find(Locator::Css("main form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    unit.wait()
        .for_element(Locator::Id("f-activities"))
        .await
        .unwrap();
    let form_url = unit.current_url().await.unwrap();
    assert!(
        !form_url.as_str().contains("/l/"),
        "the token has left the address bar"
    );
    let deadline = form_url
        .path()
        .trim_start_matches("/deadlines/")
        .trim_end_matches("/file")
        .to_owned();
    // One field error, then corrected.
    let field = unit.find(Locator::Id("f-activities")).await.unwrap();
    field.send_keys("-3").await.unwrap();
    unit.find(Locator::Css("form.narrow button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    unit.wait()
        .for_element(Locator::Css(".error-summary"))
        .await
        .unwrap();
    assert!(text(&unit, ".error-summary")
        .await
        .contains("Số hoạt động truyền thông"));
    let field = unit.find(Locator::Id("f-activities")).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys("4").await.unwrap();
    unit.find(Locator::Id("f-summary"))
        .await
        .unwrap()
        .send_keys("Hai hội nghị, hai đợt phát tờ rơi")
        .await
        .unwrap();
    unit.find(Locator::Css("form.narrow button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    unit.wait()
        .for_element(Locator::Css(".panel"))
        .await
        .unwrap();
    assert!(text(&unit, ".panel").await.contains("Đã nộp báo cáo"));
    screenshot(&unit, "08-receipt-from-link").await;

    // The office returns it with a comment.
    let office = browser(&driver).await;
    office.goto(&format!("{public}/sign-in")).await.unwrap();
    office
        .find(Locator::Id("token"))
        .await
        .unwrap()
        .send_keys(admin)
        .await
        .unwrap();
    office
        .find(Locator::Css("form.narrow button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    office.wait().for_element(Locator::Css("h1")).await.unwrap();
    office
        .goto(&format!("{public}/deadlines/{deadline}"))
        .await
        .unwrap();
    screenshot(&office, "09-office-deadline").await;
    assert!(
        text(&office, "main")
            .await
            .contains("Đơn vị, qua liên kết trong thư"),
        "who filed, in words"
    );
    office
        .find(Locator::Id("comment"))
        .await
        .unwrap()
        .send_keys("Đề nghị bổ sung số người tham dự")
        .await
        .unwrap();
    office
        .find(Locator::Css("button[value=return]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&office, ".history", "Trả lại phiên bản 1").await;

    // The unit sees the comment, its answers kept, and files version 2.
    unit.goto(&format!("{public}/deadlines/{deadline}/file"))
        .await
        .unwrap();
    unit.wait()
        .for_element(Locator::Css(".notice"))
        .await
        .unwrap();
    assert!(text(&unit, ".notice")
        .await
        .contains("Đề nghị bổ sung số người tham dự"));
    let field = unit.find(Locator::Id("f-activities")).await.unwrap();
    assert_eq!(field.prop("value").await.unwrap().as_deref(), Some("4"));
    screenshot(&unit, "10-returned-form").await;
    field.clear().await.unwrap();
    field.send_keys("5").await.unwrap();
    unit.find(Locator::Css("form.narrow button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    unit.wait()
        .for_element(Locator::Css(".panel"))
        .await
        .unwrap();
    assert!(
        text(&unit, "main").await.contains("Phiên bản\n2"),
        "version 2: {}",
        text(&unit, "main").await
    );
    let (_, versions) = {
        let response = reqwest::Client::new()
            .get(format!("{public}/api/v1/deadlines/{deadline}/submissions"))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap();
        (
            response.status(),
            response.json::<serde_json::Value>().await.unwrap(),
        )
    };
    let versions = versions["items"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[1]["payload"]["activities"], 5);

    // A form posted without its CSRF secret: refused, nothing changed.
    office
        .goto(&format!("{public}/deadlines/{deadline}"))
        .await
        .unwrap();
    office
        .execute(
            "document.querySelectorAll('input[name=csrf]').forEach(e => e.remove());",
            vec![],
        )
        .await
        .unwrap();
    office
        .find(Locator::Css("button[value=accept]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&office, "h1", "Không thực hiện được").await;
    assert!(text(&office, "main").await.contains("Biểu mẫu đã cũ"));
    screenshot(&office, "11-csrf-refused").await;
    let response = reqwest::Client::new()
        .get(format!("{public}/api/v1/deadlines/{deadline}/submissions"))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    let versions: serde_json::Value = response.json().await.unwrap();
    assert!(
        versions["items"][1]["review"].is_null(),
        "the accept did not happen"
    );

    office.close().await.unwrap();
    unit.close().await.unwrap();
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    server.wait().unwrap();
}
