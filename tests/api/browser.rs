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

async fn screenshot(client: &Client, name: &str) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = client.screenshot().await.unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
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
