//! Configuration in layers: the embedded `config/default.toml`, an optional file, the environment, then flags.
//!
//! Every value is checked once, here, at start: a bad value stops the program with a message that names the key
//! (and the environment variable that sets it), so nothing later has to second-guess the configuration.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::domain::notify::{DigestCron, Timing};
use chrono::NaiveTime;
use chrono_tz::Tz;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// The embedded defaults, so the binary runs from any directory.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

/// Every key; `HANBAO_<KEY>` environment variables outside this list are left alone (HANBAO_TEST_*, say).
const KEYS: &[&str] = &[
    "config_dir",
    "data_dir",
    "database_url",
    "pool_size",
    "listen",
    "admin_token",
    "body_limit",
    "auth_failures_per_minute",
    "trusted_proxies",
    "time_zone",
    "office_hours_start",
    "office_hours_end",
    "digest_cron",
    "max_catch_up",
    "smtp_url",
    "smtp_connections",
    "mail_from",
    "mail_subject_prefix",
    "public_url",
    "admin_emails",
    "delivery_give_up_after",
    "retention",
    "log",
];

/// Keys whose environment variable is not simply `HANBAO_<KEY>`.
const ENV_ALIASES: &[(&str, &str)] = &[("DATABASE_URL", "database_url")];

/// The raw layered values, before they are checked.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    config_dir: PathBuf,
    data_dir: PathBuf,
    database_url: String,
    pool_size: u32,
    listen: String,
    admin_token: String,
    body_limit: usize,
    auth_failures_per_minute: u32,
    trusted_proxies: String,
    time_zone: String,
    office_hours_start: String,
    office_hours_end: String,
    digest_cron: String,
    max_catch_up: String,
    smtp_url: String,
    smtp_connections: usize,
    mail_from: String,
    mail_subject_prefix: String,
    public_url: String,
    admin_emails: String,
    delivery_give_up_after: String,
    retention: String,
    log: String,
}

/// Values given on the command line; `None` leaves the lower layers in force.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
}

/// Which database the URL selects, with the address the driver needs.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection string, passed to libpq as given.
    Postgres(String),
}

impl DatabaseUrl {
    /// Chooses the backend from the URL itself: diesel's `MultiConnection` would otherwise fall back to
    /// opening any unknown string as a SQLite file, silently.
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if url.is_empty() {
            return Err("is empty".into());
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err("`sqlite://` needs a file path after it".into());
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if let Some((scheme, _)) = url.split_once(':') {
            let is_scheme = !scheme.is_empty()
                && scheme.len() > 1 // a drive letter such as C: is a path
                && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
            if is_scheme {
                return Err(format!(
                    "scheme `{scheme}:` is not supported: use `sqlite://PATH`, a file path, or `postgres://…`"
                ));
            }
        }
        Ok(Self::Sqlite(PathBuf::from(url)))
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    // Never print a PostgreSQL password into a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            Self::Postgres(url) => write!(f, "{}", redact_password(url)),
        }
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// The checked configuration the program runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// A directory laid out like the repository's `config/` whose files override the embedded ones:
    /// `default.toml` (under `--config` and the environment), `templates/<lang>/<name>.<part>`,
    /// `calendars/<code>.toml`.
    pub config_dir: Option<PathBuf>,
    pub data_dir: PathBuf,
    pub database: DatabaseUrl,
    pub pool_size: u32,
    pub listen: SocketAddr,
    /// `None` when not configured: `serve` then generates one under `data_dir`.
    pub admin_token: Option<SecretString>,
    pub body_limit: usize,
    /// Failed authentications one client address may make per minute before it gets 429.
    pub auth_failures_per_minute: u32,
    /// Reverse proxies whose `X-Forwarded-For` names the client (addresses or CIDR networks).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub time_zone: Tz,
    pub office_hours_start: NaiveTime,
    /// End of office hours: escalations due later wait for the next working morning.
    pub office_hours_end: NaiveTime,
    /// When each recipient unit's digest goes out, read in the unit's time zone.
    pub digest_cron: DigestCron,
    /// Catch-up after downtime sends no escalation step whose moment is older than this.
    pub max_catch_up: crate::domain::notify::Offset,
    pub smtp_url: Option<SecretString>,
    /// SMTP connections kept open, and so emails in flight at once.
    pub smtp_connections: usize,
    pub mail_from: String,
    /// Put before every subject (e.g. "[hanbao]"); empty by default: the office's letters need no tag.
    pub mail_subject_prefix: String,
    /// Where people reach the pages (`https://hanbao.ldtbxh.hanoi.gov.vn`): letters then carry links to
    /// them. Without it, letters say whom to contact instead.
    pub public_url: Option<String>,
    /// The operators' addresses: told once a year when next year's holidays are missing.
    pub admin_emails: Vec<String>,
    /// Transient delivery failures are retried this long, then the email is failed.
    pub delivery_give_up_after: chrono::Duration,
    /// How long sent emails and notice claims are kept before pruning.
    pub retention: chrono::Duration,
    pub log: String,
}

