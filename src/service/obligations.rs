//! Obligations (nghĩa vụ báo cáo): create, read and change them, with the checks their input must pass.
//!
//! Creating or changing an obligation materialises its deadlines for its whole window in the same transaction
//! ([`super::recompute`]). Only deadlines still pending (no submission, no waiver, no extension) are ever moved
//! or removed.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::obligation_rules::Parsed;
pub use super::obligation_rules::{Audience, EscalationStep, ReporterGroup, Reporters, Window};
pub use super::recompute::MaterialiseReport;
use super::recompute::{plan_deadlines, rematerialise, Reach};
use super::{audit, ensure_valid, nullable, Actor, Page, PageParams, ServiceError, ServiceResult};
use crate::domain::materialize::Warning;
use crate::domain::notify::Offset;
use crate::domain::{FieldError, Schedule};
use crate::store;
use crate::store::obligations::{ObligationRow, ObligationValues};
use crate::store::{AnyConnection, TextJson};

fn default_grace() -> String {
    "P0D".into()
}

fn default_reminders() -> Vec<String> {
    ["P14D", "P3D", "P1D"].map(String::from).to_vec()
}

fn default_escalation() -> Vec<EscalationStep> {
    use Audience::*;
    vec![
        EscalationStep {
            after: "P0D".into(),
            to: vec![Reporters],
            cc: vec![],
        },
        EscalationStep {
            after: "P3D".into(),
            to: vec![Heads],
            cc: vec![Recipient],
        },
        EscalationStep {
            after: "P7D".into(),
            to: vec![Recipient],
            cc: vec![],
        },
    ]
}

/// Body of `POST /api/v1/plans/{id}/obligations`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewObligation {
    /// What is reported, e.g. "Báo cáo kết quả thực hiện công tác truyền thông giảm nghèo".
    pub title: String,
    /// Code of the unit that receives the reports.
    pub recipient: String,
    pub reporters: Reporters,
    /// When it is due; see docs/deadlines.md. `starts_on`/`ends_on` default to the plan's period.
    #[schema(value_type = Object)]
    pub schedule: Schedule,
    /// ISO 8601 duration that delays escalation (not lateness). Default `P0D`.
    #[serde(default = "default_grace")]
    pub grace: String,
    /// ISO 8601 durations before `due_at`. Default `["P14D","P3D","P1D"]`.
    #[serde(default = "default_reminders")]
    pub reminders: Vec<String>,
    /// Default: `P0D` reporters; `P3D` heads, cc recipient; `P7D` recipient.
    #[serde(default = "default_escalation")]
    pub escalation: Vec<EscalationStep>,
    /// JSON Schema of the report's payload.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub form: Option<serde_json::Value>,
    /// The plan's own words of the obligation, quoted in reminders ("Trước ngày 01 tháng 12 hàng năm, báo cáo
    /// kết quả gửi Sở Lao động - Thương binh và Xã hội …"). At most 2,000 characters.
    #[serde(default)]
    pub wording: Option<String>,
    /// The office's notes: how the plan was read, what is assumed where it is silent (at most 2,000 characters).
    #[serde(default)]
    pub notes: Option<String>,
}

/// Body of `PATCH /api/v1/obligations/{id}`: fields present are set; `form: null` removes the form.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObligationPatch {
    pub title: Option<String>,
    pub recipient: Option<String>,
    pub reporters: Option<Reporters>,
    #[schema(value_type = Option<Object>)]
    pub schedule: Option<Schedule>,
    pub grace: Option<String>,
    pub reminders: Option<Vec<String>>,
    pub escalation: Option<Vec<EscalationStep>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Object>)]
    pub form: Option<Option<serde_json::Value>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub wording: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub notes: Option<Option<String>>,
    /// With `recipient`: the first period whose reports go to it (e.g. `2025`). Earlier periods keep their
    /// recipient; reports already received stay where they went. Default: the first period whose last day has
    /// not passed. The obligation's own `recipient` stays the one the plan names; `recipients` shows who receives
    /// from when.
    pub from_period: Option<String>,
}

