//! Storage: the connection pool over PostgreSQL or SQLite, migrations, transactions, and the queries.
//!
//! One enum `AnyConnection` (diesel's `MultiConnection`) is what the rest of the program holds. Queries run on
//! the inner connection through [`with_conn!`], so each backend gets its full diesel feature set (RETURNING,
//! the `UtcTimestamp` type) and a backend-specific fast path stays possible where speed needs it.

pub mod audit;
pub mod calendars;
pub mod compliance;
pub mod deadlines;
pub mod digests;
pub mod notices;
pub mod obligations;
pub mod outbox;
pub mod plans;
pub mod schema;
pub mod sessions;
pub mod states;
pub mod submissions;
pub mod tokens;
pub mod types;
pub mod units;

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::sqlite::SqliteConnection;
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::DatabaseUrl;

pub use types::{TextJson, UtcDateTime};

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// A connection to whichever database the configuration chose.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

/// Runs `$body` with `$c` bound to the inner diesel connection, whichever backend it is.
#[macro_export]
macro_rules! with_conn {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::store::AnyConnection::Pg($c) => $body,
            $crate::store::AnyConnection::Sqlite($c) => $body,
        }
    };
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConn = r2d2::PooledConnection<Manager>;

/// A storage failure: the database refused or could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    #[error("could not get a database connection: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("could not connect to the database: {0}")]
    Connection(#[from] diesel::ConnectionError),
    #[error("migrations failed: {0}")]
    Migration(String),
}

impl StoreError {
    /// True when the statement broke a UNIQUE constraint (the caller usually answers 409).
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            Self::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }

    /// True when the database could not be reached or the connection dropped under the statement (a PostgreSQL
    /// restart: "server closed the connection", a transaction manager left broken): the client may try again
    /// (503), and the connection is not reused (`Manager::has_broken`).
    pub fn is_connection_lost(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        match self {
            Self::Pool(_) | Self::Connection(_) => true,
            Self::Query(Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            ))
            | Self::Query(Error::BrokenTransactionManager) => true,
            // libpq reports a connection that died mid-statement with its own words and no error kind.
            Self::Query(Error::DatabaseError(DatabaseErrorKind::Unknown, info)) => {
                let message = info.message();
                [
                    "server closed the connection",
                    "SSL connection has been closed",
                    "terminating connection",
                    "no connection to the server",
                    "connection to server",
                ]
                .iter()
                .any(|words| message.contains(words))
            }
            _ => false,
        }
    }
}

/// r2d2 manager that opens the backend the URL names and prepares each connection.
#[derive(Debug, Clone)]
pub struct Manager {
    url: DatabaseUrl,
}

impl Manager {
    pub fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }

    fn establish(&self) -> Result<AnyConnection, StoreError> {
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                let mut c = PgConnection::establish(url)?;
                // TIMESTAMPTZ values are exchanged in UTC whatever the server's default zone is.
                c.batch_execute("SET TIME ZONE 'UTC'")?;
                Ok(AnyConnection::Pg(c))
            }
            DatabaseUrl::Sqlite(path) => {
                let mut c = SqliteConnection::establish(&path.to_string_lossy())?;
                c.batch_execute(
                    // busy_timeout first: switching a new file to WAL takes a lock other connections wait for.
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                )?;
                Ok(AnyConnection::Sqlite(c))
            }
        }
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = AnyConnection;
    type Error = StoreError;

    fn connect(&self) -> Result<AnyConnection, StoreError> {
        self.establish()
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        with_conn!(conn, c => c.batch_execute("SELECT 1"))?;
        Ok(())
    }

    /// A connection handed back inside a transaction (a use case that panicked half-way) is dropped, not
    /// reused: it would hold SQLite's write lock or swallow later writes into a transaction never committed.
    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        fn open<C>(c: &mut C) -> bool
        where
            C: Connection<TransactionManager = AnsiTransactionManager>,
        {
            !matches!(
                AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth(),
                Ok(None)
            )
        }
        with_conn!(conn, c => open(c))
    }
}

/// Writes a consistent copy of a SQLite database to `file` with `VACUUM INTO`: a read transaction, so writers
/// (a running `hanbao serve`) go on meanwhile; the copy is compact and opens as any hanbao database.
pub fn backup_sqlite(conn: &mut AnyConnection, file: &std::path::Path) -> Result<(), StoreError> {
    let AnyConnection::Sqlite(c) = conn else {
        return Err(StoreError::Migration(
            "only a SQLite database is backed up by hanbao; use pg_dump for PostgreSQL".into(),
        ));
    };
    let path = file.to_string_lossy().replace('\'', "''");
    c.batch_execute(&format!("VACUUM INTO '{path}'"))?;
    Ok(())
}

