//! Filing a report: the unit it is for, the checks of its payload, the version and the receipt (an email).

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::{json, Value};

use crate::domain::unit::is_valid_on;
use crate::domain::{FieldError, Period};
use crate::mail::{self, words};
use crate::service::letters;
use crate::service::{audit, ensure_valid, Actor, Role, ServiceError, ServiceResult};
use crate::store::deadlines::DeadlineRow;
use crate::store::obligations::UnitKey;
use crate::store::states::DeadlineState;
use crate::store::submissions::{FirstReport, NewSubmission};
use crate::store::units::UnitRow;
use crate::store::{self, AnyConnection, TextJson};

use super::form::validator;
use super::idempotency::{self, StoredResponse};
use super::{receipt, NewSubmissionInput, Receipt};

/// Files a report. With an idempotency key, a retry of the same request returns the first response.
pub fn submit(
    conn: &mut AnyConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    input: NewSubmissionInput,
    idempotency_key: Option<&str>,
) -> ServiceResult<StoredResponse> {
    let request = serde_json::to_string(&input).expect("requests serialise");
    idempotency::once(conn, actor, now, idempotency_key, &request, |conn| {
        let receipt = file(conn, actor, now, input)?;
        Ok(StoredResponse {
            status: 201,
            body: serde_json::to_value(&receipt).expect("receipts serialise"),
        })
    })
}

/// Everything needed to judge and record one filing.
struct Target {
    obligation: store::obligations::ObligationRow,
    plan: store::plans::PlanRow,
    unit: UnitRow,
    deadline: DeadlineRow,
}

fn file(
    conn: &mut AnyConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    input: NewSubmissionInput,
) -> ServiceResult<Receipt> {
    if actor.role == Role::Viewer {
        return Err(ServiceError::Forbidden(
            "a viewer token cannot file reports".into(),
        ));
    }
    let key = match actor.unit_id {
        Some(own) if actor.role == Role::Reporter => UnitKey::Id(own),
        _ => UnitKey::Code(input.unit.as_deref().unwrap_or_default()),
    };
    let (obligation, plan, found) =
        store::obligations::find_for_filing(conn, input.obligation_id, key)?
            .ok_or_else(|| ServiceError::not_found("obligation", input.obligation_id))?;
    let unit = resolve_unit(actor, &plan, input.unit.as_deref(), found)?;
    let period: Period = input.period.parse().map_err(|_| {
        ServiceError::invalid(
            "/period",
            format!(
                "`{}` is not a period id such as 2024, 202409 or 2024Q3",
                input.period
            ),
        )
    })?;
    // Concurrent filings for one deadline queue on its row lock, so versions never clash.
    let deadline = store::deadlines::lock_one(conn, obligation.id, unit.id, &period.to_string())?
        .ok_or_else(|| {
        ServiceError::invalid(
            "/period",
            format!(
                "unit `{}` has no deadline of obligation {} for period {period}",
                unit.code, obligation.id
            ),
        )
    })?;
    if deadline.state == DeadlineState::Waived {
        return Err(ServiceError::Conflict {
            message: format!(
                "deadline {} is waived: there is nothing to file",
                deadline.id
            ),
            pointer: Some("/period".into()),
        });
    }
    if let Some(TextJson(form)) = &obligation.form {
        let errors: Vec<FieldError> = validator(&obligation, form)?
            .iter_errors(&input.payload)
            .map(|e| FieldError::new(format!("/payload{}", e.instance_path()), e.to_string()))
            .collect();
        ensure_valid(errors)?;
    }
    let paper = on_paper(actor, now, &unit, &period, &input)?;
    let target = Target {
        obligation,
        plan,
        unit,
        deadline,
    };
    record(
        conn,
        actor,
        now,
        &target,
        &input.payload,
        input.note.as_deref(),
        paper,
    )
}

/// A report that arrived on paper (or through the document system) and is entered by the office.
struct Paper<'a> {
    received_on: NaiveDate,
    document_ref: Option<&'a str>,
}