/// An obligation as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Obligation {
    pub id: i64,
    pub plan_id: i64,
    pub title: String,
    /// Code of the unit the reports go to (see `recipients` for changes).
    pub recipient: String,
    pub recipient_name: String,
    pub reporters: Reporters,
    #[schema(value_type = Object)]
    pub schedule: Schedule,
    /// How the schedule's due rule is read, in words: which day is the last day and what happens when it is a
    /// day off, e.g. "30/11, or the next working day when it is a day off (Civil Code art. 148)". A legal
    /// reading: set `shift` to `previous_working_day` for the strict one (docs/deadlines.md).
    pub last_day_rule: String,
    /// Who receives the reports from when, when that changed (a succession, or the office's choice): the
    /// recipient follows succession, and a split leaves the choice to the office (`recipient_split` warning).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<RecipientSpan>,
    /// The window the deadlines cover (the schedule's, else the plan's period).
    pub window: Window,
    pub grace: String,
    pub reminders: Vec<String>,
    pub escalation: Vec<EscalationStep>,
    #[schema(value_type = Option<Object>)]
    pub form: Option<serde_json::Value>,
    /// The plan's own words of the obligation.
    pub wording: Option<String>,
    /// The office's notes: how the plan was read, what is assumed.
    pub notes: Option<String>,
    /// How many deadlines exist.
    pub deadlines: i64,
    /// Periods without any valid reporter or without a valid recipient: they need a decision.
    pub warnings: Vec<Warning>,
    /// Present on create and update: what materialising did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub materialised: Option<MaterialiseReport>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The last day from which a recipient chosen with `from_period` receives: that period's last day, or by
/// default the first last day not yet passed.
fn first_day_of(
    conn: &mut AnyConnection,
    row: &ObligationRow,
    from_period: Option<&str>,
    now: DateTime<Utc>,
) -> ServiceResult<NaiveDate> {
    let parsed = Parsed::load(conn, row.clone())?;
    let today = now.date_naive();
    let Some(text) = from_period else {
        let window = parsed.window();
        let periods = crate::domain::materialize::scheduled_periods(
            &parsed.schedule,
            (window.starts_on, window.ends_on),
        );
        for period in periods {
            let day = crate::domain::last_day(&parsed.schedule, &period, &parsed.calendar, None)
                .map_err(|e| ServiceError::data(format!("obligation {}: {e}", row.id)))?;
            if day >= today {
                return Ok(day);
            }
        }
        return Ok(today);
    };
    let invalid = |why: String| ServiceError::invalid("/from_period", why);
    let period: crate::domain::Period = text.parse().map_err(|_| {
        invalid(format!(
            "`{text}` is not a period id such as 2025 or 202507"
        ))
    })?;
    if period.period_type() != parsed.schedule.period_type {
        return Err(invalid(format!(
            "`{text}` is not a {} period",
            parsed.schedule.period_type
        )));
    }
    let event_end = match period {
        crate::domain::Period::Event(event) => Some(
            store::obligations::find_event(conn, event)?
                .filter(|e| e.obligation_id == row.id)
                .ok_or_else(|| invalid(format!("event {event} is not one of this obligation's")))?
                .ended_on,
        ),
        _ => None,
    };
    crate::domain::last_day(&parsed.schedule, &period, &parsed.calendar, event_end)
        .map_err(|e| invalid(e.to_string()))
}

/// The recipient line in codes, when it is more than the named recipient for ever.
fn spans(conn: &mut AnyConnection, row: &ObligationRow) -> ServiceResult<Vec<RecipientSpan>> {
    use crate::domain::materialize::RecipientAt;
    let line = super::recompute::recipient_line(conn, row)?;
    if line.from.len() <= 1 {
        return Ok(Vec::new());
    }
    let mut ids: Vec<i64> = Vec::new();
    for (_, who) in &line.from {
        match who {
            RecipientAt::Unit(id) => ids.push(*id),
            RecipientAt::Split(several) => ids.extend(several),
            RecipientAt::Nobody => {}
        }
    }
    let codes = store::units::codes_by_id(conn, &ids)?;
    let code = |id: &i64| codes.get(id).cloned();
    Ok(line
        .from
        .iter()
        .map(|(from, who)| RecipientSpan {
            from: (*from != NaiveDate::MIN).then_some(*from),
            recipient: match who {
                RecipientAt::Unit(id) => code(id),
                _ => None,
            },
            split_into: match who {
                RecipientAt::Split(several) => several.iter().filter_map(code).collect(),
                _ => Vec::new(),
            },
        })
        .collect())
}

