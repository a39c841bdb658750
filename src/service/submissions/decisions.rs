//! The recipient side's decisions on a deadline: a later last day (extension) or an exemption (waiver).

use chrono::{DateTime, Utc};

use crate::domain::{due_at, FieldError};
use crate::service::deadlines::{self as deadline_views, Deadline};
use crate::service::{audit, ensure_valid, Actor, ServiceError, ServiceResult};
use crate::store::deadlines::DeadlineRow;
use crate::store::states::DeadlineState;
use crate::store::units::UnitRow;
use crate::store::{self, AnyConnection};

use super::{ExtensionInput, WaiverInput};

/// The deadline and its plan's coordinator, for the decisions only the recipient side may take.
fn managed_deadline(
    conn: &mut AnyConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
) -> ServiceResult<(DeadlineRow, UnitRow)> {
    // Lock first: a filing, waiver or extension running at the same moment waits and is seen.
    store::deadlines::lock(conn, id, now.into())?;
    let (deadline, _, _) =
        store::deadlines::find(conn, id)?.ok_or_else(|| ServiceError::not_found("deadline", id))?;
    let obligation = store::obligations::find(conn, deadline.obligation_id)?
        .ok_or_else(|| ServiceError::data("obligation"))?;
    let plan =
        store::plans::find(conn, obligation.plan_id)?.ok_or_else(|| ServiceError::data("plan"))?;
    let unit =
        store::units::find(conn, deadline.unit_id)?.ok_or_else(|| ServiceError::data("unit"))?;
    if !actor.may_see(unit.id, plan.coordinator_id) {
        return Err(ServiceError::not_found("deadline", id));
    }
    actor.require_coordinator_of(plan.coordinator_id)?;
    Ok((deadline, unit))
}

fn refuse_if_filed(deadline: &DeadlineRow, what: &str) -> ServiceResult<()> {
    // A returned deadline has a first submission too: its timeliness is judged and must not change.
    if deadline.submitted_at.is_some() && deadline.state == DeadlineState::Returned {
        return Err(ServiceError::Conflict {
            message: format!(
                "deadline {} already has a submission (returned for revision): no {what}",
                deadline.id
            ),
            pointer: None,
        });
    }
    match deadline.state {
        DeadlineState::Submitted | DeadlineState::Late => Err(ServiceError::Conflict {
            message: format!(
                "deadline {} already has a submission: no {what}",
                deadline.id
            ),
            pointer: None,
        }),
        DeadlineState::Waived => Err(ServiceError::Conflict {
            message: format!("deadline {} is waived", deadline.id),
            pointer: None,
        }),
        DeadlineState::Pending | DeadlineState::Returned => Ok(()),
    }
}

/// Gives a deadline a later last day (reopening it if it was overdue).
pub fn extend(
    conn: &mut AnyConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: ExtensionInput,
) -> ServiceResult<Deadline> {
    store::transaction(conn, |conn| {
        let (deadline, unit) = managed_deadline(conn, actor, now, id)?;
        refuse_if_filed(&deadline, "extension")?;
        let mut errors: Vec<FieldError> = crate::domain::check_date("/last_day", input.last_day)
            .into_iter()
            .collect();
        if input.last_day <= deadline.last_day {
            errors.push(FieldError::new(
                "/last_day",
                format!("must be after the current last day {}", deadline.last_day),
            ));
        }
        if input.reason.trim().is_empty() {
            errors.push(FieldError::new("/reason", "must not be empty"));
        }
        ensure_valid(errors)?;
        let before = deadline_views::get(conn, actor, now, id)?;
        let tz = crate::service::letters::zone(&unit)?;
        store::deadlines::extend(
            conn,
            id,
            input.last_day,
            due_at(input.last_day, tz).into(),
            input.reason.trim(),
            now.into(),
        )?;
        let after = deadline_views::get(conn, actor, now, id)?;
        audit(
            conn,
            actor,
            now,
            "deadline.extension",
            &id.to_string(),
            Some(&before),
            Some(&after),
        )?;
        Ok(after)
    })
}

/// Exempts a unit from a deadline.
pub fn waive(
    conn: &mut AnyConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: WaiverInput,
) -> ServiceResult<Deadline> {
    store::transaction(conn, |conn| {
        let (deadline, _) = managed_deadline(conn, actor, now, id)?;
        refuse_if_filed(&deadline, "waiver")?;
        if input.reason.trim().is_empty() {
            return Err(ServiceError::invalid("/reason", "must not be empty"));
        }
        let before = deadline_views::get(conn, actor, now, id)?;
        store::deadlines::waive(conn, id, input.reason.trim(), now.into())?;
        let after = deadline_views::get(conn, actor, now, id)?;
        audit(
            conn,
            actor,
            now,
            "deadline.waiver",
            &id.to_string(),
            Some(&before),
            Some(&after),
        )?;
        Ok(after)
    })
}
