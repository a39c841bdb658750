//! Succession (merge, split, rename): a unit ends and its open deadlines move to its successors, as the 2025
//! reorganisation did to departments and districts. Recorded in the audit log; obligations follow.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::units::{load, view, Unit};
use super::{audit, ensure_valid, Actor, ServiceError, ServiceResult};
use crate::domain::{check_date, FieldError};
use crate::store::units::UnitValues;
use crate::store::{self, AnyConnection, TextJson};

/// How a unit ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SuccessionKind {
    /// The unit joined one successor (possibly with others, each posting its own succession).
    Merge,
    /// The unit was divided among several successors; each takes all its open deadlines.
    Split,
    /// The unit continues under a new code.
    Rename,
}

impl SuccessionKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Merge => "merge",
            Self::Split => "split",
            Self::Rename => "rename",
        }
    }
}

/// Body of `POST /api/v1/units/{code}/succession`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuccessionInput {
    /// Codes of the units that take over (they must exist).
    pub successors: Vec<String>,
    /// First day of the successors; the unit's last day becomes the day before.
    pub on: NaiveDate,
    pub kind: SuccessionKind,
}

/// What a succession did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Succession {
    /// The unit that ended, as it is now.
    pub unit: Unit,
    pub successors: Vec<String>,
    pub on: NaiveDate,
    pub kind: SuccessionKind,
    /// Open deadlines of the unit whose last day is on or after `on`, taken from it.
    pub deadlines_moved: usize,
    /// Deadlines the successors received (more than moved for a split).
    pub deadlines_created: usize,
}

/// Ends a unit on `on − 1` and hands its open deadlines from `on` on to its successors (DESIGN.md §1).
pub fn succeed(
    conn: &mut AnyConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    code: &str,
    input: SuccessionInput,
) -> ServiceResult<Succession> {
    actor.require_admin()?;
    store::transaction(conn, |conn| {
        let row = store::units::find_by_code(conn, code)?
            .ok_or_else(|| ServiceError::not_found("unit", code))?;
        let before = view(conn, row.clone())?;
        let mut errors = Vec::new();
        match (input.kind, input.successors.len()) {
            (_, 0) => errors.push(FieldError::new(
                "/successors",
                "name at least one successor",
            )),
            (SuccessionKind::Rename | SuccessionKind::Merge, n) if n > 1 => {
                errors.push(FieldError::new(
                    "/successors",
                    format!("a {} has exactly one successor", input.kind.as_str()),
                ))
            }
            _ => {}
        }
        let mut successor_ids = Vec::new();
        for (i, successor) in input.successors.iter().enumerate() {
            match store::units::find_by_code(conn, successor)? {
                None => errors.push(FieldError::new(
                    format!("/successors/{i}"),
                    format!("unit `{successor}` does not exist"),
                )),
                Some(s) if s.id == row.id => errors.push(FieldError::new(
                    format!("/successors/{i}"),
                    "a unit cannot succeed itself",
                )),
                Some(s) => successor_ids.push(s.id),
            }
        }
        let last_day = input
            .on
            .pred_opt()
            .ok_or_else(|| ServiceError::invalid("/on", "is out of range"))?;
        errors.extend(check_date("/on", input.on));
        if row.valid_from.is_some_and(|from| input.on <= from) {
            errors.push(FieldError::new(
                "/on",
                "must be after the unit's valid_from",
            ));
        }
        ensure_valid(errors)?;
        let valid_until = Some(row.valid_until.map_or(last_day, |u| u.min(last_day)));
        let values = UnitValues {
            name: &row.name,
            kind: &row.kind,
            parent_id: row.parent_id,
            time_zone: &row.time_zone,
            language: &row.language,
            contacts: TextJson(&row.contacts.0),
            valid_from: row.valid_from,
            valid_until,
            address: row.address.as_deref(),
            phone: row.phone.as_deref(),
            email: row.email.as_deref(),
            updated_at: now.into(),
        };
        store::units::update(conn, row.id, values)?;
        for successor_id in &successor_ids {
            let link = store::units::SuccessionRow {
                predecessor_id: row.id,
                successor_id: *successor_id,
                kind: input.kind.as_str().into(),
                effective_on: input.on,
            };
            store::units::insert_succession(conn, &link, now.into()).map_err(|e| {
                if e.is_unique_violation() {
                    ServiceError::Conflict {
                        message: format!("`{code}` already has this successor"),
                        pointer: Some("/successors".into()),
                    }
                } else {
                    e.into()
                }
            })?;
        }
        // Materialisation follows succession links, so recomputing the affected obligations moves the deadlines:
        // those it has deadlines of or reports for (its successors take the later periods, even where it had no
        // deadline left), and those whose reports it receives: their later periods go to its successor.
        let mut obligation_ids: Vec<i64> = super::recompute::concerning(conn, row.id)?
            .into_iter()
            .collect();
        obligation_ids.extend(store::obligations::receiving(conn, &[row.id])?);
        obligation_ids.extend(store::deadlines::obligations_received_by(conn, row.id)?);
        obligation_ids.sort_unstable();
        obligation_ids.dedup();
        let (mut moved, mut created) = (0, 0);
        for id in obligation_ids {
            let report =
                super::recompute::rematerialise(conn, now, id, super::recompute::Reach::Pending)?;
            moved += report.removed;
            created += report.created;
        }
        let result = Succession {
            unit: load(conn, row.id)?,
            successors: input.successors,
            on: input.on,
            kind: input.kind,
            deadlines_moved: moved,
            deadlines_created: created,
        };
        audit(
            conn,
            actor,
            now,
            "unit.succession",
            code,
            Some(&before),
            Some(&result),
        )?;
        Ok(result)
    })
}