/// From a last day on, who receives the reports.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecipientSpan {
    /// Periods whose last day is on or after this day (absent: from the start).
    pub from: Option<NaiveDate>,
    /// The receiving unit's code; absent when nobody receives or the office has to choose.
    pub recipient: Option<String>,
    /// When the recipient's work went to several units: the office chooses among these.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub split_into: Vec<String>,
}

/// The checked, resolved content of an obligation.
struct Draft {
    title: String,
    recipient_id: i64,
    reporters: Reporters,
    schedule: Schedule,
    grace: String,
    reminders: Vec<String>,
    escalation: Vec<EscalationStep>,
    form: Option<serde_json::Value>,
    wording: Option<String>,
    notes: Option<String>,
}

/// A long text as stored (trimmed, absent when empty), or a field error at `pointer` when it is too long.
fn long_text(pointer: &str, text: Option<String>) -> ServiceResult<Option<String>> {
    let text = text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    if text.as_ref().is_some_and(|t| t.chars().count() > 2000) {
        return Err(ServiceError::invalid(
            pointer,
            "must be at most 2000 characters",
        ));
    }
    Ok(text)
}

impl Draft {
    fn store(
        &self,
        now: DateTime<Utc>,
        f: impl FnOnce(ObligationValues<'_>) -> ServiceResult<()>,
    ) -> ServiceResult<()> {
        f(ObligationValues {
            title: self.title.trim(),
            recipient_id: self.recipient_id,
            reporters: TextJson(&self.reporters),
            schedule: TextJson(&self.schedule),
            grace: &self.grace,
            reminders: TextJson(&self.reminders),
            escalation: TextJson(&self.escalation),
            form: self.form.as_ref().map(TextJson),
            wording: self.wording.as_deref(),
            notes: self.notes.as_deref(),
            updated_at: now.into(),
        })
    }
}

/// Checks an ISO 8601 duration such as `P14D` or `PT12H` (whole seconds, at most ten years).
fn check_duration(pointer: String, value: &str, errors: &mut Vec<FieldError>) -> Option<Offset> {
    let offset = Offset::parse(value);
    if offset.is_none() {
        errors.push(FieldError::new(
            pointer,
            format!("`{value}` is not an ISO 8601 duration such as P3D"),
        ));
    }
    offset
}

/// Every field error of a draft; resolves the recipient and reporter codes on the way.
#[allow(clippy::too_many_arguments)]
fn check(
    conn: &mut AnyConnection,
    plan: &store::plans::PlanRow,
    title: &str,
    recipient: &str,
    reporters: &Reporters,
    schedule: &Schedule,
    grace: &str,
    reminders: &[String],
    escalation: &[EscalationStep],
    form: Option<&serde_json::Value>,
) -> ServiceResult<i64> {
    let mut errors = Vec::new();
    if title.trim().is_empty() {
        errors.push(FieldError::new("/title", "must not be empty"));
    }
    let recipient_id = store::units::find_by_code(conn, recipient)?.map(|u| u.id);
    if recipient_id.is_none() {
        errors.push(FieldError::new(
            "/recipient",
            format!("unit `{recipient}` does not exist"),
        ));
    }
    match reporters {
        Reporters::Units(codes) => {
            if codes.is_empty() {
                errors.push(FieldError::new(
                    "/reporters/units",
                    "name at least one unit",
                ));
            }
            let mut seen = HashSet::new();
            for (i, code) in codes.iter().enumerate() {
                if !seen.insert(code) {
                    errors.push(FieldError::new(
                        format!("/reporters/units/{i}"),
                        format!("`{code}` is listed twice"),
                    ));
                } else if store::units::find_by_code(conn, code)?.is_none() {
                    errors.push(FieldError::new(
                        format!("/reporters/units/{i}"),
                        format!("unit `{code}` does not exist"),
                    ));
                }
            }
        }
        Reporters::Group(group) => {
            if store::units::find_by_code(conn, &group.parent)?.is_none() {
                errors.push(FieldError::new(
                    "/reporters/group/parent",
                    format!("unit `{}` does not exist", group.parent),
                ));
            }
            if group.kinds.is_empty() {
                errors.push(FieldError::new(
                    "/reporters/group/kinds",
                    "name at least one kind",
                ));
            }
        }
    }
    if let Err(schedule_errors) = schedule.validate() {
        errors.extend(
            schedule_errors
                .into_iter()
                .map(|e| FieldError::new(format!("/schedule{}", e.pointer), e.message)),
        );
    }
    for (field, day) in [
        ("starts_on", schedule.starts_on),
        ("ends_on", schedule.ends_on),
    ] {
        if let Some(day) = day {
            if day < plan.starts_on || day > plan.ends_on {
                errors.push(FieldError::new(
                    format!("/schedule/{field}"),
                    format!(
                        "{day} is outside the plan's period {} to {}",
                        plan.starts_on, plan.ends_on
                    ),
                ));
            }
        }
    }
    if let crate::domain::DueRule::Date { date, .. } = schedule.due {
        errors.extend(crate::domain::check_date("/schedule/due/date", date));
    }
    if store::calendars::find(conn, &schedule.calendar)?.is_none() {
        errors.push(FieldError::new(
            "/schedule/calendar",
            format!("calendar `{}` does not exist", schedule.calendar),
        ));
    }
    check_duration("/grace".into(), grace, &mut errors);
    for (i, r) in reminders.iter().enumerate() {
        let pointer = format!("/reminders/{i}");
        if check_duration(pointer.clone(), r, &mut errors) == Some(Offset::default()) {
            // due_at − 0 is the morning after the last day: such a reminder could never be sent in time.
            errors.push(FieldError::new(
                pointer,
                "a reminder comes before the deadline: use P1D for its last day",
            ));
        }
    }
    for (i, step) in escalation.iter().enumerate() {
        check_duration(format!("/escalation/{i}/after"), &step.after, &mut errors);
        if step.to.is_empty() {
            errors.push(FieldError::new(
                format!("/escalation/{i}/to"),
                "name at least one audience",
            ));
        }
    }
    if let Some(form) = form {
        if !form.is_object() {
            errors.push(FieldError::new("/form", "must be a JSON Schema object"));
        } else if let Err(e) = jsonschema::validator_for(form) {
            errors.push(FieldError::new(
                "/form",
                format!("is not a valid JSON Schema: {e}"),
            ));
        }
    }
    ensure_valid(errors)?;
    Ok(recipient_id.unwrap_or_default())
}

pub fn create(
    conn: &mut AnyConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    plan_id: i64,
    input: NewObligation,
) -> ServiceResult<Obligation> {
    store::transaction(conn, |conn| {
        let plan = store::plans::find(conn, plan_id)?
            .ok_or_else(|| ServiceError::not_found("plan", plan_id))?;
        actor.require_coordinator_of(plan.coordinator_id)?;
        let recipient_id = check(
            conn,
            &plan,
            &input.title,
            &input.recipient,
            &input.reporters,
            &input.schedule,
            &input.grace,
            &input.reminders,
            &input.escalation,
            input.form.as_ref(),
        )?;
        let draft = Draft {
            title: input.title,
            recipient_id,
            reporters: input.reporters,
            schedule: input.schedule,
            grace: input.grace,
            reminders: input.reminders,
            escalation: input.escalation,
            form: input.form,
            wording: long_text("/wording", input.wording)?,
            notes: long_text("/notes", input.notes)?,
        };
        let mut id = 0;
        draft.store(now, |values| {
            id = store::obligations::insert(conn, plan_id, values)?;
            Ok(())
        })?;
        let report = rematerialise(conn, now, id, Reach::Open)?;
        let mut created = get(conn, id)?;
        created.materialised = Some(report);
        audit::<Obligation, Obligation>(
            conn,
            actor,
            now,
            "obligation.create",
            &id.to_string(),
            None,
            Some(&created),
        )?;
        Ok(created)
    })
}

pub fn update(
    conn: &mut AnyConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    patch: ObligationPatch,
) -> ServiceResult<Obligation> {
    store::transaction(conn, |conn| {
        let before = get(conn, id)?;
        let plan = store::plans::find(conn, before.plan_id)?
            .ok_or_else(|| ServiceError::data(format!("obligation {id} has no plan")))?;
        actor.require_coordinator_of(plan.coordinator_id)?;
        let row = store::obligations::find(conn, id)?
            .ok_or_else(|| ServiceError::not_found("obligation", id))?;
        let draft_title = patch.title.unwrap_or_else(|| before.title.clone());
        // A new recipient applies from a period on (history keeps its own); the plan's named one stays.
        let chosen = patch.recipient.clone();
        if patch.from_period.is_some() && chosen.is_none() {
            return Err(ServiceError::invalid(
                "/from_period",
                "give the `recipient` that receives the reports from this period on",
            ));
        }
        let recipient = chosen.clone().unwrap_or_else(|| before.recipient.clone());
        let reporters = patch.reporters.unwrap_or_else(|| before.reporters.clone());
        let schedule = patch.schedule.unwrap_or_else(|| before.schedule.clone());
        let grace = patch.grace.unwrap_or_else(|| before.grace.clone());
        let reminders = patch.reminders.unwrap_or_else(|| before.reminders.clone());
        let escalation = patch
            .escalation
            .unwrap_or_else(|| before.escalation.clone());
        let form = patch.form.unwrap_or_else(|| before.form.clone());
        let recipient_id = check(
            conn,
            &plan,
            &draft_title,
            &recipient,
            &reporters,
            &schedule,
            &grace,
            &reminders,
            &escalation,
            form.as_ref(),
        )?;
        if schedule.period_type != before.schedule.period_type {
            return Err(ServiceError::invalid(
                "/schedule/period_type",
                "cannot change: create a new obligation for a different kind of period",
            ));
        }
        if chosen.is_some() {
            let from_day = first_day_of(conn, &row, patch.from_period.as_deref(), now)?;
            store::obligations::choose_recipient(conn, id, from_day, recipient_id)?;
        }
        let draft = Draft {
            title: draft_title,
            recipient_id: row.recipient_id,
            reporters,
            schedule,
            grace,
            reminders,
            escalation,
            form,
            wording: long_text(
                "/wording",
                patch.wording.unwrap_or_else(|| before.wording.clone()),
            )?,
            notes: long_text(
                "/notes",
                patch.notes.unwrap_or_else(|| before.notes.clone()),
            )?,
        };
        draft.store(now, |values| {
            Ok(store::obligations::update(conn, id, values)?)
        })?;
        let report = rematerialise(conn, now, id, Reach::Open)?;
        let mut after = get(conn, id)?;
        after.materialised = Some(report);
        audit(
            conn,
            actor,
            now,
            "obligation.update",
            &id.to_string(),
            Some(&before),
            Some(&after),
        )?;
        Ok(after)
    })
}

/// What the pages show of an obligation, read in one query: [`get`] also plans every deadline of it (for its
/// warnings) and counts them, which for a national monthly obligation is most of a page's time.
#[derive(Debug, Clone)]
pub struct Brief {
    pub id: i64,
    pub plan_id: i64,
    pub title: String,
    pub form: Option<serde_json::Value>,
    /// The plan's own words of the obligation.
    pub wording: Option<String>,
}

pub fn brief(conn: &mut AnyConnection, id: i64) -> ServiceResult<Brief> {
    let row = store::obligations::find(conn, id)?
        .ok_or_else(|| ServiceError::not_found("obligation", id))?;
    Ok(Brief {
        id: row.id,
        plan_id: row.plan_id,
        title: row.title,
        form: row.form.map(|f| f.0),
        wording: row.wording,
    })
}

pub fn get(conn: &mut AnyConnection, id: i64) -> ServiceResult<Obligation> {
    let row = store::obligations::find(conn, id)?
        .ok_or_else(|| ServiceError::not_found("obligation", id))?;
    view(conn, row)
}

pub fn list(
    conn: &mut AnyConnection,
    plan_id: i64,
    page: &PageParams,
) -> ServiceResult<Page<Obligation>> {
    let mut errors = Vec::new();
    let (limit, after) = page.resolve(&mut errors);
    ensure_valid(errors)?;
    store::plans::find(conn, plan_id)?.ok_or_else(|| ServiceError::not_found("plan", plan_id))?;
    let rows = store::obligations::list(conn, Some(plan_id), after, limit + 1)?;
    Page::from_rows(rows, limit, |r| r.id, |row| view(conn, row))
}

/// Query of `GET /api/v1/obligations`: obligations across plans. Every filter narrows.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ObligationQuery {
    /// Only this plan's (id).
    pub plan: Option<i64>,
    /// Only those whose reports go to this unit (code), now or after a succession.
    pub recipient: Option<String>,
    /// Only those this unit (code) reports under.
    pub reporter: Option<String>,
    /// yearly, six_monthly, quarterly, monthly, weekly, once or event.
    pub period_type: Option<String>,
}

