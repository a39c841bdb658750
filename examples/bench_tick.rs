//! Benchmark: one notice tick over a national data set, then delivery of everything it queued to an SMTP server
//! on loopback. Prints figures; asserts nothing.
//!
//!     cargo run --release --example bench_tick -- [--units 10000] [--obligations 100] [--postgres URL]
//!
//! `--units` communes each report to the ministry on `--obligations` one-off obligations (1,000,000 deadlines by
//! default). The first obligation's P14D reminder falls on the tick's instant (Tuesday 19/11/2030 08:00 +07:00),
//! so its 10,000 deadlines are newly due; the others are due from January 2031 on. The tick's wall time is
//! printed, and on PostgreSQL its database time (`pg_stat_database.active_time`: time spent executing
//! statements). Then the delivery worker sends the queued emails to the in-process SMTP sink of the tests.
//!
//! `--postgres` defaults to $HANBAO_TEST_POSTGRES_URL; a fresh database is created there and dropped after.

mod common;
#[path = "../tests/api/sink.rs"]
mod sink;

use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};
use hanbao::config::DatabaseUrl;
use hanbao::domain::notify::{DigestCron, OfficeHours, Offset, Timing};
use hanbao::domain::unit::UnitKind;
use hanbao::jobs::delivery::deliver_all;
use hanbao::mail::transport::Transport;
use hanbao::service::obligations::NewObligation;
use hanbao::service::{self, Actor};
use hanbao::store::{self, AnyConnection};
use serde_json::json;

const AT: &str = "2030-11-19T08:00:00+07:00";
fn sender() -> hanbao::mail::transport::Sender {
    hanbao::mail::transport::Sender::new(FROM, "").unwrap()
}

const FROM: &str = "hanbao <hanbao@example.org>";

fn main() -> anyhow::Result<()> {
    let units: usize = common::number("--units", 10_000)?;
    let obligations: usize = common::number("--obligations", 100)?;
    common::on_each_backend("tick", |backend, url| run(backend, url, units, obligations))
}

fn run(backend: &str, url: DatabaseUrl, units: usize, obligations: usize) -> anyhow::Result<()> {
    let now: DateTime<Utc> = DateTime::parse_from_rfc3339(AT)?.with_timezone(&Utc);
    seed(backend, &url, units, obligations)?;

    // The tick on a connection of its own, so that PostgreSQL's statistics show its time alone.
    let timing = Timing {
        hours: OfficeHours {
            start: "08:00:00".parse()?,
            end: "17:00:00".parse()?,
        },
        digest: DigestCron::parse("0 8 * * MON").map_err(anyhow::Error::msg)?,
        max_catch_up: Offset::parse("P3D").expect("an ISO duration"),
        admins: Vec::new(),
        zone: chrono_tz::Asia::Ho_Chi_Minh,
    };
    let before = active_time(&url)?;
    let started = Instant::now();
    let report = {
        let pool = store::connect(&url, 1)?;
        let mut conn = pool.get()?;
        service::tick::tick(&mut conn, now, &timing, false)?
    };
    let wall = started.elapsed();
    let db = match (before, active_time(&url)?) {
        (Some(a), Some(b)) => format!(", database time {:.2} s", (b - a) / 1000.0),
        _ => String::new(),
    };
    println!(
        "{backend}: tick at {AT}: {} deadlines looked at, {} emails queued ({} digest) in {:.2} s wall{db}",
        report.deadlines_looked_at,
        report.notices.len(),
        report.notices.iter().filter(|n| n.kind == "digest").count(),
        wall.as_secs_f64()
    );
    let pool = store::connect(&url, 4)?;
    explain(&mut *pool.get()?, backend, now)?;
    let again = Instant::now();
    let second = service::tick::tick(&mut *pool.get()?, now, &timing, false)?;
    println!(
        "{backend}: a second tick at the same instant: {} looked at, {} queued, {:.3} s",
        second.deadlines_looked_at,
        second.notices.len(),
        again.elapsed().as_secs_f64()
    );

    // Delivery to an SMTP server on loopback.
    let runtime = tokio::runtime::Runtime::new()?;
    let (sent, elapsed, received) = runtime.block_on(async {
        let sink = sink::Sink::start(0, sink::Mood::Accept).await;
        let transport = Transport::new(
            Some(&format!("smtp://127.0.0.1:{}", sink.port)),
            32,
            std::env::temp_dir(),
        )
        .map_err(anyhow::Error::msg)?;
        let started = Instant::now();
        let sent = deliver_all(&pool, &transport, &sender(), now).await?.sent;
        let elapsed = started.elapsed();
        let received = sink.received.lock().map_or(0, |r| r.len());
        sink.stop().await;
        anyhow::Ok((sent, elapsed, received))
    })?;
    println!(
        "{backend}: delivered {sent} emails over SMTP in {:.2} s ({:.0}/s); the sink received {received}",
        elapsed.as_secs_f64(),
        sent as f64 / elapsed.as_secs_f64().max(1e-9)
    );
    Ok(())
}

