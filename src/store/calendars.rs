//! Queries on `calendars`, `calendar_days` and `calendar_years`.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::schema::{calendar_days, calendar_years, calendars};
use super::{AnyConnection, StoreError, UtcDateTime};
use crate::with_conn;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = calendars)]
pub struct CalendarRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub created_at: UtcDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = calendar_days)]
pub struct DayRow {
    pub calendar_id: i64,
    pub day: NaiveDate,
    pub kind: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = calendar_years)]
pub struct YearRow {
    pub calendar_id: i64,
    pub year: i32,
    pub complete: bool,
}

/// Every calendar, in code order.
pub fn all(conn: &mut AnyConnection) -> Result<Vec<CalendarRow>, StoreError> {
    let rows = with_conn!(conn, c => calendars::table
        .order(calendars::code)
        .select(CalendarRow::as_select())
        .load(c))?;
    Ok(rows)
}

pub fn find(conn: &mut AnyConnection, code: &str) -> Result<Option<CalendarRow>, StoreError> {
    let row = with_conn!(conn, c => calendars::table
        .filter(calendars::code.eq(code))
        .select(CalendarRow::as_select())
        .first(c)
        .optional())?;
    Ok(row)
}

pub fn insert(
    conn: &mut AnyConnection,
    code: &str,
    name: &str,
    now: UtcDateTime,
) -> Result<i64, StoreError> {
    let id = with_conn!(conn, c => diesel::insert_into(calendars::table)
        .values((calendars::code.eq(code), calendars::name.eq(name), calendars::created_at.eq(now)))
        .returning(calendars::id)
        .get_result(c))?;
    Ok(id)
}

pub fn days(conn: &mut AnyConnection, calendar_id: i64) -> Result<Vec<DayRow>, StoreError> {
    let rows = with_conn!(conn, c => calendar_days::table
        .filter(calendar_days::calendar_id.eq(calendar_id))
        .order(calendar_days::day)
        .select(DayRow::as_select())
        .load(c))?;
    Ok(rows)
}

pub fn years(conn: &mut AnyConnection, calendar_id: i64) -> Result<Vec<YearRow>, StoreError> {
    let rows = with_conn!(conn, c => calendar_years::table
        .filter(calendar_years::calendar_id.eq(calendar_id))
        .order(calendar_years::year)
        .select(YearRow::as_select())
        .load(c))?;
    Ok(rows)
}

pub fn insert_days(conn: &mut AnyConnection, rows: &[DayRow]) -> Result<(), StoreError> {
    with_conn!(conn, c => diesel::insert_into(calendar_days::table).values(rows).execute(c))?;
    Ok(())
}

pub fn insert_years(conn: &mut AnyConnection, rows: &[YearRow]) -> Result<(), StoreError> {
    with_conn!(conn, c => diesel::insert_into(calendar_years::table).values(rows).execute(c))?;
    Ok(())
}

/// Gives stored days that have no name the name the data has for them (days stored before names were kept);
/// returns how many were named. A name somebody set through the API is kept.
pub fn fill_names(
    conn: &mut AnyConnection,
    calendar_id: i64,
    names: &[(NaiveDate, &str)],
) -> Result<usize, StoreError> {
    // One read, and writes only for the days still unnamed: after the first start there is nothing to write.
    let unnamed: std::collections::HashSet<NaiveDate> = with_conn!(conn, c => calendar_days::table
        .filter(calendar_days::calendar_id.eq(calendar_id))
        .filter(calendar_days::name.is_null())
        .select(calendar_days::day)
        .load::<NaiveDate>(c))?
    .into_iter()
    .collect();
    let mut named = 0;
    for (day, name) in names.iter().filter(|(day, _)| unnamed.contains(day)) {
        named += with_conn!(conn, c => diesel::update(
                calendar_days::table
                    .filter(calendar_days::calendar_id.eq(calendar_id))
                    .filter(calendar_days::day.eq(day))
                    .filter(calendar_days::name.is_null()),
            )
            .set(calendar_days::name.eq(*name))
            .execute(c))?;
    }
    Ok(named)
}

/// Marks a year's published schedule complete.
pub fn set_year_complete(
    conn: &mut AnyConnection,
    calendar_id: i64,
    year: i32,
) -> Result<(), StoreError> {
    with_conn!(conn, c => diesel::update(
            calendar_years::table
                .filter(calendar_years::calendar_id.eq(calendar_id))
                .filter(calendar_years::year.eq(year)),
        )
        .set(calendar_years::complete.eq(true))
        .execute(c))?;
    Ok(())
}

/// The days of calendar `code` that somebody added, changed or removed through the API (from the audit log).
pub fn edited_days(conn: &mut AnyConnection, code: &str) -> Result<Vec<NaiveDate>, StoreError> {
    use super::schema::audit_log;
    let ids: Vec<String> = with_conn!(conn, c => audit_log::table
        .filter(audit_log::entity.eq("calendar"))
        .filter(audit_log::entity_id.like(format!("{code}/%")))
        .select(audit_log::entity_id)
        .load(c))?;
    Ok(ids
        .iter()
        .filter_map(|id| id.rsplit_once('/').and_then(|(_, d)| d.parse().ok()))
        .collect())
}

/// Replaces the override of one day (delete, then insert: portable, no ON CONFLICT needed).
pub fn put_day(conn: &mut AnyConnection, row: &DayRow) -> Result<(), StoreError> {
    delete_day(conn, row.calendar_id, row.day)?;
    insert_days(conn, std::slice::from_ref(row))
}

/// Removes the override of one day; true when there was one.
pub fn delete_day(
    conn: &mut AnyConnection,
    calendar_id: i64,
    day: NaiveDate,
) -> Result<bool, StoreError> {
    let n = with_conn!(conn, c => diesel::delete(
        calendar_days::table
            .filter(calendar_days::calendar_id.eq(calendar_id))
            .filter(calendar_days::day.eq(day)),
    )
    .execute(c))?;
    Ok(n > 0)
}
