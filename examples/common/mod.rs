//! What the benchmark commands share: flags, a throw-away PostgreSQL database, units made through the use case.

#![allow(dead_code)] // each benchmark uses part of it

use chrono::Utc;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use hanbao::config::DatabaseUrl;
use hanbao::domain::unit::UnitKind;
use hanbao::service::units::NewUnit;
use hanbao::service::{self, Actor};
use hanbao::store::AnyConnection;

/// `--name VALUE` from the command line.
pub fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// `--name N`, or `default`.
pub fn number<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    Ok(match arg(name) {
        Some(v) => v.parse()?,
        None => default,
    })
}

/// The PostgreSQL server to use: `--postgres URL`, else $HANBAO_TEST_POSTGRES_URL.
pub fn postgres_admin_url() -> Option<String> {
    arg("--postgres").or_else(|| std::env::var("HANBAO_TEST_POSTGRES_URL").ok())
}

/// Runs `f` with the URL of a fresh database on the server `admin`, dropped afterwards whatever happens.
pub fn with_fresh_postgres<T>(
    admin: &str,
    tag: &str,
    f: impl FnOnce(&str) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let name = format!("hanbao_bench_{tag}_{}", std::process::id());
    PgConnection::establish(admin)?.batch_execute(&format!("CREATE DATABASE {name}"))?;
    let url = format!(
        "{}/{name}",
        admin.rsplit_once('/').map_or(admin, |(base, _)| base)
    );
    let result = f(&url);
    PgConnection::establish(admin)?.batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))?;
    result
}

/// Runs `run(backend name, database)` on a fresh SQLite file, then on a fresh PostgreSQL database when a server
/// is given (`--postgres` or $HANBAO_TEST_POSTGRES_URL), saying so when it is not.
pub fn on_each_backend(
    tag: &str,
    mut run: impl FnMut(&str, DatabaseUrl) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    run(
        "sqlite",
        DatabaseUrl::Sqlite(dir.path().join("bench.sqlite3")),
    )?;
    match postgres_admin_url() {
        Some(admin) => with_fresh_postgres(&admin, tag, |url| {
            run("postgres", DatabaseUrl::Postgres(url.to_owned()))
        }),
        None => {
            println!("postgres: skipped (pass --postgres URL or set HANBAO_TEST_POSTGRES_URL)");
            Ok(())
        }
    }
}

/// Creates a unit through the use case (validation, audit), in Asia/Ho_Chi_Minh.
pub fn unit(
    conn: &mut AnyConnection,
    actor: &Actor,
    code: &str,
    kind: UnitKind,
    parent: Option<&str>,
    contacts: Option<serde_json::Value>,
) -> anyhow::Result<()> {
    let input = NewUnit {
        code: code.into(),
        name: code.into(),
        kind,
        parent: parent.map(Into::into),
        time_zone: None,
        language: None,
        contacts: contacts.map(serde_json::from_value).transpose()?,
        valid_from: None,
        valid_until: None,
        address: None,
        phone: None,
        email: None,
    };
    service::units::create(conn, actor, Utc::now(), chrono_tz::Asia::Ho_Chi_Minh, input)
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    Ok(())
}