/// Opens the pool (creating the SQLite file's directory if needed); does not migrate.
pub fn connect(url: &DatabaseUrl, max_size: u32) -> Result<Pool, StoreError> {
    if let DatabaseUrl::Sqlite(path) = url {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Migration(format!("cannot create directory {}: {e}", dir.display()))
            })?;
        }
    }
    let pool = r2d2::Pool::builder()
        .max_size(max_size)
        .min_idle(Some(1))
        // No `SELECT 1` probe per check-out (two per filing: a tenth of its statements). A PostgreSQL connection
        // that died is found by the statement that needed it (503, see `is_connection_lost`): diesel then reads
        // libpq's transaction status as unknown and marks its transaction manager broken, so `has_broken` drops
        // the connection when it is handed back (test `a_dropped_postgres_connection_is_recognised_and_replaced`).
        .test_on_check_out(false)
        .connection_timeout(Duration::from_secs(10))
        .build(Manager::new(url.clone()))?;
    Ok(pool)
}

/// Runs `f` holding a PostgreSQL advisory lock that every hanbao instance takes for its start-up work, so that
/// instances started together on a fresh database (docker compose up) migrate and load calendars one after the
/// other instead of racing into duplicate tables and rows. On SQLite, `f` alone (one host, one file).
pub fn with_setup_lock<T, E: From<StoreError>>(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E> {
    /// "hanbao" in ASCII: any constant shared by all instances would do.
    const KEY: i64 = 0x68_61_6e_62_61_6f;
    if let AnyConnection::Pg(c) = conn {
        c.batch_execute(&format!("SELECT pg_advisory_lock({KEY})"))
            .map_err(StoreError::from)?;
    }
    let outcome = f(conn);
    if let AnyConnection::Pg(c) = conn {
        // Also released when the session ends, should this fail.
        if let Err(e) = c.batch_execute(&format!("SELECT pg_advisory_unlock({KEY})")) {
            tracing::warn!("releasing the start-up lock: {e}");
        }
    }
    outcome
}

/// Applies the embedded migrations of the connection's backend; returns the versions it applied.
pub fn migrate(conn: &mut AnyConnection) -> Result<Vec<String>, StoreError> {
    let applied = match conn {
        AnyConnection::Pg(c) => c.run_pending_migrations(PG_MIGRATIONS),
        AnyConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
    }
    .map_err(|e| StoreError::Migration(e.to_string()))?;
    Ok(applied.into_iter().map(|v| v.to_string()).collect())
}

/// Runs `f` in one transaction. SQLite write transactions start with `BEGIN IMMEDIATE`: a deferred one that
/// reads first and writes later fails with SQLITE_BUSY instead of waiting when another writer is active.
pub fn transaction<T, E>(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<StoreError>,
{
    let begin = match conn {
        AnyConnection::Pg(c) => AnsiTransactionManager::begin_transaction(c),
        AnyConnection::Sqlite(c) => {
            // Nested use cases (the demo loader, say) become savepoints inside the outer transaction.
            let depth = <AnsiTransactionManager as TransactionManager<SqliteConnection>>::transaction_manager_status_mut(c)
                .transaction_depth()
                .map_err(StoreError::from)?;
            if depth.is_some() {
                AnsiTransactionManager::begin_transaction(c)
            } else {
                AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")
            }
        }
    };
    begin.map_err(StoreError::from)?;
    match f(conn) {
        Ok(value) => {
            let commit = with_conn!(conn, c => AnsiTransactionManager::commit_transaction(c));
            if let Err(e) = commit {
                let _ = with_conn!(conn, c => AnsiTransactionManager::rollback_transaction(c));
                return Err(StoreError::from(e).into());
            }
            Ok(value)
        }
        Err(e) => {
            with_conn!(conn, c => AnsiTransactionManager::rollback_transaction(c))
                .map_err(StoreError::from)?;
            Err(e)
        }
    }
}

/// Checks that the database answers (readiness).
pub fn ping(conn: &mut AnyConnection) -> Result<(), StoreError> {
    with_conn!(conn, c => c.batch_execute("SELECT 1"))?;
    Ok(())
}
