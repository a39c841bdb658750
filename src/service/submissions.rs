//! Submissions (báo cáo): filing with receipts, versions, review, and the extensions and waivers of deadlines.
//!
//! Timeliness is judged on the first submission of a deadline; later versions keep that judgement.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::deadlines::{self as deadline_views, Deadline};
use super::{audit, ensure_valid, Actor, Role, ServiceError, ServiceResult};
use crate::domain::{due_at, FieldError, Period};
use crate::mail;
use crate::store::deadlines::DeadlineRow;
use crate::store::states::{DeadlineState, ReviewDecision};
use crate::store::submissions::{IdempotencyRow, NewSubmission, SubmissionRow};
use crate::store::units::UnitRow;
use crate::store::{self, AnyConnection, TextJson};

/// Body of `POST /api/v1/submissions`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubmissionInput {
    pub obligation_id: i64,
    /// Period id, e.g. `2024`, `202409`, `once`, `E12`.
    pub period: String,
    /// The unit reported for. A reporter's token decides it; an admin or coordinator must name it
    /// (the submission is then recorded as filed on the unit's behalf).
    #[serde(default)]
    pub unit: Option<String>,
    /// The report, checked against the obligation's form (JSON Schema) when it has one.
    #[schema(value_type = Object)]
    pub payload: Value,
    #[serde(default)]
    pub note: Option<String>,
}

/// What a filing answers: the receipt.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Receipt {
    pub id: i64,
    pub deadline_id: i64,
    pub unit: String,
    pub period: String,
    /// Server time of receipt.
    pub received_at: DateTime<Utc>,
    /// Judged on the deadline's first submission.
    pub on_time: bool,
    /// How late the first submission was (ISO 8601 duration), when late.
    pub lateness: Option<String>,
    pub version: i32,
    /// True when an admin or coordinator filed for the unit.
    pub on_behalf: bool,
    pub filed_by: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Review {
    /// `accept` or `return`.
    #[schema(value_type = String)]
    pub decision: ReviewDecision,
    pub comment: Option<String>,
    pub reviewed_by: String,
    pub reviewed_at: DateTime<Utc>,
}

/// A submission with its payload and review.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Submission {
    #[serde(flatten)]
    pub receipt: Receipt,
    #[schema(value_type = Object)]
    pub payload: Value,
    pub note: Option<String>,
    pub review: Option<Review>,
}

/// Body of `POST /api/v1/submissions/{id}/review`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    pub decision: ReviewDecision,
    #[serde(default)]
    pub comment: Option<String>,
}

/// Body of `POST /api/v1/deadlines/{id}/extension`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionInput {
    /// The new last day (later than the current one).
    pub last_day: NaiveDate,
    pub reason: String,
}

/// Body of `POST /api/v1/deadlines/{id}/waiver`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WaiverInput {
    pub reason: String,
}

/// A response that a retried request with the same `Idempotency-Key` gets again.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: Value,
}

/// Forms are compiled once per (obligation, version of the obligation) and shared across requests.
type FormCache = Mutex<HashMap<(i64, String), Arc<jsonschema::Validator>>>;

fn validator(
    obligation: &store::obligations::ObligationRow,
    form: &Value,
) -> ServiceResult<Arc<jsonschema::Validator>> {
    static CACHE: OnceLock<FormCache> = OnceLock::new();
    let key = (obligation.id, obligation.updated_at.to_string());
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().expect("form cache lock").get(&key) {
        return Ok(v.clone());
    }
    let compiled =
        Arc::new(jsonschema::validator_for(form).map_err(|e| {
            ServiceError::data(format!("form of obligation {}: {e}", obligation.id))
        })?);
    let mut cache = cache.lock().expect("form cache lock");
    cache.retain(|(id, _), _| *id != obligation.id);
    cache.insert(key, compiled.clone());
    Ok(compiled)
}