/// Obligations across plans, scoped to what `actor` sees: a reporter those it reports under, a coordinator
/// those of the plans it coordinates.
pub fn list_all(
    conn: &mut AnyConnection,
    actor: &Actor,
    query: &ObligationQuery,
    page: &PageParams,
) -> ServiceResult<Page<Obligation>> {
    let mut errors = Vec::new();
    let (limit, after) = page.resolve(&mut errors);
    let mut filter = store::obligations::ObligationFilter {
        plan_id: query.plan,
        after,
        limit: limit + 1,
        ..Default::default()
    };
    let mut unit = |pointer: &str, code: &Option<String>, errors: &mut Vec<FieldError>| {
        let Some(code) = code else {
            return Ok(None);
        };
        let found = store::units::find_by_code(conn, code)?;
        if found.is_none() {
            errors.push(FieldError::new(
                pointer,
                format!("unit `{code}` does not exist"),
            ));
        }
        ServiceResult::Ok(found.map(|u| u.id))
    };
    filter.recipient_id = unit("/recipient", &query.recipient, &mut errors)?;
    filter.reporter_id = unit("/reporter", &query.reporter, &mut errors)?;
    if let Some(kind) = &query.period_type {
        match crate::domain::PeriodType::parse(kind) {
            Some(t) => filter.period_type = Some(t.as_str()),
            None => errors.push(FieldError::new(
                "/period_type",
                format!("`{kind}` is not one of yearly, six_monthly, quarterly, monthly, weekly, once, event"),
            )),
        }
    }
    if let Some(id) = query.plan {
        if store::plans::find(conn, id)?.is_none() {
            errors.push(FieldError::new(
                "/plan",
                format!("plan {id} does not exist"),
            ));
        }
    }
    ensure_valid(errors)?;
    let scope = actor.scope(filter.reporter_id, "obligations")?;
    (filter.reporter_id, filter.coordinator_id) = (scope.unit_id, scope.coordinator_id);
    let rows = store::obligations::list_filtered(conn, &filter)?;
    Page::from_rows(rows, limit, |r| r.id, |row| view(conn, row))
}

