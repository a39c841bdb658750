//! The audit log: who changed what, when, with the state before and after.

use diesel::prelude::*;

use super::schema::audit_log;
use super::{AnyConnection, StoreError, TextJson, UtcDateTime};
use crate::with_conn;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub id: i64,
    pub at: UtcDateTime,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before: Option<TextJson<serde_json::Value>>,
    pub after: Option<TextJson<serde_json::Value>>,
}

/// One change to record; `before`/`after` are JSON documents of the entity.
#[derive(Debug, Insertable)]
#[diesel(table_name = audit_log)]
pub struct AuditEntry<'a> {
    pub at: UtcDateTime,
    pub actor: &'a str,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: &'a str,
    pub before: Option<TextJson<serde_json::Value>>,
    pub after: Option<TextJson<serde_json::Value>>,
}

#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub after: Option<i64>,
    pub limit: i64,
}

pub fn record(conn: &mut AnyConnection, entry: &AuditEntry<'_>) -> Result<(), StoreError> {
    with_conn!(conn, c => diesel::insert_into(audit_log::table).values(entry).execute(c))?;
    Ok(())
}

pub fn list(conn: &mut AnyConnection, filter: &AuditFilter) -> Result<Vec<AuditRow>, StoreError> {
    let rows = with_conn!(conn, c => {
        let mut q = audit_log::table
            .select(AuditRow::as_select())
            .order(audit_log::id)
            .limit(filter.limit)
            .into_boxed();
        if let Some(entity) = &filter.entity {
            q = q.filter(audit_log::entity.eq(entity.as_str()));
        }
        if let Some(id) = &filter.entity_id {
            q = q.filter(audit_log::entity_id.eq(id.as_str()));
        }
        if let Some(after) = filter.after {
            q = q.filter(audit_log::id.gt(after));
        }
        q.load(c)
    })?;
    Ok(rows)
}

/// The entries about one deadline and its submissions, oldest first.
pub fn of_deadline(
    conn: &mut AnyConnection,
    deadline_id: &str,
    submission_ids: &[String],
) -> Result<Vec<AuditRow>, StoreError> {
    let rows = with_conn!(conn, c => audit_log::table
        .filter(
            audit_log::entity
                .eq("deadline")
                .and(audit_log::entity_id.eq(deadline_id))
                .or(audit_log::entity
                    .eq("submission")
                    .and(audit_log::entity_id.eq_any(submission_ids))),
        )
        .select(AuditRow::as_select())
        .order(audit_log::id)
        .load(c))?;
    Ok(rows)
}
