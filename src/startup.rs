//! Building and running the application: the database opened, migrated and given its calendars, the HTTP
//! server, the scheduler and the delivery worker. `cli` parses arguments and calls these; the integration tests
//! build the same application through [`build_application`].

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use rand::distr::{Alphanumeric, SampleString};
use secrecy::ExposeSecret;
use std::io::IsTerminal;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::EnvFilter;

use crate::config::Settings;
use crate::http::{auth, AppState, Application};
use crate::store;

/// Runs `hanbao migrate`: applies pending migrations (and loads calendars); returns the migrations applied.
pub fn migrate(settings: &Settings) -> anyhow::Result<Vec<String>> {
    let pool = store::connect(&settings.database, 1)
        .with_context(|| format!("opening the database {:?}", settings.database))?;
    let applied = prepare_database(&mut *pool.get()?, settings)?;
    Ok(applied)
}

/// Opens a pool of `size` connections to the configured database, migrated and with its calendars loaded.
pub fn open_database(settings: &Settings, size: u32) -> anyhow::Result<store::Pool> {
    let pool = store::connect(&settings.database, size)
        .with_context(|| format!("opening the database {:?}", settings.database))?;
    let applied = prepare_database(&mut *pool.get()?, settings)?;
    if !applied.is_empty() {
        tracing::info!(count = applied.len(), "applied migrations");
    }
    Ok(pool)
}

/// Applies pending migrations and loads the calendars (built in, or from the configuration directory), one
/// instance at a time; returns the migrations applied.
pub fn prepare_database(
    conn: &mut store::AnyConnection,
    settings: &Settings,
) -> anyhow::Result<Vec<String>> {
    store::with_setup_lock(conn, |conn| -> anyhow::Result<Vec<String>> {
        let applied = store::migrate(conn)?;
        crate::service::calendars::ensure_builtin(
            conn,
            chrono::Utc::now(),
            settings.config_dir.as_deref(),
        )?;
        Ok(applied)
    })
}

/// Opens the database, migrates it, and builds the HTTP application on the configured address.
pub fn build_application(settings: Settings) -> anyhow::Result<Application> {
    let pool = open_database(&settings, settings.pool_size)?;
    let token = match &settings.admin_token {
        Some(token) => token.expose_secret().to_owned(),
        None => generated_admin_token(&settings.data_dir)?,
    };
    let state = AppState {
        pool,
        admin_token_digest: auth::digest(&token),
        failed_auth: auth::FailedAuthLimiter::new(settings.auth_failures_per_minute),
        settings: Arc::new(settings),
    };
    Application::build(state)
}

/// Runs `hanbao serve`: the HTTP service, the minute tick and the outbox delivery, until stopped.
pub fn serve(settings: Settings) -> anyhow::Result<()> {
    let database = format!("{:?}", settings.database);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listen = settings.listen;
        let transport = crate::mail::transport::Transport::configured(&settings)
        .map_err(|e| anyhow::anyhow!(e))?;
        match &transport {
            crate::mail::transport::Transport::Files(dir) => {
                tracing::info!(dir = %dir.display(), "no smtp_url: emails are written as .eml files")
            }
            _ => tracing::info!("emails are sent by SMTP"),
        }
        let from = crate::mail::transport::Sender::configured(&settings).map_err(|e| anyhow::anyhow!(e))?;
        let (timing, zone, retention) = (settings.timing(), settings.time_zone, settings.retention);
        let app = build_application(settings)?;
        let mut scheduler = crate::jobs::scheduler::start(app.pool(), timing, zone, retention)
            .await
            .map_err(|e| anyhow::anyhow!("cannot start the scheduler: {e}"))?;
        let stop = tokio_util::sync::CancellationToken::new();
        let delivery = tokio::spawn(crate::jobs::delivery::run(
            app.pool(),
            transport,
            from,
            std::time::Duration::from_secs(10),
            stop.clone(),
        ));
        tracing::info!(%listen, port = app.port(), %database, "hanbao is listening");
        // SIGTERM or SIGINT: the server stops accepting and lets requests under way finish (up to
        // SHUTDOWN_GRACE), then the delivery worker finishes its sends under way and releases the rest.
        app.stop_on_signals();
        app.run_until_stopped().await?;
        tracing::info!("stopping: requests done, finishing the emails being sent");
        stop.cancel();
        if tokio::time::timeout(crate::http::SHUTDOWN_GRACE, delivery).await.is_err() {
            tracing::warn!(
                "emails still being sent after {} s: stopping anyway; another instance or the next start retries \
                 them when their lease ends",
                crate::http::SHUTDOWN_GRACE.as_secs()
            );
        }
        if let Err(e) = scheduler.shutdown().await {
            tracing::warn!("the scheduler did not stop cleanly: {e}");
        }
        tracing::info!("hanbao stopped");
        Ok(())
    })
}

/// Logs to standard error, filtered by `HANBAO_LOG` (or `RUST_LOG`, or the `log` setting).
pub fn init_tracing(filter: &str) {
    let filter = std::env::var("HANBAO_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| filter.to_owned());
    // One line per request when its span closes (method, path, status, latency), plus events. Field values are
    // written escaped (Debug) or percent-encoded (the request target), so no request can forge a line;
    // `HANBAO_LOG_FORMAT=json` writes one JSON object per line for log collectors.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new("info")))
        .with_span_events(FmtSpan::CLOSE)
        .with_writer(std::io::stderr);
    let _ = if std::env::var("HANBAO_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        builder.json().with_current_span(true).try_init()
    } else {
        builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init()
    };
}

/// Without HANBAO_ADMIN_TOKEN, the first start makes a random admin token and keeps it in
/// `<data_dir>/admin.token` (readable by the owner only), so a new install is never open to everyone.
fn generated_admin_token(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join("admin.token");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_owned();
        if existing.len() >= 16 {
            tracing::info!(path = %path.display(), "admin token read from file");
            return Ok(existing);
        }
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let token = format!(
        "hb_admin_{}",
        Alphanumeric.sample_string(&mut rand::rng(), 40)
    );
    write_private(&path, &token).with_context(|| format!("writing {}", path.display()))?;
    tracing::warn!(
        path = %path.display(),
        "HANBAO_ADMIN_TOKEN is not set: generated an admin token and wrote it to this file"
    );
    Ok(token)
}

#[cfg(unix)]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    writeln!(file, "{content}")
}

#[cfg(not(unix))]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    std::fs::write(path, format!("{content}\n"))
}
