//! `TestApp`: the real server on port 0 over a fresh SQLite file or PostgreSQL database, with typed helpers.

use std::sync::atomic::{AtomicU32, Ordering};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use hanbao::config::{DatabaseUrl, Settings};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";
pub const PG_URL_VAR: &str = "HANBAO_TEST_POSTGRES_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Declares an async test that runs once per backend: `backend_test!(name, |app| async move { … });`
#[macro_export]
macro_rules! backend_test {
    ($name:ident, |$app:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $app = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite)
                    .await
                    .unwrap();
                $body.await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some($app) =
                    $crate::helpers::TestApp::spawn($crate::helpers::Backend::Postgres).await
                else {
                    return;
                };
                $body.await;
            }
        }
    };
}

/// A fresh PostgreSQL database, dropped when the test ends.
pub struct PgDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl PgDatabase {
    pub fn create(admin_url: &str) -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "hanbao_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            rand_suffix()
        );
        let mut admin =
            PgConnection::establish(admin_url).expect("connect to the PostgreSQL test server");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create a test database");
        let url = replace_database(admin_url, &name);
        Self {
            admin_url: admin_url.to_owned(),
            name,
            url,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&self.admin_url) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

fn rand_suffix() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    );
    (h.finish() % 1_000_000) as u32
}

/// `postgres://u@h:5432/postgres?x=y` with the database part replaced by `name`.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    format!("{base}/{name}{query}")
}

pub struct TestApp {
    pub base: String,
    /// The server's own pool, to run background jobs (delivery) against the same database.
    pub pool: hanbao::store::Pool,
    pub client: reqwest::Client,
    pub backend: Backend,
    pub database: DatabaseUrl,
    _dir: tempfile::TempDir,
    _pg: Option<PgDatabase>,
}

