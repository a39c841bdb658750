//! Benchmark: materialise a national obligation (3,321 communes × 60 monthly periods ≈ 200,000 deadlines) and
//! list deadlines, on SQLite and, when a PostgreSQL URL is given, on PostgreSQL. Prints figures; asserts nothing.
//!
//!     cargo run --release --example bench_materialize -- [--communes 3321] [--start 2021] [--years 5] [--postgres URL]
//!
//! `--postgres` defaults to $HANBAO_TEST_POSTGRES_URL; a fresh database is created there and dropped after.

mod common;

use std::time::Instant;

use chrono::Utc;
use diesel::{QueryableByName, RunQueryDsl};
use hanbao::config::DatabaseUrl;
use hanbao::domain::unit::UnitKind;
use hanbao::service::obligations::NewObligation;
use hanbao::service::{self, Actor, PageParams};
use hanbao::store::{self, AnyConnection};
use serde_json::json;

fn main() -> anyhow::Result<()> {
    let communes: usize = common::number("--communes", 3321)?;
    let years: i32 = common::number("--years", 5)?;
    let start: i32 = common::number("--start", 2021)?;

    common::on_each_backend("materialize", |backend, url| {
        run(backend, url, communes, start, years)
    })
}

fn run(
    backend: &str,
    url: DatabaseUrl,
    communes: usize,
    start: i32,
    years: i32,
) -> anyhow::Result<()> {
    let pool = store::connect(&url, 2)?;
    let mut conn = pool.get()?;
    store::migrate(&mut conn)?;
    let now = Utc::now();
    service::calendars::ensure_builtin(&mut conn, now, None)?;
    let actor = Actor::operator("bench");

    let started = Instant::now();
    store::transaction(&mut conn, |conn| -> anyhow::Result<()> {
        common::unit(conn, &actor, "VN", UnitKind::Province, None, None)?;
        for p in 0..34 {
            common::unit(
                conn,
                &actor,
                &format!("P{p:02}"),
                UnitKind::Province,
                Some("VN"),
                None,
            )?;
        }
        for c in 0..communes {
            common::unit(
                conn,
                &actor,
                &format!("P{:02}-C{c:04}", c % 34),
                UnitKind::Commune,
                Some(&format!("P{:02}", c % 34)),
                None,
            )?;
        }
        Ok(())
    })?;
    println!(
        "{backend}: {} units created in {:.1?}",
        communes + 35,
        started.elapsed()
    );

    let plan = service::plans::create(
        &mut conn,
        &actor,
        now,
        serde_json::from_value(
            json!({"number": "bench", "title": "national monthly report", "coordinator": "VN",
            "starts_on": format!("{start}-01-01"), "ends_on": format!("{}-12-31", start + years - 1)}),
        )?,
    )
    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let input: NewObligation = serde_json::from_value(json!({
        "title": "Monthly commune report", "recipient": "VN",
        "reporters": {"group": {"parent": "VN", "kinds": ["commune"]}},
        "schedule": {"period_type": "monthly", "cutoff": "decree_09",
                     "due": {"rule": "after_period_end", "days": 5, "working_days": true}}
    }))?;
    let started = Instant::now();
    let obligation = service::obligations::create(&mut conn, &actor, now, plan.id, input)
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let elapsed = started.elapsed();
    let created = obligation.materialised.map_or(0, |m| m.created);
    println!(
        "{backend}: materialised {created} deadlines in {elapsed:.2?} ({:.0} rows/s, including the obligation's \
         validation, reporter resolution and response)",
        created as f64 / elapsed.as_secs_f64()
    );

    let started = Instant::now();
    let report = service::recompute::rematerialise(
        &mut conn,
        now,
        obligation.id,
        service::recompute::Reach::Open,
    )?;
    println!(
        "{backend}: recomputation with nothing to change took {:.2?} ({report:?})",
        started.elapsed()
    );

    // Issue 9's regression check: a holiday added over the obligation's years (every deadline of the obligation
    // is planned again and compared), and reading the obligation (its warnings are planned, not its deadlines).
    let day: service::calendars::CalendarDay = serde_json::from_value(
        json!({"date": format!("{}-07-15", start + years - 1), "kind": "holiday", "name": "bench"}),
    )?;
    let started = Instant::now();
    let edit = service::calendars::put_day(&mut conn, &actor, now, "vn", day)
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    println!(
        "{backend}: adding a holiday took {:.2?} ({} deadlines rescheduled)",
        started.elapsed(),
        edit.deadlines_rescheduled
    );
    let started = Instant::now();
    for _ in 0..20 {
        service::obligations::get(&mut conn, obligation.id)
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    println!(
        "{backend}: reading the obligation took {:.1} ms",
        started.elapsed().as_secs_f64() * 1000.0 / 20.0
    );

    let query = service::deadlines::DeadlineQuery {
        status: Some("overdue".into()),
        ..Default::default()
    };
    let started = Instant::now();
    let mut page = PageParams {
        limit: Some(1000),
        cursor: None,
    };
    let mut pages = 0;
    while pages < 20 {
        let result = service::deadlines::list(
            &mut conn,
            &actor,
            now,
            chrono_tz::Asia::Ho_Chi_Minh,
            &query,
            &page,
        )
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        pages += 1;
        match result.next_cursor {
            Some(next) => page.cursor = Some(next),
            None => break,
        }
    }
    println!(
        "{backend}: listed {pages} pages of 1,000 overdue deadlines in {:.2?} ({:.1} ms/page)",
        started.elapsed(),
        started.elapsed().as_secs_f64() * 1000.0 / pages as f64
    );
    explain(&mut conn, backend)?;
    Ok(())
}

#[derive(QueryableByName)]
struct SqlitePlan {
    #[diesel(sql_type = diesel::sql_types::Text)]
    detail: String,
}

/// The plan of the "overdue now" page query, to show it is an index range scan.
fn explain(conn: &mut AnyConnection, backend: &str) -> anyhow::Result<()> {
    let lines: Vec<String> = match conn {
        AnyConnection::Pg(c) => diesel::sql_query(
            "EXPLAIN SELECT id FROM deadlines WHERE state = 'pending' AND due_at < now() ORDER BY due_at, id LIMIT 1001",
        )
        .load::<PgPlan>(c)?
        .into_iter()
        .map(|l| l.plan)
        .collect(),
        AnyConnection::Sqlite(c) => diesel::sql_query(
            "EXPLAIN QUERY PLAN SELECT id FROM deadlines WHERE state = 'pending' \
             AND due_at < '2026-01-01T00:00:00.000000Z' ORDER BY due_at, id LIMIT 1001",
        )
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

#[derive(QueryableByName)]
struct PgPlan {
    #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
    plan: String,
}
