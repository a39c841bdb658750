//! Benchmark: many concurrent clients filing `POST /api/v1/submissions` against PostgreSQL, then, in the same
//! run and on the same server, the database ceiling for one filing (`../shared/bench`: pgbench running the six
//! statements a filing cannot do without), so the ratio shows how close the service gets to the database's own
//! limit. Prints figures; asserts nothing.
//!
//!     cargo run --release --example bench_submissions -- [--clients 32] [--seconds 10] [--units 1000] [--pool N] [--postgres URL] [--ceiling DIR]
//!
//! `--postgres` defaults to $HANBAO_TEST_POSTGRES_URL; fresh databases are created there and dropped after.
//! `--ceiling` defaults to `../shared/bench`; pgbench and psql must be on the PATH (Debian: postgresql-client).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use hanbao::config::{DatabaseUrl, Overrides, Settings};
use hanbao::domain::unit::UnitKind;
use hanbao::service::{self, Actor};
use hanbao::store;
use serde_json::json;

const ADMIN: &str = "bench-admin-token-0123456789";

fn main() -> anyhow::Result<()> {
    let clients: usize = common::number("--clients", 32)?;
    let seconds: u64 = common::number("--seconds", 10)?;
    let units: usize = common::number("--units", 1000)?;
    let admin = common::postgres_admin_url()
        .ok_or_else(|| anyhow::anyhow!("pass --postgres URL or set HANBAO_TEST_POSTGRES_URL"))?;
    common::with_fresh_postgres(&admin, "submit", |url| {
        tokio::runtime::Runtime::new()?.block_on(run(&admin, url, clients, seconds, units))
    })
}