/// The ministry, 34 provinces, `units` communes with an address each, a 2030–2031 plan and `obligations`
/// one-off obligations for every commune.
fn seed(backend: &str, url: &DatabaseUrl, units: usize, obligations: usize) -> anyhow::Result<()> {
    let pool = store::connect(url, 2)?;
    let mut conn = pool.get()?;
    store::migrate(&mut conn)?;
    let now = Utc::now();
    service::calendars::ensure_builtin(&mut conn, now, None)?;
    let actor = Actor::operator("bench");
    let started = Instant::now();
    store::transaction(&mut conn, |conn| -> anyhow::Result<()> {
        let office = json!({"reporters": ["vanphong@bo.gov.vn"], "heads": ["botruong@bo.gov.vn"]});
        common::unit(conn, &actor, "VN", UnitKind::Province, None, Some(office))?;
        for p in 0..34 {
            let code = format!("P{p:02}");
            common::unit(conn, &actor, &code, UnitKind::Province, Some("VN"), None)?;
        }
        for c in 0..units {
            let contacts = json!({"reporters": [format!("xa{c}@example.gov.vn")], "heads": []});
            common::unit(
                conn,
                &actor,
                &format!("P{:02}-C{c:05}", c % 34),
                UnitKind::Commune,
                Some(&format!("P{:02}", c % 34)),
                Some(contacts),
            )?;
        }
        Ok(())
    })?;
    let plan = service::plans::create(
        &mut conn,
        &actor,
        now,
        serde_json::from_value(json!({"number": "bench", "title": "national reports",
            "coordinator": "VN", "starts_on": "2030-01-01", "ends_on": "2031-12-31"}))?,
    )
    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let first = NaiveDate::from_ymd_opt(2030, 12, 2).expect("a date");
    let later = NaiveDate::from_ymd_opt(2031, 1, 5).expect("a date");
    let mut deadlines = 0;
    for i in 0..obligations {
        let date = if i == 0 {
            first
        } else {
            later + chrono::Days::new(i as u64 * 3)
        };
        let input: NewObligation = serde_json::from_value(json!({
            "title": format!("Report {i}"), "recipient": "VN",
            "reporters": {"group": {"parent": "VN", "kinds": ["commune"]}},
            "schedule": {"period_type": "once",
                         "due": {"rule": "date", "date": date.to_string(), "phrase": "no_later_than"}}
        }))?;
        let made = service::obligations::create(&mut conn, &actor, now, plan.id, input)
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        deadlines += made.materialised.map_or(0, |m| m.created);
    }
    store::deadlines::analyze(&mut conn)?;
    println!(
        "{backend}: seeded {} units and {deadlines} deadlines in {:.1} s",
        units + 35,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[derive(QueryableByName)]
struct ActiveTime {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Double>)]
    active_time: Option<f64>,
}

/// Milliseconds PostgreSQL has spent executing statements in this database (None on SQLite). Read after the
/// other sessions have closed and a moment's wait, so that their statistics have been flushed.
fn active_time(url: &DatabaseUrl) -> anyhow::Result<Option<f64>> {
    let DatabaseUrl::Postgres(url) = url else {
        return Ok(None);
    };
    std::thread::sleep(Duration::from_millis(1500));
    let mut conn = PgConnection::establish(url)?;
    let row: ActiveTime = diesel::sql_query(
        "SELECT active_time FROM pg_stat_database WHERE datname = current_database()",
    )
    .get_result(&mut conn)?;
    Ok(row.active_time)
}

#[derive(QueryableByName)]
struct PgPlan {
    #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
    plan: String,
}

#[derive(QueryableByName)]
struct SqlitePlan {
    #[diesel(sql_type = diesel::sql_types::Text)]
    detail: String,
}

/// The plan of the tick's "what is due now" query, to show it is an index range scan.
fn explain(conn: &mut AnyConnection, backend: &str, now: DateTime<Utc>) -> anyhow::Result<()> {
    let sql = |at: String| {
        format!(
            "SELECT id FROM deadlines WHERE next_notice_at <= '{at}' AND state = 'pending' \
             ORDER BY next_notice_at, id LIMIT 500"
        )
    };
    let at = store::UtcDateTime(now).to_sqlite_text();
    let lines: Vec<String> = match conn {
        AnyConnection::Pg(c) => diesel::sql_query(format!("EXPLAIN {}", sql(at)))
            .load::<PgPlan>(c)?
            .into_iter()
            .map(|l| l.plan)
            .collect(),
        AnyConnection::Sqlite(c) => diesel::sql_query(format!("EXPLAIN QUERY PLAN {}", sql(at)))
            .load::<SqlitePlan>(c)?
            .into_iter()
            .map(|l| l.detail)
            .collect(),
    };
    for line in lines {
        println!("{backend}: plan: {line}");
    }
    Ok(())
}
