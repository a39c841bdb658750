//! Benchmark: every web page with the demo data, through the real server on SQLite (the embedded default).
//! Prints figures; asserts nothing.
//!
//!     cargo run --release --example bench_pages -- [--runs 50]
//!
//! Loads `hanbao demo` into a temporary directory, signs in as the Hà Nội department's coordinator (and as one
//! district for the unit's pages), then asks each page `--runs` times over HTTP and prints p50/p95 and its
//! weight (HTML only: the pages have no images, and the one stylesheet is cached). The 3,321-row matrix on
//! PostgreSQL is measured by `bench_compliance`.

mod common;

use std::time::{Duration, Instant};

use chrono::Utc;
use hanbao::config::{Overrides, Settings};
use hanbao::service::{self, Actor};

const ADMIN: &str = "bench-admin-token-0123456789";

fn main() -> anyhow::Result<()> {
    let runs: usize = common::number("--runs", 50)?;
    tokio::runtime::Runtime::new()?.block_on(run(runs))
}

/// Signs in with `token` and returns the session cookie.
async fn sign_in(client: &reqwest::Client, base: &str, token: &str) -> anyhow::Result<String> {
    let response = client
        .post(format!("{base}/sign-in"))
        .form(&[("token", token)])
        .send()
        .await?;
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("hanbao_session="))
        .ok_or_else(|| anyhow::anyhow!("no session cookie ({})", response.status()))?;
    Ok(cookie.split(';').next().unwrap_or_default().to_owned())
}

async fn run(runs: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut settings = Settings::load(None, &Overrides::default())?;
    settings.database = hanbao::config::DatabaseUrl::Sqlite(dir.path().join("hanbao.sqlite3"));
    settings.listen = "127.0.0.1:0".parse()?;
    settings.data_dir = dir.path().to_path_buf();
    settings.admin_token = Some(ADMIN.to_owned().into());
    settings.log = "warn".into();
    let app =
        tokio::task::spawn_blocking(move || hanbao::startup::build_application(settings)).await??;
    let base = format!("http://127.0.0.1:{}", app.port());
    let pool = app.pool();
    tokio::spawn(app.run_until_stopped());
    let fail = |e: service::ServiceError| anyhow::anyhow!("{e:?}");
    let (coordinator, district, deadline, late) = tokio::task::spawn_blocking(move || {
        let mut conn = pool.get()?;
        let now = Utc::now();
        let report = service::demo::load(&mut conn, now).map_err(fail)?;
        println!(
            "demo: {} units, {} deadlines",
            report.units, report.deadlines
        );
        let token = |role: service::Role, unit: &str, conn: &mut hanbao::store::AnyConnection| {
            service::tokens::create(
                conn,
                &Actor::operator("bench"),
                now,
                serde_json::from_value(
                    serde_json::json!({"role": role, "unit": unit, "name": "bench"}),
                )
                .expect("a token request"),
            )
            .map(|t| t.token)
        };
        let coordinator =
            token(service::Role::Coordinator, "HN-SLDTBXH", &mut conn).map_err(fail)?;
        let district = token(service::Role::Reporter, "HN-BADINH", &mut conn).map_err(fail)?;
        let page = service::deadlines::list(
            &mut conn,
            &Actor::operator("bench"),
            now,
            chrono_tz::Asia::Ho_Chi_Minh,
            &service::deadlines::DeadlineQuery {
                unit: Some("HN-BADINH".into()),
                ..Default::default()
            },
            &service::PageParams::default(),
        )
        .map_err(fail)?;
        let deadline = page.items.last().map(|d| d.id).unwrap_or(1);
        let late = page
            .items
            .iter()
            .find(|d| d.status == hanbao::domain::DeadlineStatus::Overdue)
            .map_or(deadline, |d| d.id);
        Ok::<_, anyhow::Error>((coordinator, district, deadline, late))
    })
    .await??;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()?;
    let office = sign_in(&client, &base, &coordinator).await?;
    let unit = sign_in(&client, &base, &district).await?;
    let pages = [
        ("overview", "/".to_owned(), &office),
        ("late list", "/late".to_owned(), &office),
        (
            "matrix (30 districts x 4 years)",
            "/obligations/1".to_owned(),
            &office,
        ),
        (
            "consolidation",
            "/obligations/1/consolidation".to_owned(),
            &office,
        ),
        ("deadline", format!("/deadlines/{late}"), &office),
        ("unit page", "/units/HN-BADINH".to_owned(), &office),
        ("unit's list", "/".to_owned(), &unit),
        ("filing form", format!("/deadlines/{deadline}/file"), &unit),
        ("sign-in", "/sign-in".to_owned(), &unit),
    ];
    println!("{runs} runs of each page, one client, SQLite, debug-free release build:");
    println!("{:<34} {:>8} {:>8} {:>9}", "page", "p50 ms", "p95 ms", "KB");
    for (name, path, cookie) in pages {
        let mut times = Vec::with_capacity(runs);
        let mut size = 0;
        for _ in 0..runs {
            let t = Instant::now();
            let response = client
                .get(format!("{base}{path}"))
                .header("cookie", cookie.as_str())
                .header("accept-language", "vi")
                .send()
                .await?;
            let status = response.status();
            let body = response.bytes().await?;
            times.push(t.elapsed());
            anyhow::ensure!(status.is_success(), "{path}: {status}");
            size = body.len();
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{name:<34} {:>8.1} {:>8.1} {:>9.1}",
            ms(times[times.len() / 2]),
            ms(times[(times.len() * 95 / 100).min(times.len() - 1)]),
            size as f64 / 1024.0
        );
    }
    Ok(())
}
