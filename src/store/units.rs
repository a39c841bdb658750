//! Queries on `units`.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;

use super::schema::units;
use super::{AnyConnection, StoreError, TextJson, UtcDateTime};
use crate::domain::unit::Contacts;
use crate::with_conn;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = units)]
pub struct UnitRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent_id: Option<i64>,
    pub time_zone: String,
    pub language: String,
    pub contacts: TextJson<Contacts>,
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    pub created_at: UtcDateTime,
    pub updated_at: UtcDateTime,
    /// The office's postal address, phone and email, for the signature of the letters it sends.
    pub address: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// The columns a create or an update writes.
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = units, treat_none_as_null = true)]
pub struct UnitValues<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub parent_id: Option<i64>,
    pub time_zone: &'a str,
    pub language: &'a str,
    pub contacts: TextJson<&'a Contacts>,
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    pub address: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub email: Option<&'a str>,
    pub updated_at: UtcDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = units)]
struct NewUnit<'a> {
    code: &'a str,
    created_at: UtcDateTime,
    #[diesel(embed)]
    values: UnitValues<'a>,
}

/// List filters; `after` is the keyset cursor (the last id of the previous page).
#[derive(Debug, Default, Clone)]
pub struct UnitFilter {
    pub parent_id: Option<i64>,
    pub kind: Option<String>,
    pub valid_on: Option<NaiveDate>,
    pub after: Option<i64>,
    pub limit: i64,
}

pub fn insert(
    conn: &mut AnyConnection,
    code: &str,
    values: UnitValues<'_>,
) -> Result<i64, StoreError> {
    let row = NewUnit {
        code,
        created_at: values.updated_at,
        values,
    };
    let id = with_conn!(conn, c => diesel::insert_into(units::table)
        .values(&row)
        .returning(units::id)
        .get_result(c))?;
    Ok(id)
}

pub fn update(conn: &mut AnyConnection, id: i64, values: UnitValues<'_>) -> Result<(), StoreError> {
    with_conn!(conn, c => diesel::update(units::table.find(id)).set(&values).execute(c))?;
    Ok(())
}

pub fn find_by_code(conn: &mut AnyConnection, code: &str) -> Result<Option<UnitRow>, StoreError> {
    let row = with_conn!(conn, c => units::table
        .filter(units::code.eq(code))
        .select(UnitRow::as_select())
        .first(c)
        .optional())?;
    Ok(row)
}

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// The unit whose code equals `code` ignoring ASCII case, by the unique index `units_code_lower`.
pub fn find_by_code_ignoring_case(
    conn: &mut AnyConnection,
    code: &str,
) -> Result<Option<UnitRow>, StoreError> {
    let lowered = code.to_ascii_lowercase();
    let row = with_conn!(conn, c => units::table
        .filter(lower(units::code).eq(&lowered))
        .select(UnitRow::as_select())
        .first(c)
        .optional())?;
    Ok(row)
}

pub fn find(conn: &mut AnyConnection, id: i64) -> Result<Option<UnitRow>, StoreError> {
    let row = with_conn!(conn, c => units::table
        .find(id)
        .select(UnitRow::as_select())
        .first(c)
        .optional())?;
    Ok(row)
}

pub fn list(conn: &mut AnyConnection, filter: &UnitFilter) -> Result<Vec<UnitRow>, StoreError> {
    let rows = with_conn!(conn, c => {
        let mut q = units::table
            .select(UnitRow::as_select())
            .order(units::id)
            .limit(filter.limit)
            .into_boxed();
        if let Some(parent) = filter.parent_id {
            q = q.filter(units::parent_id.eq(parent));
        }
        if let Some(kind) = &filter.kind {
            q = q.filter(units::kind.eq(kind.as_str()));
        }
        if let Some(day) = filter.valid_on {
            q = q
                .filter(units::valid_from.is_null().or(units::valid_from.le(day)))
                .filter(units::valid_until.is_null().or(units::valid_until.ge(day)));
        }
        if let Some(after) = filter.after {
            q = q.filter(units::id.gt(after));
        }
        q.load(c)
    })?;
    Ok(rows)
}

/// Codes of the given unit ids, for rendering references.
pub fn codes_by_id(
    conn: &mut AnyConnection,
    ids: &[i64],
) -> Result<HashMap<i64, String>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let pairs: Vec<(i64, String)> = with_conn!(conn, c => units::table
        .filter(units::id.eq_any(ids))
        .select((units::id, units::code))
        .load(c))?;
    Ok(pairs.into_iter().collect())
}