/// Checks `received_on` and `document_ref`: only the office filing on a unit's behalf gives them, the day is not
/// in the future (in the unit's zone) nor before the period starts, the number is short text.
fn on_paper<'a>(
    actor: &Actor,
    now: DateTime<Utc>,
    unit: &UnitRow,
    period: &Period,
    input: &'a NewSubmissionInput,
) -> ServiceResult<Option<Paper<'a>>> {
    let document_ref = input
        .document_ref
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let mut errors = Vec::new();
    if actor.role == Role::Reporter {
        for (given, pointer) in [
            (input.received_on.is_some(), "/received_on"),
            (input.document_ref.is_some(), "/document_ref"),
        ] {
            if given {
                errors.push(FieldError::new(
                    pointer,
                    "only the office filing a paper report on the unit's behalf gives this",
                ));
            }
        }
        ensure_valid(errors)?;
        return Ok(None);
    }
    if document_ref.is_some_and(|r| r.chars().count() > 100) {
        errors.push(FieldError::new("/document_ref", "at most 100 characters"));
    }
    if document_ref.is_some() && input.received_on.is_none() {
        errors.push(FieldError::new(
            "/received_on",
            "give the day the document arrived with its number",
        ));
    }
    let Some(received_on) = input.received_on else {
        ensure_valid(errors)?;
        return Ok(None);
    };
    let tz: Tz = unit
        .time_zone
        .parse()
        .map_err(|_| ServiceError::data(format!("unit {} time zone", unit.code)))?;
    let today = now.with_timezone(&tz).date_naive();
    if received_on > today {
        errors.push(FieldError::new(
            "/received_on",
            format!("{received_on} is in the future"),
        ));
    }
    if let Some((starts, _)) = period.span() {
        if received_on < starts {
            errors.push(FieldError::new(
                "/received_on",
                format!("{received_on} is before period {period} starts ({starts})"),
            ));
        }
    }
    ensure_valid(errors)?;
    Ok(Some(Paper {
        received_on,
        document_ref,
    }))
}

/// The unit a filing is for (`found`: read with the obligation by the token's unit or the code given): a
/// reporter's own; an admin's or coordinator's named one.
fn resolve_unit(
    actor: &Actor,
    plan: &store::plans::PlanRow,
    code: Option<&str>,
    found: Option<UnitRow>,
) -> ServiceResult<UnitRow> {
    match actor.role {
        Role::Reporter => {
            let own = actor
                .unit_id
                .ok_or_else(|| ServiceError::Forbidden("this token has no unit".into()))?;
            let unit = found.ok_or_else(|| ServiceError::data(format!("token unit {own}")))?;
            match code {
                Some(code) if code != unit.code => Err(ServiceError::Forbidden(format!(
                    "this token files for unit `{}` only, not `{code}`",
                    unit.code
                ))),
                _ => Ok(unit),
            }
        }
        Role::Admin | Role::Coordinator => {
            actor.require_coordinator_of(plan.coordinator_id)?;
            let code =
                code.ok_or_else(|| ServiceError::invalid("/unit", "name the unit you file for"))?;
            found.ok_or_else(|| {
                ServiceError::invalid("/unit", format!("unit `{code}` does not exist"))
            })
        }
        Role::Viewer => Err(ServiceError::Forbidden(
            "a viewer token cannot file reports".into(),
        )),
    }
}

