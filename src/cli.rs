//! The `hanbao` command line: `serve`, `migrate`, and what operators need. Arguments only: building and
//! running the application is [`crate::startup`]'s.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Overrides, Settings};
use crate::startup;

/// hanbao — reporting deadlines of plans (hạn báo cáo).
///
/// Turns each reporting obligation of a plan into per-unit deadlines, reminds units by email before they are
/// due, accepts their reports through a JSON API and escalates lateness.
///
/// Start with `hanbao serve`: it creates a SQLite database under ./data, applies migrations and listens on
/// 127.0.0.1:8080. Configuration comes from config/default.toml (built in), then --config FILE, then
/// environment variables (HANBAO_*, DATABASE_URL), then these flags.
#[derive(Debug, Parser)]
#[command(name = "hanbao", version, about, long_about, max_term_width = 110)]
pub struct Cli {
    /// A TOML file overriding the built-in configuration (keys as in config/default.toml).
    #[arg(long, global = true, env = "HANBAO_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// A directory laid out like config/ whose default.toml, templates/ and calendars/ override the built-in ones.
    #[arg(long, global = true, env = "HANBAO_CONFIG_DIR", value_name = "DIR")]
    pub config_dir: Option<PathBuf>,
    /// Directory for the SQLite file, the generated admin token and .eml mail [default: data].
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database: sqlite://PATH, a file path, or postgres://USER@HOST/DB [default: SQLite under --data-dir].
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (applies pending migrations first).
    Serve {
        /// Address and port to listen on, e.g. 0.0.0.0:8080 [default: 127.0.0.1:8080].
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the configuration in force (secrets hidden) and exit.
    Config,
    /// Run one notice tick as if at a given instant: send the reminders and escalations due then, then deliver the
    /// outbox. Operators use it to preview (--dry-run), tests to travel in time.
    Tick {
        /// The instant, RFC 3339 (e.g. 2024-11-29T08:00:00+07:00) [default: now].
        #[arg(long, value_name = "RFC3339")]
        at: Option<String>,
        /// Print what would be sent and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Remove what a server running for years need not keep: sent emails and notice claims older than
    /// `retention` (default 400 days), idempotency keys older than a week. Never submissions, deadlines or audit
    /// entries. `hanbao serve` does it every night; this runs it now.
    Prune {
        /// Count what would be removed and remove nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Copy the SQLite database into FILE, consistent and safe while `hanbao serve` runs (SQLite's
    /// `VACUUM INTO`). FILE must not exist. On PostgreSQL use `pg_dump` (docs/deployment.md).
    Backup {
        /// Where the copy goes, e.g. backups/hanbao-2026-12-01.sqlite3.
        file: PathBuf,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Load the demo data set from the seed plans: Hà Nội 269/KH-UBND with its 30 districts, the Biên Hòa
    /// campaign letter with its 25 wards and one campaign, the Cao Bằng and Thừa Thiên Huế plans.
    Demo {
        /// Load as if at this instant, RFC 3339 [default: now]. Deadlines already past due then are history
        /// (no reminders or escalations); with an earlier instant their cycle is live for `tick --at`.
        #[arg(long, value_name = "RFC3339")]
        at: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue a token and print it (alone, on the last line of standard output). It is shown only once.
    Create {
        /// admin, coordinator (plans of its unit), reporter (files for its unit) or viewer (reads).
        #[arg(long, value_name = "ROLE")]
        role: String,
        /// The unit of a reporter or coordinator token.
        #[arg(long, value_name = "CODE")]
        unit: Option<String>,
        /// Who holds the token, e.g. "Văn thư UBND quận Ba Đình".
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
    },
}

/// Parses the command line, runs the command, and turns failures into a message and exit code 1.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hanbao: {e:#}");
            ExitCode::FAILURE
        }
    }
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    let listen = match &cli.command {
        Command::Serve { listen } => listen.clone(),
        _ => None,
    };
    let overrides = Overrides {
        config_dir: cli.config_dir.clone(),
        data_dir: cli.data_dir.clone(),
        database_url: cli.database_url.clone(),
        listen,
    };
    let settings = Settings::load(cli.config.as_deref(), &overrides)?;
    startup::init_tracing(&settings.log);
    crate::mail::set_public_url(settings.public_url.clone());
    if let Some(dir) = &settings.config_dir {
        let replaced = crate::mail::use_templates_from(dir).map_err(|e| anyhow::anyhow!(e))?;
        let pages = crate::http::pages::use_templates_from(dir).map_err(|e| anyhow::anyhow!(e))?;
        tracing::info!(dir = %dir.display(), templates_replaced = replaced, page_templates_replaced = pages,
                       "configuration directory");
    }
    match cli.command {
        Command::Serve { .. } => startup::serve(settings),
        Command::Migrate => {
            let applied = startup::migrate(&settings)?;
            println!(
                "{} migration(s) applied to {:?}",
                applied.len(),
                settings.database
            );
            Ok(())
        }
        Command::Config => {
            print_settings(&settings);
            Ok(())
        }
        Command::Backup { file } => {
            let crate::config::DatabaseUrl::Sqlite(database) = &settings.database else {
                anyhow::bail!(
                    "`hanbao backup` copies the SQLite database; for PostgreSQL use pg_dump (see docs/deployment.md)"
                );
            };
            // Never create, migrate or fill the database being backed up: a backup run from the wrong directory
            // must fail, not copy a new empty database every night.
            if !database.is_file() {
                anyhow::bail!(
                    "no database at {}: run the backup with the service's data directory (--data-dir or HANBAO_DATA_DIR)",
                    database.display()
                );
            }
            if file.exists() {
                anyhow::bail!("{} exists already: choose a new file", file.display());
            }
            let pool = crate::store::connect(&settings.database, 1)?;
            crate::store::backup_sqlite(&mut *pool.get()?, &file)?;
            let bytes = std::fs::metadata(&file)?.len();
            println!(
                "backed up {:?} to {} ({bytes} bytes)",
                settings.database,
                file.display()
            );
            Ok(())
        }
        Command::Prune { dry_run } => {
            let pool = startup::open_database(&settings, 1)?;
            let report = crate::service::prune::run(
                &mut *pool.get()?,
                chrono::Utc::now(),
                settings.retention,
                dry_run,
            )?;
            println!(
                "{}: {} sent email(s) and {} notice claim(s) older than {} days, {} idempotency key(s) older than 7 days, {} expired web session(s), {} filing link(s) expired over 30 days ago",
                if dry_run { "would remove" } else { "removed" },
                report.sent_emails,
                report.claims,
                settings.retention.num_days(),
                report.idempotency_keys,
                report.sessions,
                report.filing_links
            );
            Ok(())
        }
        Command::Tick { at, dry_run } => {
            let now = instant(at)?;
            let pool = startup::open_database(&settings, 2)?;
            let report =
                crate::service::tick::tick(&mut *pool.get()?, now, &settings.timing(), dry_run)?;
            for n in &report.notices {
                let reason = match n.kind {
                    "digest" => format!("digest for {} (slot {})", n.unit, n.step),
                    kind => format!("{kind} {} {} step {}", n.unit, n.period, n.step),
                };
                println!(
                    "{} {reason}: {} → {}{}",
                    if dry_run { "would send" } else { "queued" },
                    n.subject,
                    n.to.join(", "),
                    if n.cc.is_empty() {
                        String::new()
                    } else {
                        format!(" (cc {})", n.cc.join(", "))
                    }
                );
            }
            let mut summary = format!(
                "{} deadline(s) looked at, {} notice(s)",
                report.deadlines_looked_at,
                report.notices.len()
            );
            if report.skipped > 0 {
                summary += &format!(
                    ", {} skipped (unusable data or template: see the log)",
                    report.skipped
                );
            }
            if report.closed_units > 0 {
                summary += &format!(
                    ", {} not sent because the unit has closed",
                    report.closed_units
                );
            }
            println!("{summary}");
            if report.notices.is_empty() {
                let quiet = crate::service::tick::quiet(&mut *pool.get()?, now)?;
                println!(
                    "nothing to send at {now}: {} overdue deadline(s) get no more email (recorded as history \
                     when they were loaded already past due, or their escalation ladder is done); {}",
                    quiet.overdue_without_notices,
                    match quiet.next_notice_at {
                        Some(at) => format!("the next reminder or escalation may be due at {at}"),
                        None => "no reminder or escalation is planned".to_owned(),
                    }
                );
            }
            if !dry_run {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                // lettre's SMTP pool starts a task when it is built: it needs the runtime already.
                let _in_runtime = runtime.enter();
                let transport = crate::mail::transport::Transport::configured(&settings)
                    .map_err(|e| anyhow::anyhow!(e))?;
                let sender = crate::mail::transport::Sender::configured(&settings)
                    .map_err(|e| anyhow::anyhow!(e))?;
                let delivered = runtime.block_on(crate::jobs::delivery::deliver_all(
                    &pool, &transport, &sender, now,
                ))?;
                println!(
                    "delivered: {} sent, {} to retry, {} failed",
                    delivered.sent, delivered.retried, delivered.failed
                );
            }
            Ok(())
        }
        Command::Token {
            command: TokenCommand::Create { role, unit, name },
        } => {
            let pool = startup::open_database(&settings, 1)?;
            let mut conn = pool.get()?;
            let input: crate::service::tokens::NewTokenInput =
                serde_json::from_value(serde_json::json!({
                    "role": role,
                    "unit": unit,
                    "name": name.unwrap_or_else(|| format!("{role} token")),
                }))
                .map_err(|_| {
                    anyhow::anyhow!(
                        "--role must be admin, coordinator, reporter or viewer, not `{role}`"
                    )
                })?;
            let actor = crate::service::Actor::operator("token create");
            let issued =
                crate::service::tokens::create(&mut conn, &actor, chrono::Utc::now(), input)
                    .map_err(describe)?;
            println!(
                "token {} ({}, role {}{}) created; store it now, it is not shown again:",
                issued.info.id,
                issued.info.name,
                role,
                issued
                    .info
                    .unit
                    .as_deref()
                    .map(|u| format!(", unit {u}"))
                    .unwrap_or_default()
            );
            println!("{}", issued.token);
            Ok(())
        }
        Command::Demo { at } => {
            let now = instant(at)?;
            let pool = startup::open_database(&settings, 1)?;
            let mut conn = pool.get()?;
            let report =
                crate::service::demo::load(&mut conn, now).map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "demo loaded into {:?}: {} units, {} plans, {} obligations, {} deadlines, {} sample reports",
                settings.database,
                report.units,
                report.plans,
                report.obligations,
                report.deadlines,
                report.submissions
            );
            Ok(())
        }
    }
}

/// The instant of `--at`, or now.
fn instant(at: Option<String>) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    Ok(match at {
        Some(text) => chrono::DateTime::parse_from_rfc3339(&text)
            .map_err(|e| anyhow::anyhow!("--at `{text}` is not an RFC 3339 instant: {e}"))?
            .with_timezone(&chrono::Utc),
        None => chrono::Utc::now(),
    })
}