impl TestApp {
    /// Starts the server; `None` (after saying so) when PostgreSQL is asked for but not configured.
    pub async fn spawn(backend: Backend) -> Option<Self> {
        let dir = tempfile::tempdir().expect("a temp dir");
        let (database, pg) = match backend {
            Backend::Sqlite => (DatabaseUrl::Sqlite(dir.path().join("hanbao.sqlite3")), None),
            Backend::Postgres => {
                let Ok(admin_url) = std::env::var(PG_URL_VAR) else {
                    // In CI the PostgreSQL half must run: a missing server is a failure, not a pass.
                    assert!(
                        std::env::var("CI").as_deref() != Ok("true"),
                        "CI=true but {PG_URL_VAR} is not set: the PostgreSQL half of the tests cannot be skipped in CI"
                    );
                    eprintln!("PostgreSQL skipped: set {PG_URL_VAR} (e.g. postgres://postgres@127.0.0.1:5432/postgres) to run this test on PostgreSQL too");
                    return None;
                };
                let db = tokio::task::spawn_blocking(move || PgDatabase::create(&admin_url))
                    .await
                    .unwrap();
                (DatabaseUrl::Postgres(db.url.clone()), Some(db))
            }
        };
        let mut settings = test_settings(dir.path());
        settings.database = database.clone();
        let app = tokio::task::spawn_blocking(move || hanbao::startup::build_application(settings))
            .await
            .unwrap()
            .expect("the application starts");
        let base = format!("http://127.0.0.1:{}", app.port());
        let pool = app.pool();
        tokio::spawn(app.run_until_stopped());
        Some(Self {
            base,
            pool,
            client: reqwest::Client::new(),
            backend,
            database,
            _dir: dir,
            _pg: pg,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A request with the admin token.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(ADMIN_TOKEN)
    }

    /// Sends `body` as JSON with the admin token; returns the status and the parsed body (Null if empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        send(request).await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, Some(body)).await
    }

    /// Creates a unit and asserts it worked.
    pub async fn create_unit(&self, body: Value) -> Value {
        let (status, unit) = self.post("/api/v1/units", body).await;
        assert_eq!(status, StatusCode::CREATED, "{unit}");
        unit
    }

    /// Hà Nội, its Department of Labour and two districts: the world of plan 269/KH-UBND in miniature.
    pub async fn seed_hanoi(&self) {
        self.create_unit(
            json!({"code": "HN", "name": "UBND Thành phố Hà Nội", "kind": "province"}),
        )
        .await;
        self.create_unit(json!({
            "code": "HN-SLDTBXH", "name": "Sở Lao động - Thương binh và Xã hội Hà Nội", "kind": "department",
            "parent": "HN", "valid_until": "2025-02-28",
            "contacts": {"reporters": ["vanthu@sldtbxh.hanoi.gov.vn"], "heads": ["giamdoc@sldtbxh.hanoi.gov.vn"]}
        }))
        .await;
        for (code, name) in [
            ("HN-BADINH", "UBND quận Ba Đình"),
            ("HN-SOCSON", "UBND huyện Sóc Sơn"),
        ] {
            self.create_unit(json!({
                "code": code, "name": name, "kind": "district", "parent": "HN", "valid_until": "2025-06-30",
                "contacts": {"reporters": [format!("baocao@{}.hanoi.gov.vn", code.to_lowercase())], "heads": []}
            }))
            .await;
        }
    }

    /// Every audit entry, oldest first.
    pub async fn audit(&self) -> Vec<Value> {
        let (status, page) = self.get("/api/v1/audit?limit=1000").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        page["items"].as_array().unwrap().clone()
    }

    /// A fingerprint of everything stored through the API, to prove a refused request changed nothing.
    pub async fn snapshot(&self) -> Value {
        let units = self.get("/api/v1/units?limit=1000").await.1;
        let plans = self.get("/api/v1/plans?limit=1000").await.1;
        json!({"units": units, "plans": plans, "audit": self.audit().await})
    }

    /// Runs SQL directly against the test database (to break things on purpose).
    pub fn execute_sql(&self, sql: &str) {
        match &self.database {
            DatabaseUrl::Sqlite(path) => {
                let mut c = diesel::SqliteConnection::establish(&path.to_string_lossy()).unwrap();
                c.batch_execute(sql).unwrap();
            }
            DatabaseUrl::Postgres(url) => {
                let mut c = PgConnection::establish(url).unwrap();
                c.batch_execute(sql).unwrap();
            }
        }
    }
}

pub async fn send(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("the server answers");
    let status = response.status();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

/// Settings for a test server: port 0, a known admin token, everything under `dir`.
pub fn test_settings(dir: &std::path::Path) -> Settings {
    let mut settings =
        Settings::load(None, &hanbao::config::Overrides::default()).expect("default settings");
    settings.listen = "127.0.0.1:0".parse().unwrap();
    settings.data_dir = dir.to_path_buf();
    settings.database = DatabaseUrl::Sqlite(dir.join("hanbao.sqlite3"));
    settings.admin_token = Some(ADMIN_TOKEN.to_owned().into());
    settings.pool_size = 4;
    settings.body_limit = 64 * 1024;
    settings.auth_failures_per_minute = 5;
    settings
}

/// The field pointers of a problem document.
pub fn pointers(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["pointer"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// An RFC 3339 instant, for ticks and loads "as if at".
pub fn at(text: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&chrono::Utc)
}

/// The default clock of the office: 08:00–17:00, digests on Mondays at 08:00, three days of catch-up, no operators.
pub fn weekly_timing() -> hanbao::domain::notify::Timing {
    use hanbao::domain::notify::{DigestCron, OfficeHours, Offset, Timing};
    Timing {
        hours: OfficeHours {
            start: "08:00:00".parse().unwrap(),
            end: "17:00:00".parse().unwrap(),
        },
        digest: DigestCron::parse("0 8 * * MON").unwrap(),
        max_catch_up: Offset::parse("P3D").unwrap(),
        admins: Vec::new(),
        zone: chrono_tz::Asia::Ho_Chi_Minh,
    }
}

impl TestApp {
    /// Runs `f` on a pooled connection of the server's database, off the async runtime (use cases as if at
    /// another instant).
    pub async fn with_conn<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut hanbao::store::AnyConnection) -> T + Send + 'static,
    ) -> T {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || f(&mut pool.get().unwrap()))
            .await
            .unwrap()
    }

    /// One tick as if at `instant`, with [`weekly_timing`].
    pub async fn tick(&self, instant: &str) -> hanbao::service::tick::TickReport {
        let now = at(instant);
        self.with_conn(move |c| {
            hanbao::service::tick::tick(c, now, &weekly_timing(), false).unwrap()
        })
        .await
    }
}
