//! Queries on `plans`.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::schema::plans;
use super::{AnyConnection, StoreError, UtcDateTime};
use crate::with_conn;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = plans)]
pub struct PlanRow {
    pub id: i64,
    pub number: String,
    pub title: String,
    pub issuer_id: Option<i64>,
    pub coordinator_id: i64,
    pub issued_on: Option<NaiveDate>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub source_url: Option<String>,
    pub text: Option<String>,
    pub created_at: UtcDateTime,
    pub updated_at: UtcDateTime,
    pub filing_instructions: Option<String>,
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = plans, treat_none_as_null = true)]
pub struct PlanValues<'a> {
    pub number: &'a str,
    pub title: &'a str,
    pub issuer_id: Option<i64>,
    pub coordinator_id: i64,
    pub issued_on: Option<NaiveDate>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub source_url: Option<&'a str>,
    pub text: Option<&'a str>,
    pub filing_instructions: Option<&'a str>,
    pub updated_at: UtcDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = plans)]
struct NewPlan<'a> {
    created_at: UtcDateTime,
    #[diesel(embed)]
    values: PlanValues<'a>,
}

#[derive(Debug, Default, Clone)]
pub struct PlanFilter {
    pub coordinator_id: Option<i64>,
    pub issuer_id: Option<i64>,
    /// Plans in force on this day.
    pub active_on: Option<NaiveDate>,
    pub after: Option<i64>,
    pub limit: i64,
}

pub fn insert(conn: &mut AnyConnection, values: PlanValues<'_>) -> Result<i64, StoreError> {
    let row = NewPlan {
        created_at: values.updated_at,
        values,
    };
    let id = with_conn!(conn, c => diesel::insert_into(plans::table)
        .values(&row)
        .returning(plans::id)
        .get_result(c))?;
    Ok(id)
}

pub fn update(conn: &mut AnyConnection, id: i64, values: PlanValues<'_>) -> Result<(), StoreError> {
    with_conn!(conn, c => diesel::update(plans::table.find(id)).set(&values).execute(c))?;
    Ok(())
}

/// The plan of `issuer` (none: the plans without one) with this number, by the unique index.
pub fn find_by_number(
    conn: &mut AnyConnection,
    issuer_id: Option<i64>,
    number: &str,
) -> Result<Option<PlanRow>, StoreError> {
    let row = with_conn!(conn, c => {
        let q = plans::table.filter(plans::number.eq(number)).select(PlanRow::as_select()).into_boxed();
        match issuer_id {
            Some(id) => q.filter(plans::issuer_id.eq(id)).first(c).optional(),
            None => q.filter(plans::issuer_id.is_null()).first(c).optional(),
        }
    })?;
    Ok(row)
}

pub fn find(conn: &mut AnyConnection, id: i64) -> Result<Option<PlanRow>, StoreError> {
    let row = with_conn!(conn, c => plans::table
        .find(id)
        .select(PlanRow::as_select())
        .first(c)
        .optional())?;
    Ok(row)
}

pub fn list(conn: &mut AnyConnection, filter: &PlanFilter) -> Result<Vec<PlanRow>, StoreError> {
    let rows = with_conn!(conn, c => {
        let mut q = plans::table
            .select(PlanRow::as_select())
            .order(plans::id)
            .limit(filter.limit)
            .into_boxed();
        if let Some(unit) = filter.coordinator_id {
            q = q.filter(plans::coordinator_id.eq(unit));
        }
        if let Some(unit) = filter.issuer_id {
            q = q.filter(plans::issuer_id.eq(unit));
        }
        if let Some(day) = filter.active_on {
            q = q.filter(plans::starts_on.le(day)).filter(plans::ends_on.ge(day));
        }
        if let Some(after) = filter.after {
            q = q.filter(plans::id.gt(after));
        }
        q.load(c)
    })?;
    Ok(rows)
}
