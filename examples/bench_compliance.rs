//! Benchmark: the compliance answers on a national data set, through the real server on PostgreSQL. Prints
//! figures; asserts nothing.
//!
//!     cargo run --release --example bench_compliance -- [--communes 3321] [--years 5] [--postgres URL]
//!
//! A ministry, 34 provinces and `--communes` communes under them, one monthly obligation over `--years` years
//! (3,321 × 60 ≈ 200,000 deadlines), about 60 % submitted (5 % of those late), 2 % waived. Then, over HTTP:
//! one page of 1,000 rows × 12 periods (20 times, p50/p95), the totals of the whole obligation, the XLSX of every
//! commune × 12 months (time and the process's peak memory), and the CSV of the whole obligation (rows/s).
//! Last, PostgreSQL's plans of the page's two queries and of the whole obligation's totals (EXPLAIN ANALYZE).

mod common;

use std::time::{Duration, Instant};

use chrono::Utc;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use hanbao::config::{DatabaseUrl, Overrides, Settings};
use hanbao::domain::unit::UnitKind;
use hanbao::service::{self, Actor};
use hanbao::store;
use serde_json::json;

const ADMIN: &str = "bench-admin-token-0123456789";

fn main() -> anyhow::Result<()> {
    let communes: usize = common::number("--communes", 3321)?;
    let years: i32 = common::number("--years", 5)?;
    let admin = common::postgres_admin_url()
        .ok_or_else(|| anyhow::anyhow!("pass --postgres URL or set HANBAO_TEST_POSTGRES_URL"))?;
    common::with_fresh_postgres(&admin, "compliance", |url| {
        tokio::runtime::Runtime::new()?.block_on(run(url, communes, years))
    })
}

async fn run(url: &str, communes: usize, years: i32) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut settings = Settings::load(None, &Overrides::default())?;
    settings.database = DatabaseUrl::Postgres(url.to_owned());
    settings.listen = "127.0.0.1:0".parse()?;
    settings.data_dir = dir.path().to_path_buf();
    settings.admin_token = Some(ADMIN.to_owned().into());
    settings.log = "warn".into();
    let seed_settings = settings.clone();
    let app =
        tokio::task::spawn_blocking(move || hanbao::startup::build_application(settings)).await??;
    let base = format!("http://127.0.0.1:{}/api/v1", app.port());
    tokio::spawn(app.run_until_stopped());
    let started = Instant::now();
    let (obligation, deadlines) =
        tokio::task::spawn_blocking(move || seed(&seed_settings, communes, years)).await??;
    // Statuses by SQL: the filing path is measured by bench_submissions; here only the answers.
    let mut pg = PgConnection::establish(url)?;
    pg.batch_execute(
        "UPDATE deadlines SET state = 'submitted', submitted_at = due_at - interval '2 days' WHERE id % 20 < 11;
         UPDATE deadlines SET state = 'late', submitted_at = due_at + interval '3 days' WHERE id % 20 = 11;
         UPDATE deadlines SET state = 'waived', waived_reason = 'bench', waived_at = due_at - interval '9 days'
           WHERE id % 50 = 13 AND submitted_at IS NULL;",
    )?;
    pg.batch_execute("VACUUM ANALYZE deadlines")?;
    println!(
        "seeded {communes} communes, 1 monthly obligation over {years} years: {deadlines} deadlines in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()?;
    let get = |path: String| {
        let client = client.clone();
        let base = base.clone();
        async move {
            let t = Instant::now();
            let response = client
                .get(format!("{base}{path}"))
                .bearer_auth(ADMIN)
                .send()
                .await?;
            let status = response.status();
            let bytes = response.bytes().await?;
            anyhow::ensure!(status.is_success(), "{path}: {status}");
            Ok::<_, anyhow::Error>((t.elapsed(), bytes))
        }
    };
    let year = 2026;
    let page = format!(
        "/compliance?obligation={obligation}&from_period={year}01&to_period={year}12&limit=1000"
    );
    let mut times = Vec::new();
    for _ in 0..20 {
        times.push(get(page.clone()).await?.0);
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "one page of 1,000 rows x 12 periods (with the totals of all {communes} rows): p50 {:.0} ms, p95 {:.0} ms",
        ms(times[times.len() / 2]),
        ms(times[times.len() * 95 / 100])
    );
    let (took, _) = get(format!("/compliance?obligation={obligation}&limit=1")).await?;
    println!(
        "the totals of the whole obligation ({} periods): {:.0} ms",
        years * 12,
        ms(took)
    );
    let before = peak_rss_kb();
    let (took, bytes) = get(format!(
        "/compliance?obligation={obligation}&from_period={year}01&to_period={year}12&format=xlsx"
    ))
    .await?;
    println!(
        "XLSX of {communes} communes x 12 months: {:.2} s, {} KB; process peak RSS {} MB (before: {} MB)",
        took.as_secs_f64(),
        bytes.len() / 1024,
        peak_rss_kb() / 1024,
        before / 1024
    );
    let (took, bytes) = get(format!("/compliance?obligation={obligation}&format=csv")).await?;
    let lines = bytes
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        .saturating_sub(1);
    println!(
        "CSV of the whole obligation: {lines} rows in {:.2} s = {:.0} rows/s",
        took.as_secs_f64(),
        lines as f64 / took.as_secs_f64()
    );
    // The office's matrix page of the same 12 months: one page of 100 of the 3,321 rows, rendered.
    let signed_in = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?
        .post(base.replace("/api/v1", "/sign-in"))
        .form(&[("token", ADMIN)])
        .send()
        .await?;
    let cookie = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("hanbao_session="))
        .and_then(|v| v.split(';').next())
        .ok_or_else(|| anyhow::anyhow!("no session ({})", signed_in.status()))?
        .to_owned();
    let matrix = base.replace(
        "/api/v1",
        &format!("/obligations/{obligation}?from_period={year}01&to_period={year}12"),
    );
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..20 {
        let t = Instant::now();
        let response = client.get(&matrix).header("cookie", &cookie).send().await?;
        anyhow::ensure!(
            response.status().is_success(),
            "matrix page: {}",
            response.status()
        );
        size = response.bytes().await?.len();
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "the matrix page (100 of {communes} rows x 12 months, HTML): p50 {:.0} ms, p95 {:.0} ms, {} KB",
        ms(times[times.len() / 2]),
        ms(times[times.len() * 95 / 100]),
        size / 1024
    );

    let mut conn = store::AnyConnection::Pg(PgConnection::establish(url)?);
    let filter = |range: Option<(String, String)>| store::compliance::ComplianceFilter {
        as_of: Utc::now().into(),
        current: true,
        plan_id: None,
        obligation_id: Some(obligation),
        recipient_id: None,
        unit_id: None,
        parent_id: None,
        coordinator_id: None,
        period: None,
        period_range: range.map(|(a, b)| (a, b, store::compliance::PeriodShape::Month)),
        status: None,
    };
    let (cells, totals) = store::compliance::explain(
        &mut conn,
        &filter(Some((format!("{year}01"), format!("{year}12")))),
        1000,
    )?;
    println!("\nEXPLAIN ANALYZE, the page's cells (1,000 rows x 12 periods):\n{cells}");
    println!("\nEXPLAIN ANALYZE, the page's totals (12 periods):\n{totals}");
    let (_, totals) = store::compliance::explain(&mut conn, &filter(None), 1)?;
    println!("\nEXPLAIN ANALYZE, the totals of the whole obligation:\n{totals}");
    Ok(())
}

