//! Reviewing a submission: accept it, or return it for revision (the unit is told by email).

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::mail;
use crate::service::{audit, letters, Actor, ServiceError, ServiceResult};
use crate::store::states::{DeadlineState, ReviewDecision};
use crate::store::{self, AnyConnection};

use super::{load, view, visible, ReviewInput, Submission};

/// Records the decision of the plan's coordinator (or an admin) on the latest version of a deadline's report.
pub fn review(
    conn: &mut AnyConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    input: ReviewInput,
) -> ServiceResult<Submission> {
    store::transaction(conn, |conn| {
        // Lock the deadline first, so two reviews (or a review and a new version) run one after the other.
        if let Some(found) = store::submissions::find(conn, id)? {
            store::deadlines::lock(conn, found.deadline_id, now.into())?;
        }
        let row = store::submissions::find(conn, id)?
            .ok_or_else(|| ServiceError::not_found("submission", id))?;
        let (deadline, unit, plan) = visible(conn, actor, &row)?;
        actor.require_coordinator_of(plan.coordinator_id)?;
        if row.review_decision.is_some() {
            return Err(ServiceError::Conflict {
                message: format!("submission {id} was already reviewed"),
                pointer: Some("/decision".into()),
            });
        }
        let latest = store::submissions::of_deadline(conn, deadline.id)?
            .last()
            .map(|s| s.id);
        if latest != Some(id) {
            return Err(ServiceError::Conflict {
                message: format!(
                    "submission {id} is not the latest version; review the latest one"
                ),
                pointer: None,
            });
        }
        let before = view(conn, actor, row.clone())?;
        let comment = input
            .comment
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        store::submissions::review(conn, id, input.decision, comment, &actor.name, now.into())?;
        if input.decision == ReviewDecision::Return {
            store::submissions::set_deadline_state(
                conn,
                deadline.id,
                DeadlineState::Returned,
                None,
                now.into(),
            )?;
            let obligation = store::obligations::find(conn, deadline.obligation_id)?
                .ok_or_else(|| ServiceError::data("obligation"))?;
            let lang = unit.language.as_str();
            let recipient_id = deadline.recipient_id.unwrap_or(obligation.recipient_id);
            let recipient = store::units::find(conn, recipient_id)?
                .ok_or_else(|| ServiceError::data("obligation without its recipient"))?;
            let coordinator = store::units::find(conn, plan.coordinator_id)?
                .ok_or_else(|| ServiceError::data("plan without its coordinator"))?;
            let today = now.with_timezone(&letters::zone(&unit)?).date_naive();
            let coordinator = letters::signing_office(conn, coordinator, &recipient, today)?;
            // A report the office entered for a unit that has closed since: nobody reads its mailbox, so the
            // decision is recorded and no letter written (as for its receipt).
            let open = !row.on_behalf
                || crate::domain::unit::is_valid_on(unit.valid_from, unit.valid_until, today);
            let subject = letters::Subject {
                plan: &plan,
                obligation: &obligation,
                deadline: &deadline,
                recipient: &recipient,
                coordinator: &coordinator,
            };
            if open {
                let mut about = subject.about(conn, lang)?;
                about.link = letters::unit_link(
                    conn,
                    unit.id,
                    &format!("/deadlines/{}/file", deadline.id),
                    now,
                )?;
                let context = json!({
                    "to": unit.name, "about": about, "unit": unit.name,
                    "version": row.version, "comment": comment.unwrap_or("—"),
                });
                mail::queue(
                    conn,
                    now,
                    &mail::Outgoing {
                        dedupe_key: format!("returned:{id}"),
                        to: unit.contacts.0.reporters.clone(),
                        cc: Vec::new(),
                        email: mail::render(lang, "returned", &context)?,
                        sender: Some(coordinator.name.clone()),
                    },
                )?;
            }
        }
        let row = load(conn, id)?;
        let after = view(conn, actor, row)?;
        audit(
            conn,
            actor,
            now,
            "submission.review",
            &id.to_string(),
            Some(&before),
            Some(&after),
        )?;
        Ok(after)
    })
}