/// A configuration value that cannot be used; the message names the key and where it can be set.
#[derive(Debug, thiserror::Error)]
#[error("configuration key `{key}` ({env}): {message}")]
pub struct ConfigError {
    pub key: String,
    pub env: String,
    pub message: String,
}

impl ConfigError {
    fn new(key: &str, message: impl Into<String>) -> Self {
        let env = ENV_ALIASES
            .iter()
            .find(|(_, k)| *k == key)
            .map(|(e, _)| (*e).to_owned())
            .unwrap_or_else(|| format!("HANBAO_{}", key.to_uppercase()));
        Self {
            key: key.to_owned(),
            env,
            message: message.into(),
        }
    }
}

impl Settings {
    /// The office day in which reminders and escalations go out.
    pub fn office_hours(&self) -> crate::domain::notify::OfficeHours {
        crate::domain::notify::OfficeHours {
            start: self.office_hours_start,
            end: self.office_hours_end,
        }
    }

    /// The clock of periodic mail: office hours and digest slots.
    pub fn timing(&self) -> Timing {
        Timing {
            hours: self.office_hours(),
            digest: self.digest_cron.clone(),
            max_catch_up: self.max_catch_up,
            admins: self.admin_emails.clone(),
            zone: self.time_zone,
        }
    }