fn view(conn: &mut AnyConnection, row: ObligationRow) -> ServiceResult<Obligation> {
    let parsed = Parsed::load(conn, row)?;
    let planned = plan_deadlines(conn, &parsed, false)?;
    let recipient_unit = store::units::find(conn, parsed.row.recipient_id)?.ok_or_else(|| {
        ServiceError::data(format!("obligation {} has no recipient", parsed.row.id))
    })?;
    let (recipient, recipient_name) = (recipient_unit.code, recipient_unit.name);
    let recipients = spans(conn, &parsed.row)?;
    let row = &parsed.row;
    Ok(Obligation {
        id: row.id,
        plan_id: row.plan_id,
        title: row.title.clone(),
        recipients,
        recipient,
        recipient_name,
        window: parsed.window(),
        reporters: parsed.reporters.clone(),
        schedule: parsed.schedule.clone(),
        last_day_rule: parsed.schedule.last_day_rule(),
        grace: row.grace.clone(),
        reminders: row.reminders.0.clone(),
        escalation: row.escalation.0.clone(),
        form: row.form.as_ref().map(|f| f.0.clone()),
        wording: row.wording.clone(),
        notes: row.notes.clone(),
        deadlines: store::deadlines::count_of_obligation(conn, row.id)?,
        warnings: planned.warnings,
        materialised: None,
        created_at: row.created_at.into(),
        updated_at: row.updated_at.into(),
    })
}

/// Whether `actor` may see an obligation: admins and viewers all, a coordinator those of its plans, a reporter
/// those it has deadlines under. A missing obligation is not found.
pub fn visible_to(conn: &mut AnyConnection, actor: &Actor, id: i64) -> ServiceResult<bool> {
    let (_, plan) = store::obligations::find_with_plan(conn, id)?
        .ok_or_else(|| ServiceError::not_found("obligation", id))?;
    Ok(match actor.role {
        super::Role::Admin | super::Role::Viewer => true,
        super::Role::Coordinator => actor.unit_id == Some(plan.coordinator_id),
        super::Role::Reporter => match actor.unit_id {
            Some(unit) => !store::deadlines::list(
                conn,
                &store::deadlines::DeadlineFilter {
                    obligation_id: Some(id),
                    unit_id: Some(unit),
                    limit: 1,
                    ..Default::default()
                },
            )?
            .is_empty(),
            None => false,
        },
    })
}
