//! Reading the audit log.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Actor, Page, PageParams, ServiceResult};
use crate::store::audit::{AuditFilter, AuditRow};
use crate::store::{self, AnyConnection};

/// One recorded change.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// Who made the change (the token's name, or the operator command).
    pub actor: String,
    /// e.g. `unit.create`, `plan.update`.
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    /// The entity before the change (absent for a creation).
    pub before: Option<serde_json::Value>,
    /// The entity after the change.
    pub after: Option<serde_json::Value>,
}

/// Query of `GET /api/v1/audit`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// `unit`, `plan`, …
    pub entity: Option<String>,
    /// The entity's code or id.
    pub entity_id: Option<String>,
}

pub fn list(
    conn: &mut AnyConnection,
    actor: &Actor,
    query: &AuditQuery,
    page: &PageParams,
) -> ServiceResult<Page<AuditEntry>> {
    actor.require_admin()?;
    let mut errors = Vec::new();
    let (limit, after) = page.resolve(&mut errors);
    super::ensure_valid(errors)?;
    let filter = AuditFilter {
        entity: query.entity.clone(),
        entity_id: query.entity_id.clone(),
        after,
        limit: limit + 1,
    };
    let rows = store::audit::list(conn, &filter)?;
    Page::from_rows(rows, limit, |r| r.id, render)
}

/// What was done to a deadline and its submissions (extensions, waivers, reminders sent by hand, filings,
/// reviews), oldest first. For the deadline's page: the caller has checked that its actor may see the deadline.
pub fn of_deadline(
    conn: &mut AnyConnection,
    deadline_id: i64,
    submission_ids: &[i64],
) -> ServiceResult<Vec<AuditEntry>> {
    let ids: Vec<String> = submission_ids.iter().map(ToString::to_string).collect();
    store::audit::of_deadline(conn, &deadline_id.to_string(), &ids)?
        .into_iter()
        .map(render)
        .collect()
}

fn render(row: AuditRow) -> ServiceResult<AuditEntry> {
    Ok(AuditEntry {
        id: row.id,
        at: row.at.into(),
        before: row.before.map(|b| b.0),
        after: row.after.map(|a| a.0),
        actor: row.actor,
        action: row.action,
        entity: row.entity,
        entity_id: row.entity_id,
    })
}