fn record(
    conn: &mut AnyConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    t: &Target,
    payload: &Value,
    note: Option<&str>,
    paper: Option<Paper<'_>>,
) -> ServiceResult<Receipt> {
    // A paper report counts as received at the start of the day it arrived: on time when that day is on or
    // before the last day.
    let arrived = match &paper {
        Some(p) => {
            let tz: Tz = t
                .unit
                .time_zone
                .parse()
                .map_err(|_| ServiceError::data(format!("unit {} time zone", t.unit.code)))?;
            crate::domain::due_at(p.received_on.pred_opt().unwrap_or(p.received_on), tz)
        }
        None => now,
    };
    let first_at = t.deadline.submitted_at.map_or(arrived, |at| at.0);
    let on_time = crate::domain::is_on_time(first_at, t.deadline.due_at.0);
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    let on_behalf = actor.role != Role::Reporter;
    let stored = store::submissions::insert(
        conn,
        &NewSubmission {
            deadline_id: t.deadline.id,
            unit_id: t.unit.id,
            payload: TextJson(payload),
            note,
            received_at: now.into(),
            on_time,
            filed_by: &actor.name,
            on_behalf,
            received_on: paper.as_ref().map(|p| p.received_on),
            document_ref: paper.as_ref().and_then(|p| p.document_ref),
        },
    )?;
    let state = if on_time {
        DeadlineState::Submitted
    } else {
        DeadlineState::Late
    };
    let first = t.deadline.submitted_at.is_none().then(|| FirstReport {
        at: arrived.into(),
        on: paper.as_ref().map(|p| p.received_on),
    });
    store::submissions::set_deadline_state(conn, t.deadline.id, state, first, now.into())?;
    let id = stored.id;
    let mut deadline = t.deadline.clone();
    if let Some(first) = first {
        deadline.submitted_at = Some(first.at);
        deadline.submitted_on = first.on;
    }
    let receipt = receipt(stored, &deadline, &t.unit)?;
    send_receipt(conn, now, t, &receipt)?;
    audit::<Receipt, Receipt>(
        conn,
        actor,
        now,
        "submission.create",
        &id.to_string(),
        None,
        Some(&receipt),
    )?;
    Ok(receipt)
}

fn send_receipt(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    t: &Target,
    receipt: &Receipt,
) -> ServiceResult<()> {
    let tz = letters::zone(&t.unit)?;
    let today = now.with_timezone(&tz).date_naive();
    if receipt.on_behalf && !is_valid_on(t.unit.valid_from, t.unit.valid_until, today) {
        // The office enters the paper report of a unit that has closed since (a 2023 report of a district
        // dissolved in 2025): nobody reads that mailbox, so the report and its audit entry are the record and no
        // receipt is written. A closed unit's own reporter who files still gets one: they are there to read it.
        return Ok(());
    }
    let lang = t.unit.language.as_str();
    let recipient_id = t.deadline.recipient_id.unwrap_or(t.obligation.recipient_id);
    // Both in one read: the filing path counts its statements (docs/performance.md).
    let units = store::units::find_many(conn, &[recipient_id, t.plan.coordinator_id])?;
    let one = |id: i64| units.iter().find(|u| u.id == id).cloned();
    let recipient = one(recipient_id).ok_or_else(|| {
        ServiceError::data(format!("obligation {} has no recipient", t.obligation.id))
    })?;
    let coordinator = one(t.plan.coordinator_id)
        .ok_or_else(|| ServiceError::data(format!("plan {} has no coordinator", t.plan.id)))?;
    let coordinator = letters::signing_office(conn, coordinator, &recipient, today)?;
    let subject = letters::Subject {
        plan: &t.plan,
        obligation: &t.obligation,
        deadline: &t.deadline,
        recipient: &recipient,
        coordinator: &coordinator,
    };
    // The same lateness the API gives, in words (truncated alike).
    let lateness_words = receipt
        .lateness
        .as_deref()
        .and_then(crate::domain::notify::Offset::parse)
        .and_then(crate::domain::notify::Offset::fixed_duration)
        .map(|d| mail::duration_words(lang, d.num_seconds()));
    let mut about = subject.about(conn, lang)?;
    about.link = letters::unit_link(
        conn,
        t.unit.id,
        &format!("/submissions/{}/receipt", receipt.id),
        now,
    )?;
    let context = json!({
        "to": t.unit.name, "about": about, "unit": t.unit.name,
        "version": receipt.version,
        "received_words": words::instant_words(lang, receipt.received_at.to_utc(), tz),
        "on_time": receipt.on_time, "lateness_words": lateness_words, "on_behalf": receipt.on_behalf,
        "received_on_words": receipt.received_on.map(|d| words::date_words(lang, d)),
        "document_ref": receipt.document_ref,
    });
    mail::queue(
        conn,
        now,
        &mail::Outgoing {
            dedupe_key: format!("receipt:{}", receipt.id),
            to: t.unit.contacts.0.reporters.clone(),
            cc: Vec::new(),
            email: mail::render(lang, "receipt", &context)?,
            sender: Some(coordinator.name.clone()),
        },
    )?;
    Ok(())
}