/// The chain of ancestors of `id` (parent first), to refuse a parent that would make a cycle.
pub fn ancestors(conn: &mut AnyConnection, id: i64) -> Result<Vec<i64>, StoreError> {
    let mut chain = Vec::new();
    let mut next = Some(id);
    while let Some(current) = next {
        let parent: Option<Option<i64>> = with_conn!(conn, c => units::table
            .find(current)
            .select(units::parent_id)
            .first(c)
            .optional())?;
        next = parent.flatten();
        if let Some(p) = next {
            if chain.contains(&p) || p == id {
                break;
            }
            chain.push(p);
        }
    }
    Ok(chain)
}

/// Units whose parent is one of `parent_ids`.
pub fn children_of(
    conn: &mut AnyConnection,
    parent_ids: &[i64],
) -> Result<Vec<UnitRow>, StoreError> {
    let mut rows = Vec::new();
    for chunk in parent_ids.chunks(1000) {
        let part: Vec<UnitRow> = with_conn!(conn, c => units::table
            .filter(units::parent_id.eq_any(chunk))
            .select(UnitRow::as_select())
            .order(units::id)
            .load(c))?;
        rows.extend(part);
    }
    Ok(rows)
}

/// Every unit below `parent_id`, level by level (a query per level, not per unit).
pub fn descendants(conn: &mut AnyConnection, parent_id: i64) -> Result<Vec<UnitRow>, StoreError> {
    let mut all: Vec<UnitRow> = Vec::new();
    let mut seen = std::collections::HashSet::from([parent_id]);
    let mut level = vec![parent_id];
    while !level.is_empty() {
        let children: Vec<UnitRow> = children_of(conn, &level)?
            .into_iter()
            .filter(|u| seen.insert(u.id))
            .collect();
        level = children.iter().map(|u| u.id).collect();
        all.extend(children);
    }
    Ok(all)
}

pub fn find_many(conn: &mut AnyConnection, ids: &[i64]) -> Result<Vec<UnitRow>, StoreError> {
    let mut rows = Vec::new();
    for chunk in ids.chunks(1000) {
        let part: Vec<UnitRow> = with_conn!(conn, c => units::table
            .filter(units::id.eq_any(chunk))
            .select(UnitRow::as_select())
            .load(c))?;
        rows.extend(part);
    }
    Ok(rows)
}

/// A succession link: `predecessor` ended and `successor` took over on `effective_on`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = super::schema::unit_successions)]
pub struct SuccessionRow {
    pub predecessor_id: i64,
    pub successor_id: i64,
    pub kind: String,
    pub effective_on: NaiveDate,
}

pub fn insert_succession(
    conn: &mut AnyConnection,
    link: &SuccessionRow,
    now: UtcDateTime,
) -> Result<(), StoreError> {
    use super::schema::unit_successions as s;
    with_conn!(conn, c => diesel::insert_into(s::table)
        .values((
            s::predecessor_id.eq(link.predecessor_id),
            s::successor_id.eq(link.successor_id),
            s::kind.eq(&link.kind),
            s::effective_on.eq(link.effective_on),
            s::created_at.eq(now),
        ))
        .execute(c))?;
    Ok(())
}

/// The successions whose successor is one of `ids`.
pub fn successions_to(
    conn: &mut AnyConnection,
    ids: &[i64],
) -> Result<Vec<SuccessionRow>, StoreError> {
    use super::schema::unit_successions as s;
    let rows = with_conn!(conn, c => s::table
        .filter(s::successor_id.eq_any(ids))
        .select(SuccessionRow::as_select())
        .order(s::id)
        .load(c))?;
    Ok(rows)
}

/// The successions whose predecessor is one of `ids`.
pub fn successions_from(
    conn: &mut AnyConnection,
    ids: &[i64],
) -> Result<Vec<SuccessionRow>, StoreError> {
    use super::schema::unit_successions as s;
    let mut rows = Vec::new();
    for chunk in ids.chunks(1000) {
        let part: Vec<SuccessionRow> = with_conn!(conn, c => s::table
            .filter(s::predecessor_id.eq_any(chunk))
            .select(SuccessionRow::as_select())
            .order(s::id)
            .load(c))?;
        rows.extend(part);
    }
    Ok(rows)
}