    /// Loads the layers: embedded defaults, `file` (if any), the process environment, then `overrides`.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Self, ConfigError> {
        Self::load_from(file, overrides, Env::prefixed("HANBAO_"), Env::raw())
    }

    fn load_from(
        file: Option<&Path>,
        overrides: &Overrides,
        prefixed: Env,
        raw: Env,
    ) -> Result<Self, ConfigError> {
        let layered = |dir_defaults: Option<&Path>| -> Result<Figment, ConfigError> {
            let mut figment = Figment::from(Toml::string(DEFAULT_TOML));
            if let Some(defaults) = dir_defaults {
                figment = figment.merge(Toml::file(defaults));
            }
            Self::upper_layers(figment, file, overrides, prefixed.clone(), raw.clone())
        };
        // The configuration directory may hold a default.toml of its own, under every other layer: find the
        // directory first (it cannot be set from that file), then layer again with it.
        let mut figment = layered(None)?;
        let dir: PathBuf = figment.extract_inner("config_dir").unwrap_or_default();
        if !dir.as_os_str().is_empty() {
            if !dir.is_dir() {
                return Err(ConfigError::new(
                    "config_dir",
                    format!("{} is not a directory", dir.display()),
                ));
            }
            let defaults = dir.join("default.toml");
            if defaults.is_file() {
                figment = layered(Some(&defaults))?;
            }
        }
        Self::extract(figment)
    }

    /// The layers above the defaults: `file`, the environment, then `overrides`.
    fn upper_layers(
        mut figment: Figment,
        file: Option<&Path>,
        overrides: &Overrides,
        prefixed: Env,
        raw: Env,
    ) -> Result<Figment, ConfigError> {
        if let Some(file) = file {
            if !file.is_file() {
                return Err(ConfigError {
                    key: "config".into(),
                    env: "HANBAO_CONFIG".into(),
                    message: format!("file {} does not exist", file.display()),
                });
            }
            figment = figment.merge(Toml::file(file));
        }
        let prefixed = prefixed.only(KEYS);
        let aliases: Vec<&str> = ENV_ALIASES.iter().map(|(e, _)| *e).collect();
        let raw = raw.only(&aliases).map(|k| {
            ENV_ALIASES
                .iter()
                .find(|(e, _)| k.as_str().eq_ignore_ascii_case(e))
                .map(|(_, key)| (*key).into())
                .unwrap_or_else(|| k.into())
        });
        Ok(figment
            .merge(prefixed)
            .merge(raw)
            .merge(Serialized::defaults(overrides)))
    }

    fn extract(figment: Figment) -> Result<Self, ConfigError> {
        let raw: RawConfig = figment.extract().map_err(|e| {
            let key = e.path.join(".");
            let message = match &e.kind {
                figment::error::Kind::UnknownField(field, _) => {
                    return ConfigError {
                        key: field.clone(),
                        env: format!("HANBAO_{}", field.to_uppercase()),
                        message: "is not a configuration key (see config/default.toml)".into(),
                    }
                }
                kind => kind.to_string(),
            };
            ConfigError::new(if key.is_empty() { "config" } else { &key }, message)
        })?;
        Self::check(raw)
    }

    fn check(raw: RawConfig) -> Result<Self, ConfigError> {
        let database = if raw.database_url.trim().is_empty() {
            DatabaseUrl::Sqlite(raw.data_dir.join("hanbao.sqlite3"))
        } else {
            DatabaseUrl::parse(&raw.database_url)
                .map_err(|m| ConfigError::new("database_url", m))?
        };
        let listen = raw.listen.parse::<SocketAddr>().map_err(|_| {
            ConfigError::new(
                "listen",
                format!(
                    "`{}` is not an address:port such as 127.0.0.1:8080",
                    raw.listen
                ),
            )
        })?;
        let time_zone = raw.time_zone.parse::<Tz>().map_err(|_| {
            ConfigError::new(
                "time_zone",
                format!(
                    "`{}` is not an IANA time zone name such as Asia/Ho_Chi_Minh",
                    raw.time_zone
                ),
            )
        })?;
        let office_hours_start = NaiveTime::parse_from_str(&raw.office_hours_start, "%H:%M")
            .map_err(|_| {
                ConfigError::new(
                    "office_hours_start",
                    format!("`{}` is not HH:MM", raw.office_hours_start),
                )
            })?;
        let office_hours_end =
            NaiveTime::parse_from_str(&raw.office_hours_end, "%H:%M").map_err(|_| {
                ConfigError::new(
                    "office_hours_end",
                    format!("`{}` is not HH:MM", raw.office_hours_end),
                )
            })?;
        let max_catch_up = crate::domain::notify::Offset::parse(&raw.max_catch_up)
            .filter(|o| o.months == 0)
            .ok_or_else(|| {
                ConfigError::new(
                    "max_catch_up",
                    format!(
                        "`{}` is not an ISO 8601 duration in days or hours such as P3D or PT36H",
                        raw.max_catch_up
                    ),
                )
            })?;
        let delivery_give_up_after =
            crate::domain::notify::Offset::parse(&raw.delivery_give_up_after)
                .and_then(crate::domain::notify::Offset::fixed_duration)
                .filter(|d| *d > chrono::Duration::zero())
                .ok_or_else(|| {
                    ConfigError::new(
                        "delivery_give_up_after",
                        format!(
                            "`{}` is not a positive ISO 8601 duration in days or hours such as P3D",
                            raw.delivery_give_up_after
                        ),
                    )
                })?;
        let retention = crate::domain::notify::Offset::parse(&raw.retention)
            .filter(|o| o.seconds == 0 && o.days >= 30)
            .and_then(crate::domain::notify::Offset::fixed_duration)
            .ok_or_else(|| {
                ConfigError::new(
                    "retention",
                    format!(
                        "`{}` is not an ISO 8601 duration in days of at least P30D, such as P400D",
                        raw.retention
                    ),
                )
            })?;
        let public_url = match raw.public_url.trim().trim_end_matches('/') {
            "" => None,
            url if (url.starts_with("https://") || url.starts_with("http://"))
                && !url.contains(char::is_whitespace)
                && url.len() > "https://".len() =>
            {
                Some(url.to_owned())
            }
            other => {
                return Err(ConfigError::new(
                    "public_url",
                    format!(
                        "`{other}` is not an http(s) address such as https://hanbao.ldtbxh.hanoi.gov.vn"
                    ),
                ))
            }
        };
        if max_catch_up.fixed_duration() >= Some(retention) {
            // A pruned claim must be one the tick can never reconsider, or its notice would go out again.
            return Err(ConfigError::new(
                "retention",
                format!(
                    "`{}` must be longer than max_catch_up (`{}`)",
                    raw.retention, raw.max_catch_up
                ),
            ));
        }
        let admin_emails: Vec<String> = raw
            .admin_emails
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
            .collect();
        if let Some(bad) = admin_emails
            .iter()
            .find(|a| !crate::domain::unit::is_email(a))
        {
            return Err(ConfigError::new(
                "admin_emails",
                format!("`{bad}` is not an email address"),
            ));
        }
        if office_hours_end <= office_hours_start {
            return Err(ConfigError::new(
                "office_hours_end",
                "must be after office_hours_start",
            ));
        }
        if raw.pool_size == 0 {
            return Err(ConfigError::new("pool_size", "must be at least 1"));
        }
        if raw.auth_failures_per_minute == 0 {
            return Err(ConfigError::new(
                "auth_failures_per_minute",
                "must be at least 1",
            ));
        }
        let trusted_proxies = raw
            .trusted_proxies
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| {
                t.parse::<ipnet::IpNet>()
                    .or_else(|_| t.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        ConfigError::new(
                            "trusted_proxies",
                            format!(
                                "`{t}` is not an IP address or a CIDR network such as 10.0.0.0/8"
                            ),
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if raw.body_limit < 1024 {
            return Err(ConfigError::new(
                "body_limit",
                "must be at least 1024 bytes",
            ));
        }
        if raw.data_dir.as_os_str().is_empty() {
            return Err(ConfigError::new("data_dir", "is empty"));
        }
        let non_empty = |s: String| (!s.trim().is_empty()).then(|| SecretString::from(s));
        let admin_token = non_empty(raw.admin_token);
        if let Some(token) = &admin_token {
            if token.expose_secret().len() < 16 {
                return Err(ConfigError::new(
                    "admin_token",
                    "must be at least 16 characters long",
                ));
            }
        }
        if raw.mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(ConfigError::new(
                "mail_from",
                format!(
                    "`{}` is not an address such as `hanbao <hanbao@example.org>`",
                    raw.mail_from
                ),
            ));
        }
        let digest_cron =
            DigestCron::parse(&raw.digest_cron).map_err(|m| ConfigError::new("digest_cron", m))?;
        let smtp_url = non_empty(raw.smtp_url);
        if let Some(url) = &smtp_url {
            let url = url.expose_secret();
            if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
                return Err(ConfigError::new(
                    "smtp_url",
                    "must start with smtp:// or smtps://",
                ));
            }
        }
        if !(1..=256).contains(&raw.smtp_connections) {
            return Err(ConfigError::new(
                "smtp_connections",
                "must be between 1 and 256",
            ));
        }
        Ok(Self {
            config_dir: (!raw.config_dir.as_os_str().is_empty()).then_some(raw.config_dir),
            data_dir: raw.data_dir,
            database,
            pool_size: raw.pool_size,
            listen,
            admin_token,
            body_limit: raw.body_limit,
            auth_failures_per_minute: raw.auth_failures_per_minute,
            trusted_proxies,
            time_zone,
            office_hours_start,
            office_hours_end,
            digest_cron,
            max_catch_up,
            smtp_url,
            smtp_connections: raw.smtp_connections,
            mail_from: raw.mail_from,
            mail_subject_prefix: raw.mail_subject_prefix,
            public_url,
            admin_emails,
            delivery_give_up_after,
            retention,
            log: raw.log,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the layering with `pairs` as if they came from the environment (written into a file layer, so
    /// tests do not touch the process environment, which other tests share).
    fn load_env(pairs: &[(&str, &str)], overrides: &Overrides) -> Result<Settings, ConfigError> {
        let mut content = String::new();
        for (k, v) in pairs {
            let key = k.strip_prefix("HANBAO_").unwrap_or(k).to_lowercase();
            content.push_str(&format!("{key} = {v:?}\n"));
        }
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), content).unwrap();
        let nothing = Env::prefixed("HANBAO_TEST_NOTHING_");
        Settings::load_from(
            Some(file.path()),
            overrides,
            nothing,
            Env::raw().only(&["HANBAO_TEST_NOTHING"]),
        )
    }

    #[test]
    fn defaults_use_sqlite_under_the_data_dir() {
        let s = load_env(&[], &Overrides::default()).unwrap();
        assert_eq!(
            s.database,
            DatabaseUrl::Sqlite(PathBuf::from("data/hanbao.sqlite3"))
        );
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.time_zone, chrono_tz::Asia::Ho_Chi_Minh);
        assert!(s.admin_token.is_none());
    }

    #[test]
    fn the_config_dir_default_toml_sits_under_the_file_and_the_flags() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("default.toml"),
            "listen = \"127.0.0.1:7000\"\ndigest_cron = \"0 7 * * FRI\"\nmail_from = \"so@example.org\"\n",
        )
        .unwrap();
        let overrides = Overrides {
            config_dir: Some(dir.path().to_path_buf()),
            ..Overrides::default()
        };
        let s = load_env(&[("HANBAO_MAIL_FROM", "file@example.org")], &overrides).unwrap();
        assert_eq!(s.config_dir.as_deref(), Some(dir.path()));
        assert_eq!(
            s.listen.to_string(),
            "127.0.0.1:7000",
            "the directory's file over the built-in one"
        );
        assert_eq!(s.digest_cron.pattern(), "0 7 * * FRI");
        assert_eq!(
            s.mail_from, "file@example.org",
            "--config over the directory's file"
        );

        let missing = Overrides {
            config_dir: Some(dir.path().join("nope")),
            ..Overrides::default()
        };
        assert_eq!(load_env(&[], &missing).unwrap_err().key, "config_dir");
        let e = load_env(
            &[("HANBAO_TRUSTED_PROXIES", "10.0.0.0/8, nginx")],
            &Overrides::default(),
        )
        .unwrap_err();
        assert_eq!(e.key, "trusted_proxies");
        assert!(e.message.contains("`nginx`"), "{}", e.message);
        let ok = load_env(
            &[("HANBAO_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8")],
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(ok.trusted_proxies.len(), 2);
        let e = load_env(
            &[("HANBAO_DIGEST_CRON", "0 8 31 2 *")],
            &Overrides::default(),
        )
        .unwrap_err();
        assert_eq!(
            (e.key.as_str(), e.env.as_str()),
            ("digest_cron", "HANBAO_DIGEST_CRON")
        );
    }

    #[test]
    fn flags_override_the_file() {
        let overrides = Overrides {
            listen: Some("0.0.0.0:9000".into()),
            ..Overrides::default()
        };
        let s = load_env(&[("HANBAO_LISTEN", "127.0.0.1:1")], &overrides).unwrap();
        assert_eq!(s.listen.to_string(), "0.0.0.0:9000");
    }

    #[test]
    fn bad_values_name_their_key() {
        let e = load_env(
            &[("HANBAO_TIME_ZONE", "Mars/Olympus")],
            &Overrides::default(),
        )
        .unwrap_err();
        assert_eq!(
            (e.key.as_str(), e.env.as_str()),
            ("time_zone", "HANBAO_TIME_ZONE")
        );
        let e = load_env(&[("HANBAO_LISTEN", "localhost")], &Overrides::default()).unwrap_err();
        assert_eq!(e.key, "listen");
        let e = load_env(&[("HANBAO_POOL_SIZE", "many")], &Overrides::default()).unwrap_err();
        assert_eq!(e.key, "pool_size");
        let e = load_env(
            &[("HANBAO_PUBLIC_URL", "hanbao.example.vn")],
            &Overrides::default(),
        )
        .unwrap_err();
        assert_eq!(e.key, "public_url");
        let s = load_env(
            &[("HANBAO_PUBLIC_URL", "https://hanbao.example.vn/")],
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(
            s.public_url.as_deref(),
            Some("https://hanbao.example.vn"),
            "no trailing slash"
        );
        let e = load_env(&[("HANBAO_COLOUR", "blue")], &Overrides::default()).unwrap_err();
        assert_eq!(e.key, "colour");
        let e = load_env(&[("HANBAO_RETENTION", "P7D")], &Overrides::default()).unwrap_err();
        assert_eq!(e.key, "retention", "shorter than a month");
        let e = load_env(
            &[
                ("HANBAO_RETENTION", "P40D"),
                ("HANBAO_MAX_CATCH_UP", "P60D"),
            ],
            &Overrides::default(),
        )
        .unwrap_err();
        assert_eq!(e.key, "retention", "a pruned claim could be reconsidered");
        assert!(load_env(&[("HANBAO_RETENTION", "P40D")], &Overrides::default()).is_ok());
    }

    #[test]
    fn database_url_selects_the_backend_or_refuses() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/x.db").unwrap(),
            DatabaseUrl::Sqlite("data/x.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("/var/lib/x.db").unwrap(),
            DatabaseUrl::Sqlite("/var/lib/x.db".into())
        );
        assert!(matches!(
            DatabaseUrl::parse("postgres://u@h/db").unwrap(),
            DatabaseUrl::Postgres(_)
        ));
        assert!(matches!(
            DatabaseUrl::parse("postgresql://u@h/db").unwrap(),
            DatabaseUrl::Postgres(_)
        ));
        let err = DatabaseUrl::parse("mysql://root@localhost/db").unwrap_err();
        assert!(err.contains("mysql"), "{err}");
        let e = load_env(&[("DATABASE_URL", "redis://x")], &Overrides::default()).unwrap_err();
        assert_eq!(
            (e.key.as_str(), e.env.as_str()),
            ("database_url", "DATABASE_URL")
        );
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_password("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        let url = DatabaseUrl::parse("postgres://u:secret@h/db").unwrap();
        assert!(!format!("{url:?}").contains("secret"));
    }
}