/// `PT3H12M`, `P2DT1H`: how late, to the second.
pub fn iso_duration(seconds: i64) -> String {
    let s = seconds.max(0);
    let (days, hours, minutes, secs) = (s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
    let mut out = String::from("P");
    if days > 0 {
        out.push_str(&format!("{days}D"));
    }
    if hours + minutes + secs > 0 || days == 0 {
        out.push('T');
        if hours > 0 {
            out.push_str(&format!("{hours}H"));
        }
        if minutes > 0 {
            out.push_str(&format!("{minutes}M"));
        }
        if secs > 0 || (hours == 0 && minutes == 0) {
            out.push_str(&format!("{secs}S"));
        }
    }
    out
}

/// Files a report. With an idempotency key, a retry of the same request returns the first response.
pub fn submit(
    conn: &mut AnyConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    input: NewSubmissionInput,
    idempotency_key: Option<&str>,
) -> ServiceResult<StoredResponse> {
    let idem_actor = actor
        .token_id
        .map_or_else(|| actor.name.clone(), |id| format!("token:{id}"));
    let request = serde_json::to_string(&input).expect("requests serialise");
    let request_hash = crate::service::tokens::digest_hex(&request);
    let attempt = store::transaction(conn, |conn| {
        if let Some(key) = idempotency_key {
            if let Some(stored) = store::submissions::find_idempotency(conn, &idem_actor, key)? {
                return replay(stored, &request_hash);
            }
        }
        let receipt = file(conn, actor, now, input)?;
        let response = StoredResponse {
            status: 201,
            body: serde_json::to_value(&receipt).expect("receipts serialise"),
        };
        if let Some(key) = idempotency_key {
            store::submissions::insert_idempotency(
                conn,
                &IdempotencyRow {
                    actor: idem_actor.clone(),
                    key: key.to_owned(),
                    request_hash: request_hash.clone(),
                    response_status: i32::from(response.status),
                    response_body: TextJson(response.body.clone()),
                    created_at: now.into(),
                },
            )?;
        }
        Ok(response)
    });
    match (attempt, idempotency_key) {
        // Two requests with one key raced and the other committed first: answer with its response.
        (Err(ServiceError::Store(e)), Some(key)) if e.is_unique_violation() => {
            let stored = store::submissions::find_idempotency(conn, &idem_actor, key)?
                .ok_or(ServiceError::Store(e))?;
            replay(stored, &request_hash)
        }
        (result, _) => result,
    }
}

fn replay(stored: IdempotencyRow, request_hash: &str) -> ServiceResult<StoredResponse> {
    if stored.request_hash != request_hash {
        return Err(ServiceError::invalid(
            "",
            "this Idempotency-Key was already used for a different request; use a new key",
        ));
    }
    Ok(StoredResponse {
        status: u16::try_from(stored.response_status).unwrap_or(200),
        body: stored.response_body.0,
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
    let (obligation, plan) = store::obligations::find_with_plan(conn, input.obligation_id)?
        .ok_or_else(|| ServiceError::not_found("obligation", input.obligation_id))?;
    let unit = resolve_unit(conn, actor, &plan, input.unit.as_deref())?;
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
    let deadline = store::deadlines::lock_one(
        conn,
        obligation.id,
        unit.id,
        &period.to_string(),
        now.into(),
    )?
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
    )
}

/// The unit a filing is for: a reporter's own; an admin's or coordinator's named one.
fn resolve_unit(
    conn: &mut AnyConnection,
    actor: &Actor,
    plan: &store::plans::PlanRow,
    code: Option<&str>,
) -> ServiceResult<UnitRow> {
    match actor.role {
        Role::Reporter => {
            let own = actor
                .unit_id
                .ok_or_else(|| ServiceError::Forbidden("this token has no unit".into()))?;
            let unit = store::units::find(conn, own)?
                .ok_or_else(|| ServiceError::data(format!("token unit {own}")))?;
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
            store::units::find_by_code(conn, code)?.ok_or_else(|| {
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
) -> ServiceResult<Receipt> {
    let versions = store::submissions::count_of_deadline(conn, t.deadline.id)?;
    let first_at = t.deadline.submitted_at.map_or(now, |at| at.0);
    let on_time = crate::domain::is_on_time(first_at, t.deadline.due_at.0);
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    let on_behalf = actor.role != Role::Reporter;
    let stored = store::submissions::insert(
        conn,
        &NewSubmission {
            deadline_id: t.deadline.id,
            unit_id: t.unit.id,
            version: i32::try_from(versions + 1).map_err(|_| {
                ServiceError::data(format!("deadline {} has too many versions", t.deadline.id))
            })?,
            payload: TextJson(payload),
            note,
            received_at: now.into(),
            on_time,
            filed_by: &actor.name,
            on_behalf,
        },
    )?;
    let state = if on_time {
        DeadlineState::Submitted
    } else {
        DeadlineState::Late
    };
    let first = t.deadline.submitted_at.is_none().then_some(now.into());
    store::submissions::set_deadline_state(conn, t.deadline.id, state, first, now.into())?;
    let id = stored.id;
    let receipt = receipt(stored, &t.deadline, &t.unit)?;
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
    let tz: Tz = t
        .unit
        .time_zone
        .parse()
        .map_err(|_| ServiceError::data(format!("unit {} time zone", t.unit.code)))?;
    let lang = t.unit.language.as_str();
    let context = json!({
        "unit": t.unit.name, "obligation": t.obligation.title, "period": receipt.period,
        "plan": format!("{} ({})", t.plan.number, t.plan.title),
        "submission_id": receipt.id, "version": receipt.version,
        "received_at": receipt.received_at.with_timezone(&tz).format("%Y-%m-%d %H:%M %:z").to_string(),
        "last_day_words": mail::date_words(lang, t.deadline.last_day),
        "due_at": t.deadline.due_at.0.with_timezone(&tz).format("%Y-%m-%d %H:%M %:z").to_string(),
        "on_time": receipt.on_time,
        "lateness_words": mail::duration_words(lang, (receipt.received_at - t.deadline.due_at.0).num_seconds()),
        "on_behalf": receipt.on_behalf, "filed_by": receipt.filed_by,
    });
    let email = mail::render(lang, "receipt", &context)?;
    let contacts = &t.unit.contacts.0;
    mail::queue(
        conn,
        now,
        &format!("receipt:{}", receipt.id),
        &contacts.reporters,
        &[],
        &email,
    )?;
    Ok(())
}

fn load(conn: &mut AnyConnection, id: i64) -> ServiceResult<SubmissionRow> {
    store::submissions::find(conn, id)?
        .ok_or_else(|| ServiceError::data(format!("submission {id} vanished")))
}

fn receipt(row: SubmissionRow, deadline: &DeadlineRow, unit: &UnitRow) -> ServiceResult<Receipt> {
    let lateness = (!row.on_time).then(|| {
        let first = deadline.submitted_at.map_or(row.received_at.0, |t| t.0);
        iso_duration((first.min(row.received_at.0) - deadline.due_at.0).num_seconds())
    });
    Ok(Receipt {
        id: row.id,
        deadline_id: row.deadline_id,
        unit: unit.code.clone(),
        period: deadline.period.clone(),
        received_at: row.received_at.into(),
        on_time: row.on_time,
        lateness,
        version: row.version,
        on_behalf: row.on_behalf,
        filed_by: row.filed_by,
    })
}

/// The deadline, unit and plan of a submission, after checking the actor may see it.
fn visible(
    conn: &mut AnyConnection,
    actor: &Actor,
    row: &SubmissionRow,
) -> ServiceResult<(DeadlineRow, UnitRow, store::plans::PlanRow)> {
    let (deadline, _, _) = store::deadlines::find(conn, row.deadline_id)?
        .ok_or_else(|| ServiceError::data(format!("submission {} has no deadline", row.id)))?;
    let unit = store::units::find(conn, row.unit_id)?
        .ok_or_else(|| ServiceError::data(format!("unit {}", row.unit_id)))?;
    let obligation = store::obligations::find(conn, deadline.obligation_id)?
        .ok_or_else(|| ServiceError::data(format!("deadline {} has no obligation", deadline.id)))?;
    let plan =
        store::plans::find(conn, obligation.plan_id)?.ok_or_else(|| ServiceError::data("plan"))?;
    if !actor.may_see(unit.id, plan.coordinator_id) {
        return Err(ServiceError::not_found("submission", row.id));
    }
    Ok((deadline, unit, plan))
}

fn view(conn: &mut AnyConnection, actor: &Actor, row: SubmissionRow) -> ServiceResult<Submission> {
    let (deadline, unit, _) = visible(conn, actor, &row)?;
    let review = match (&row.review_decision, &row.reviewed_by, row.reviewed_at) {
        (Some(decision), Some(by), Some(at)) => Some(Review {
            decision: *decision,
            comment: row.review_comment.clone(),
            reviewed_by: by.clone(),
            reviewed_at: at.into(),
        }),
        _ => None,
    };
    let payload = row.payload.0.clone();
    let note = row.note.clone();
    Ok(Submission {
        receipt: receipt(row, &deadline, &unit)?,
        payload,
        note,
        review,
    })
}

pub fn get(conn: &mut AnyConnection, actor: &Actor, id: i64) -> ServiceResult<Submission> {
    let row = store::submissions::find(conn, id)?
        .ok_or_else(|| ServiceError::not_found("submission", id))?;
    view(conn, actor, row)
}

/// Every version filed for a deadline, oldest first.
pub fn of_deadline(
    conn: &mut AnyConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    deadline_id: i64,
) -> ServiceResult<Vec<Submission>> {
    deadline_views::get(conn, actor, now, deadline_id)?;
    let rows = store::submissions::of_deadline(conn, deadline_id)?;
    rows.into_iter().map(|row| view(conn, actor, row)).collect()
}

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
            let context = json!({
                "unit": unit.name, "obligation": obligation.title, "period": deadline.period,
                "plan": format!("{} ({})", plan.number, plan.title), "submission_id": id, "version": row.version,
                "comment": comment.unwrap_or("—"),
            });
            let email = mail::render(lang, "returned", &context)?;
            let contacts = &unit.contacts.0;
            mail::queue(
                conn,
                now,
                &format!("returned:{id}"),
                &contacts.reporters,
                &[],
                &email,
            )?;
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
        let tz: Tz = unit
            .time_zone
            .parse()
            .map_err(|_| ServiceError::data(format!("unit {} zone", unit.code)))?;
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

#[cfg(test)]
mod tests {
    use super::iso_duration;

    #[test]
    fn iso_durations() {
        assert_eq!(iso_duration(0), "PT0S");
        assert_eq!(iso_duration(59), "PT59S");
        assert_eq!(iso_duration(3 * 3600 + 12 * 60), "PT3H12M");
        assert_eq!(iso_duration(2 * 86400), "P2D");
        assert_eq!(iso_duration(2 * 86400 + 3600 + 1), "P2DT1H1S");
    }
}