async fn run(
    admin: &str,
    url: &str,
    clients: usize,
    seconds: u64,
    units: usize,
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut settings = Settings::load(None, &Overrides::default())?;
    settings.database = DatabaseUrl::Postgres(url.to_owned());
    settings.listen = "127.0.0.1:0".parse()?;
    settings.data_dir = dir.path().to_path_buf();
    settings.admin_token = Some(ADMIN.to_owned().into());
    // --pool: database connections of the service (default: the configured pool_size).
    settings.pool_size = common::number("--pool", settings.pool_size)?;
    settings.log = "warn".into();
    let seed_settings = settings.clone();
    let app =
        tokio::task::spawn_blocking(move || hanbao::startup::build_application(settings)).await??;
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());

    let tokens = tokio::task::spawn_blocking(move || seed(&seed_settings, units)).await??;
    println!("seeded {units} units × 24 monthly deadlines, one reporter token each");

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    let tokens = Arc::new(tokens);
    let stop = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (client, tokens, base) = (client.clone(), tokens.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            let mut n = c;
            while Instant::now() < stop {
                let unit = n % tokens.len();
                let month = 1 + (n / tokens.len()) % 24;
                let period = format!("{}{:02}", 2030 + (month - 1) / 12, (month - 1) % 12 + 1);
                let t = Instant::now();
                let response = client
                    .post(format!("{base}/api/v1/submissions"))
                    .bearer_auth(&tokens[unit])
                    .json(&json!({"obligation_id": 1, "period": period, "payload": {"activities": n}}))
                    .send()
                    .await;
                match response {
                    Ok(r) if r.status() == 201 => latencies.push(t.elapsed()),
                    _ => errors += 1,
                }
                n += clients;
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (l, e) = task.await?;
        latencies.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let service_tps = latencies.len() as f64 / elapsed;
    println!(
        "service: {} submissions in {elapsed:.1} s with {clients} clients = {service_tps:.0}/s; p50 {:.1} ms, p99 {:.1} ms; {errors} errors",
        latencies.len(),
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
    );

    match ceiling_dir() {
        Some(bench) => {
            println!("ceiling: {} (pgbench, {clients} clients, {seconds} s) …", bench.display());
            match ceiling(admin, &bench, clients, seconds) {
                Ok(c) => {
                    println!(
                        "ceiling: {:.0}/s; p50 {:.1} ms, p99 {:.1} ms ({} transactions)",
                        c.tps, c.p50_ms, c.p99_ms, c.transactions
                    );
                    println!(
                        "service / ceiling = {:.0} % (goal: at least 70 %); service p99 {:.1} ms (goal: under 50 ms)",
                        100.0 * service_tps / c.tps,
                        pct(0.99).as_secs_f64() * 1000.0
                    );
                }
                Err(e) => println!("ceiling not measured: {e:#}"),
            }
        }
        None => println!(
            "ceiling not measured: pass --ceiling DIR (the folder of submission.pgbench and ceiling-schema.sql)"
        ),
    }
    Ok(())
}

/// The ceiling's folder: `--ceiling DIR`, else `../shared/bench` when it is there.
fn ceiling_dir() -> Option<std::path::PathBuf> {
    common::arg("--ceiling")
        .map(std::path::PathBuf::from)
        .or_else(|| Some(std::path::PathBuf::from("../shared/bench")))
        .filter(|d| {
            d.join("submission.pgbench").is_file() && d.join("ceiling-schema.sql").is_file()
        })
}

/// What the database's own best filing gave.
struct Ceiling {
    tps: f64,
    p50_ms: f64,
    p99_ms: f64,
    transactions: usize,
}

/// The database ceiling for one filing, measured now on the same server: the six statements of
/// `submission.pgbench` on `ceiling-schema.sql`'s 1,000,000 deadlines, in a throw-away database, run by pgbench
/// with prepared statements, latencies from its per-transaction log.
fn ceiling(
    admin: &str,
    bench: &std::path::Path,
    clients: usize,
    seconds: u64,
) -> anyhow::Result<Ceiling> {
    common::with_fresh_postgres(admin, "ceiling", |url| {
        let load = std::process::Command::new("psql")
            .args(["-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f"])
            .arg(bench.join("ceiling-schema.sql"))
            .output()?;
        anyhow::ensure!(
            load.status.success(),
            "psql: {}",
            String::from_utf8_lossy(&load.stderr)
        );
        let logs = tempfile::tempdir()?;
        let run = std::process::Command::new("pgbench")
            .args([
                "-n",
                "-M",
                "prepared",
                "-c",
                &clients.to_string(),
                "-j",
                "2",
            ])
            .args(["-T", &seconds.to_string(), "-l", "--log-prefix"])
            .arg(logs.path().join("tx"))
            .arg("-f")
            .arg(bench.join("submission.pgbench"))
            .arg(url)
            .output()?;
        anyhow::ensure!(
            run.status.success(),
            "pgbench: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let text = String::from_utf8_lossy(&run.stdout);
        let tps: f64 = text
            .lines()
            .find_map(|l| l.strip_prefix("tps = "))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("no tps in pgbench's output: {text}"))?;
        // Each log line: client id, transaction number, latency in microseconds, …
        let mut micros: Vec<u64> = Vec::new();
        for entry in std::fs::read_dir(logs.path())? {
            let log = std::fs::read_to_string(entry?.path())?;
            micros.extend(
                log.lines()
                    .filter_map(|l| l.split_whitespace().nth(2)?.parse::<u64>().ok()),
            );
        }
        anyhow::ensure!(!micros.is_empty(), "pgbench wrote no transaction log");
        micros.sort_unstable();
        let at = |p: f64| {
            micros[((micros.len() as f64 * p) as usize).min(micros.len() - 1)] as f64 / 1000.0
        };
        Ok(Ceiling {
            tps,
            p50_ms: at(0.50),
            p99_ms: at(0.99),
            transactions: micros.len(),
        })
    })
}

/// S, units U0000…, a plan and a monthly obligation 2030–2031 (ids 1), and a reporter token per unit.
fn seed(settings: &Settings, units: usize) -> anyhow::Result<Vec<String>> {
    let pool = store::connect(&settings.database, 1)?;
    let mut conn = pool.get()?;
    let now = Utc::now();
    let actor = Actor::operator("bench");
    let fail = |e: service::ServiceError| anyhow::anyhow!("{e:?}");
    let contacts = |code: &str| {
        Some(json!({"reporters": [format!("{}@bench.example", code.to_lowercase())], "heads": []}))
    };
    common::unit(
        &mut conn,
        &actor,
        "S",
        UnitKind::Department,
        None,
        contacts("S"),
    )?;
    let mut tokens = Vec::new();
    for i in 0..units {
        let code = format!("U{i:04}");
        common::unit(
            &mut conn,
            &actor,
            &code,
            UnitKind::District,
            Some("S"),
            contacts(&code),
        )?;
    }
    let plan = service::plans::create(
        &mut conn,
        &actor,
        now,
        serde_json::from_value(
            json!({"number": "bench", "title": "bench", "coordinator": "S",
                                      "starts_on": "2030-01-01", "ends_on": "2031-12-31"}),
        )?,
    )
    .map_err(fail)?;
    service::obligations::create(
        &mut conn,
        &actor,
        now,
        plan.id,
        serde_json::from_value(json!({"title": "monthly", "recipient": "S",
            "reporters": {"group": {"parent": "S", "kinds": ["district"]}},
            "schedule": {"period_type": "monthly", "due": {"rule": "after_period_end", "days": 10}}}))?,
    )
    .map_err(fail)?;
    for i in 0..units {
        let input = serde_json::from_value(
            json!({"role": "reporter", "unit": format!("U{i:04}"), "name": format!("U{i:04}")}),
        )?;
        tokens.push(
            service::tokens::create(&mut conn, &actor, now, input)
                .map_err(fail)?
                .token,
        );
    }
    Ok(tokens)
}
