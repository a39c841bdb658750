//! Benchmark: many concurrent clients filing `POST /api/v1/submissions` against PostgreSQL, and beside it
//! `pgbench` running the same SQL statements as one submission, so the ratio shows how close the service gets to
//! the database's own limit. Prints figures; asserts nothing.
//!
//!     cargo run --release --example bench_submissions -- [--clients 32] [--seconds 10] [--units 1000] [--pool N] [--postgres URL]
//!
//! `--postgres` defaults to $HANBAO_TEST_POSTGRES_URL; a fresh database is created there and dropped after.
//! pgbench must be on the PATH (Debian: postgresql-contrib or postgresql-client).

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
        tokio::runtime::Runtime::new()?.block_on(run(url, clients, seconds, units))
    })
}

async fn run(url: &str, clients: usize, seconds: u64, units: usize) -> anyhow::Result<()> {
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

    let script = dir.path().join("submission.sql");
    std::fs::write(&script, pgbench_script(units))?;
    let output = std::process::Command::new("pgbench")
        .args([
            "-n",
            "-r",
            "-c",
            &clients.to_string(),
            "-j",
            "2",
            "-T",
            &seconds.to_string(),
            "-f",
        ])
        .arg(&script)
        .arg(url)
        .output();
    match output {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            let tps: f64 = text
                .lines()
                .find_map(|l| l.strip_prefix("tps = "))
                .and_then(|l| l.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0.0);
            let latency = text
                .lines()
                .find(|l| l.starts_with("latency average"))
                .unwrap_or("");
            println!("pgbench: the same statements as one submission: {tps:.0}/s ({latency})");
            // Per-statement latencies (pgbench -r): where a submission's database time goes.
            let mut statements: Vec<(f64, &str)> = text
                .lines()
                .filter_map(|l| {
                    // "   0.123   0  SELECT …": latency in ms, failures (PostgreSQL 15+), statement.
                    let mut parts = l.split_whitespace();
                    let ms = parts.next()?.parse::<f64>().ok()?;
                    let sql = l
                        .find(|c: char| c.is_ascii_alphabetic() || c == '\\')
                        .map(|i| &l[i..])?;
                    Some((ms, sql.trim()))
                })
                .collect();
            statements.sort_by(|a, b| b.0.total_cmp(&a.0));
            for (ms, sql) in statements.iter().take(4) {
                println!(
                    "pgbench:   {ms:>7.3} ms  {}",
                    sql.chars().take(90).collect::<String>()
                );
            }
            if tps > 0.0 {
                println!("service / pgbench = {:.0} %", 100.0 * service_tps / tps);
            }
        }
        Ok(out) => println!("pgbench failed: {}", String::from_utf8_lossy(&out.stderr)),
        Err(e) => println!("pgbench not run ({e}); install postgresql-client to compare"),
    }
    Ok(())
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

/// The statements hanbao runs for one reporter submission (the pool's check-out probes included; the token's
/// last_used_at write happens once a minute, so not here), in pgbench's dialect. Deadline ids follow the seed's
/// insertion order (period-major, then unit); the app finds the deadline by its unique (obligation, unit,
/// period) key, an index lookup of the same cost as the primary key used here.
fn pgbench_script(units: usize) -> String {
    format!(
        r#"\set u random(2, {last_unit})
\set m random(1, 24)
\set d (:m - 1) * {units} + :u - 1
SELECT 1;
SELECT id, name, role, unit_id, prefix, secret_hash, created_at, last_used_at, revoked_at FROM tokens WHERE secret_hash = md5(:u::text) AND revoked_at IS NULL LIMIT 1;
SELECT 1;
BEGIN;
SELECT o.*, p.* FROM obligations o JOIN plans p ON p.id = o.plan_id WHERE o.id = 1 LIMIT 1;
SELECT * FROM units WHERE id = :u LIMIT 1;
UPDATE deadlines SET updated_at = now() WHERE id = :d RETURNING *;
SELECT count(*) FROM submissions WHERE deadline_id = :d;
INSERT INTO submissions (deadline_id, unit_id, version, payload, note, received_at, on_time, filed_by, on_behalf) VALUES (:d, :u, (SELECT coalesce(max(version), 0) + 1 FROM submissions WHERE deadline_id = :d), '{{"activities": 1}}', NULL, now(), true, 'token', false) RETURNING *;
UPDATE deadlines SET state = 'submitted', submitted_at = coalesce(submitted_at, now()), updated_at = now() WHERE id = :d;
INSERT INTO outbox (dedupe_key, message_id, recipients, subject, text_body, html_body, next_attempt_at, created_at) VALUES ('bench:' || md5(random()::text || clock_timestamp()::text), '<x@hanbao>', '{{"to":["a@b.vn"],"cc":[]}}', 'subject', repeat('t', 600), repeat('h', 800), now(), now());
INSERT INTO audit_log (at, actor, action, entity, entity_id, before, after) VALUES (now(), 'token', 'submission.create', 'submission', '1', NULL, repeat('a', 250));
COMMIT;
"#,
        last_unit = units + 1,
    )
}