/// A use-case failure as a one-line message for the terminal, field errors included.
fn describe(e: crate::service::ServiceError) -> anyhow::Error {
    match e {
        crate::service::ServiceError::Validation(errors) => {
            let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
            anyhow::anyhow!("invalid input: {}", list.join("; "))
        }
        other => anyhow::anyhow!("{other}"),
    }
}

fn print_settings(s: &Settings) {
    let hidden = |set: bool| if set { "(set, hidden)" } else { "(not set)" };
    println!(
        "config_dir         = {}",
        s.config_dir
            .as_ref()
            .map_or_else(|| "(built in)".to_owned(), |d| d.display().to_string())
    );
    println!("data_dir           = {}", s.data_dir.display());
    println!("database_url       = {:?}", s.database);
    println!("pool_size          = {}", s.pool_size);
    println!("listen             = {}", s.listen);
    let token_file = s.data_dir.join("admin.token");
    let admin_token = match (&s.admin_token, token_file.exists()) {
        (Some(_), _) => "(set, hidden)".to_owned(),
        (None, true) => format!("(generated, in {})", token_file.display()),
        (None, false) => format!(
            "(not set: `hanbao serve` generates one into {})",
            token_file.display()
        ),
    };
    println!("admin_token        = {admin_token}");
    println!("body_limit         = {}", s.body_limit);
    println!("auth_failures/min  = {}", s.auth_failures_per_minute);
    println!(
        "trusted_proxies    = {}",
        s.trusted_proxies
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("time_zone          = {}", s.time_zone);
    println!(
        "office_hours_start = {}",
        s.office_hours_start.format("%H:%M")
    );
    println!(
        "office_hours_end   = {}",
        s.office_hours_end.format("%H:%M")
    );
    println!("digest_cron        = {}", s.digest_cron.pattern());
    println!("max_catch_up       = {}", s.max_catch_up);
    println!("smtp_url           = {}", hidden(s.smtp_url.is_some()));
    println!("smtp_connections   = {}", s.smtp_connections);
    println!("mail_from          = {}", s.mail_from);
    println!("mail_subject_prefix = {:?}", s.mail_subject_prefix);
    println!(
        "public_url         = {}",
        s.public_url
            .as_deref()
            .unwrap_or("(none: letters name the office to contact)")
    );
    println!("admin_emails       = {}", s.admin_emails.join(", "));
    println!(
        "delivery_give_up_after = {} h",
        s.delivery_give_up_after.num_hours()
    );
    println!("log                = {}", s.log);
}
