//! `UtcDateTime`: an instant stored as TIMESTAMPTZ on PostgreSQL and as RFC 3339 UTC text on SQLite.
//!
//! The SQLite text has a fixed width (microseconds, `Z`), so comparing the text compares the instants and
//! range scans on an index of it are correct.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{Text, Timestamptz};
use diesel::sqlite::{Sqlite, SqliteValue};
use diesel::{QueryId, SqlType};

/// The SQL type of an instant column.
#[derive(Debug, Clone, Copy, Default, SqlType, QueryId)]
#[diesel(postgres_type(name = "timestamptz"))]
#[diesel(sqlite_type(name = "Text"))]
pub struct UtcTimestamp;

/// An instant as stored; convert to and from `DateTime<Utc>` at the edges of `store`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = UtcTimestamp)]
pub struct UtcDateTime(pub DateTime<Utc>);

impl UtcDateTime {
    /// "As soon as anybody looks": the notice tick handles such a deadline at its next run, whatever instant that
    /// run stands for (`hanbao tick --at` may travel back in time).
    pub const NEXT_LOOK: UtcDateTime = UtcDateTime(DateTime::UNIX_EPOCH);

    /// The SQLite text form: `2024-12-02T17:00:00.000000Z`.
    pub fn to_sqlite_text(&self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::Micros, true)
    }
}

impl fmt::Display for UtcDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_sqlite_text())
    }
}

impl From<DateTime<Utc>> for UtcDateTime {
    fn from(value: DateTime<Utc>) -> Self {
        Self(value)
    }
}

impl From<UtcDateTime> for DateTime<Utc> {
    fn from(value: UtcDateTime) -> Self {
        value.0
    }
}

impl ToSql<UtcTimestamp, Pg> for UtcDateTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <DateTime<Utc> as ToSql<Timestamptz, Pg>>::to_sql(&self.0, out)
    }
}

impl FromSql<UtcTimestamp, Pg> for UtcDateTime {
    fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
        <DateTime<Utc> as FromSql<Timestamptz, Pg>>::from_sql(bytes).map(Self)
    }
}

impl ToSql<UtcTimestamp, Sqlite> for UtcDateTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.to_sqlite_text());
        Ok(IsNull::No)
    }
}

impl FromSql<UtcTimestamp, Sqlite> for UtcDateTime {
    fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<Text, Sqlite>>::from_sql(value)?;
        let parsed = DateTime::parse_from_rfc3339(&text)
            .map_err(|e| format!("stored instant `{text}` is not RFC 3339: {e}"))?;
        Ok(Self(parsed.with_timezone(&Utc)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn sqlite_text_is_fixed_width_so_text_order_is_time_order() {
        let a = UtcDateTime(Utc.with_ymd_and_hms(2024, 12, 2, 17, 0, 0).unwrap());
        let b = UtcDateTime(a.0 + chrono::Duration::microseconds(1));
        assert_eq!(a.to_sqlite_text(), "2024-12-02T17:00:00.000000Z");
        assert_eq!(a.to_sqlite_text().len(), b.to_sqlite_text().len());
        assert!(a.to_sqlite_text() < b.to_sqlite_text());
    }
}
