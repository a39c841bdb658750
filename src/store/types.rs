//! Column types of our own.
//!
//! `UtcDateTime`: an instant stored as TIMESTAMPTZ on PostgreSQL and as RFC 3339 UTC text on SQLite. The SQLite
//! text has a fixed width (microseconds, `Z`), so comparing the text compares the instants and range scans on an
//! index of it are correct.
//!
//! `TextJson<T>`: a JSON document in a TEXT column (both backends), decoded when a row loads and encoded when
//! one is written, so no caller parses column text by hand.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{Text, Timestamptz};
use diesel::sqlite::{Sqlite, SqliteValue};
use diesel::{QueryId, SqlType};
use serde::de::DeserializeOwned;
use serde::Serialize;

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

/// A JSON document of type `T` in a TEXT column. Writes take `TextJson<&T>` (nothing cloned); a stored text
/// that does not decode is a deserialisation error of the query, naming the type.
#[derive(Debug, Clone, PartialEq, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub struct TextJson<T>(pub T);

impl<T: Serialize + fmt::Debug> ToSql<Text, Pg> for TextJson<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        serde_json::to_writer(out, &self.0)?;
        Ok(IsNull::No)
    }
}

impl<T: Serialize + fmt::Debug> ToSql<Text, Sqlite> for TextJson<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(serde_json::to_string(&self.0)?);
        Ok(IsNull::No)
    }
}

fn decode<T: DeserializeOwned>(text: &[u8]) -> deserialize::Result<TextJson<T>> {
    serde_json::from_slice(text).map(TextJson).map_err(|e| {
        format!(
            "stored JSON is not a valid {}: {e}",
            std::any::type_name::<T>()
        )
        .into()
    })
}

impl<T: DeserializeOwned> FromSql<Text, Pg> for TextJson<T> {
    fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
        decode(bytes.as_bytes())
    }
}

impl<T: DeserializeOwned> FromSql<Text, Sqlite> for TextJson<T> {
    fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<Text, Sqlite>>::from_sql(value)?;
        decode(text.as_bytes())
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

    #[test]
    fn text_json_round_trips_and_names_the_type_of_bad_stored_text() {
        use diesel::connection::SimpleConnection;
        use diesel::prelude::*;

        diesel::table! { docs (id) { id -> Integer, body -> Text, } }
        let mut c = diesel::SqliteConnection::establish(":memory:").unwrap();
        c.batch_execute("CREATE TABLE docs (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
            .unwrap();
        let written = vec!["HN-BADINH".to_string(), "Hoàn Kiếm".to_string()];
        diesel::insert_into(docs::table)
            .values((docs::id.eq(1), docs::body.eq(TextJson(&written))))
            .execute(&mut c)
            .unwrap();
        let raw: String = docs::table.select(docs::body).first(&mut c).unwrap();
        assert_eq!(raw, r#"["HN-BADINH","Hoàn Kiếm"]"#);
        let read: TextJson<Vec<String>> = docs::table.select(docs::body).first(&mut c).unwrap();
        assert_eq!(read.0, written);

        c.batch_execute("INSERT INTO docs VALUES (2, '{\"not\": \"a list\"}')")
            .unwrap();
        let bad = docs::table
            .filter(docs::id.eq(2))
            .select(docs::body)
            .first::<TextJson<Vec<String>>>(&mut c)
            .unwrap_err();
        // diesel's message names the column; the cause (in the error's debug form and the log) names the type.
        let cause = format!("{bad:?}");
        assert!(cause.contains("not a valid alloc::vec::Vec"), "{cause}");
    }
}