/// This process's peak resident memory (the server runs in it), in KB.
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

/// The ministry M, provinces P00–P33, communes C0000… spread over them, and the monthly obligation; returns its
/// id and how many deadlines it made.
fn seed(settings: &Settings, communes: usize, years: i32) -> anyhow::Result<(i64, usize)> {
    let pool = store::connect(&settings.database, 1)?;
    let mut conn = pool.get()?;
    let actor = Actor::operator("bench");
    let now = Utc::now();
    let fail = |e: service::ServiceError| anyhow::anyhow!("{e:?}");
    common::unit(&mut conn, &actor, "M", UnitKind::Department, None, None)?;
    for p in 0..34 {
        common::unit(
            &mut conn,
            &actor,
            &format!("P{p:02}"),
            UnitKind::Province,
            Some("M"),
            None,
        )?;
    }
    for c in 0..communes {
        common::unit(
            &mut conn,
            &actor,
            &format!("C{c:04}"),
            UnitKind::Commune,
            Some(&format!("P{:02}", c % 34)),
            None,
        )?;
    }
    let plan = service::plans::create(
        &mut conn,
        &actor,
        now,
        serde_json::from_value(
            json!({"number": "bench", "title": "bench", "coordinator": "M",
            "starts_on": "2026-01-01", "ends_on": format!("{}-12-31", 2025 + years)}),
        )?,
    )
    .map_err(fail)?;
    let obligation = service::obligations::create(
        &mut conn,
        &actor,
        now,
        plan.id,
        serde_json::from_value(json!({"title": "monthly", "recipient": "M",
            "reporters": {"group": {"parent": "M", "kinds": ["commune"]}},
            "schedule": {"period_type": "monthly", "due": {"rule": "after_period_end", "days": 10}}}))?,
    )
    .map_err(fail)?;
    Ok((obligation.id, obligation.deadlines as usize))
}
