//! Obligations (nghĩa vụ báo cáo) and their deadlines: create, read, change, and materialise.
//!
//! Creating or changing an obligation materialises its deadlines for its whole window in the same transaction;
//! a calendar edit or an event recomputes them. Only deadlines still pending (no submission, no waiver, no
//! extension) are ever moved or removed.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::{audit, ensure_valid, nullable, Actor, Page, PageParams, ServiceError, ServiceResult};
use crate::domain::materialize::{self, Candidate, Materialised, RecipientValidity, Warning};
use crate::domain::notify::{self, Offset};
use crate::domain::unit::UnitKind;
use crate::domain::{Calendar, FieldError, Period, PeriodType, Schedule};
use crate::store::deadlines::NewDeadline;
use crate::store::obligations::{ObligationRow, ObligationValues};
use crate::store::units::UnitRow;
use crate::store::{self, AnyConnection, StoreError};

/// Who reports: a list of units, or every unit of some kinds below a parent that exists in the period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Reporters {
    /// Unit codes, e.g. `["HN-BADINH", "HN-HOANKIEM"]`.
    Units(Vec<String>),
    Group(ReporterGroup),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReporterGroup {
    /// Code of the unit whose descendants report.
    pub parent: String,
    /// Kinds of the descendants that report, e.g. `["district"]`.
    pub kinds: Vec<UnitKind>,
}

/// Whom an escalation step writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// The late unit's reporters.
    Reporters,
    /// The late unit's heads.
    Heads,
    /// The recipient unit's contacts.
    Recipient,
}

/// One rung of the escalation ladder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalationStep {
    /// ISO 8601 duration past `due_at + grace`, e.g. `P3D`.
    pub after: String,
    pub to: Vec<Audience>,
    #[serde(default)]
    pub cc: Vec<Audience>,
}

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
}

/// What a (re)materialisation did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MaterialiseReport {
    pub created: usize,
    pub rescheduled: usize,
    pub removed: usize,
}

/// An obligation as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Obligation {
    pub id: i64,
    pub plan_id: i64,
    pub title: String,
    pub recipient: String,
    pub reporters: Reporters,
    #[schema(value_type = Object)]
    pub schedule: Schedule,
    /// The window the deadlines cover (the schedule's, else the plan's period).
    pub window: Window,
    pub grace: String,
    pub reminders: Vec<String>,
    pub escalation: Vec<EscalationStep>,
    #[schema(value_type = Option<Object>)]
    pub form: Option<serde_json::Value>,
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

#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct Window {
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
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
}

impl Draft {
    fn store(
        &self,
        now: DateTime<Utc>,
        f: impl FnOnce(ObligationValues<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let reporters = store::to_json(&self.reporters);
        let schedule = store::to_json(&self.schedule);
        let reminders = store::to_json(&self.reminders);
        let escalation = store::to_json(&self.escalation);
        let form = self.form.as_ref().map(store::to_json);
        f(ObligationValues {
            title: self.title.trim(),
            recipient_id: self.recipient_id,
            reporters: &reporters,
            schedule: &schedule,
            grace: &self.grace,
            reminders: &reminders,
            escalation: &escalation,
            form: form.as_deref(),
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
            .ok_or_else(|| StoreError::Corrupt(format!("obligation {id} has no plan")))?;
        actor.require_coordinator_of(plan.coordinator_id)?;
        let draft_title = patch.title.unwrap_or_else(|| before.title.clone());
        let recipient = patch.recipient.unwrap_or_else(|| before.recipient.clone());
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
        let draft = Draft {
            title: draft_title,
            recipient_id,
            reporters,
            schedule,
            grace,
            reminders,
            escalation,
            form,
        };
        draft.store(now, |values| store::obligations::update(conn, id, values))?;
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

pub fn get(conn: &mut AnyConnection, id: i64) -> ServiceResult<Obligation> {
    let row = store::obligations::find(conn, id)?
        .ok_or_else(|| ServiceError::not_found("obligation", id))?;
    Ok(view(conn, row)?)
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
    Ok(Page::from_rows(
        rows,
        limit,
        |r| r.id,
        |row| view(conn, row),
    )?)
}

/// An obligation's stored documents, decoded.
struct Parsed {
    row: ObligationRow,
    reporters: Reporters,
    schedule: Schedule,
    plan: store::plans::PlanRow,
    /// The working-day calendar the schedule names (empty when it does not exist).
    calendar: Calendar,
}

impl Parsed {
    fn load(conn: &mut AnyConnection, row: ObligationRow) -> Result<Self, StoreError> {
        let plan = store::plans::find(conn, row.plan_id)?
            .ok_or_else(|| StoreError::Corrupt(format!("obligation {} has no plan", row.id)))?;
        let schedule: Schedule = store::from_json("obligations.schedule", &row.schedule)?;
        let calendar = super::calendars::load(conn, &schedule.calendar)?.unwrap_or_default();
        Ok(Self {
            reporters: store::from_json("obligations.reporters", &row.reporters)?,
            schedule,
            row,
            plan,
            calendar,
        })
    }

    fn window(&self) -> Window {
        Window {
            starts_on: self.schedule.starts_on.unwrap_or(self.plan.starts_on),
            ends_on: self.schedule.ends_on.unwrap_or(self.plan.ends_on),
        }
    }
}

fn view(conn: &mut AnyConnection, row: ObligationRow) -> Result<Obligation, StoreError> {
    let parsed = Parsed::load(conn, row)?;
    let planned = plan_deadlines(conn, &parsed, false)?;
    let recipient = store::units::codes_by_id(conn, &[parsed.row.recipient_id])?
        .remove(&parsed.row.recipient_id)
        .ok_or_else(|| {
            StoreError::Corrupt(format!("obligation {} has no recipient", parsed.row.id))
        })?;
    let row = &parsed.row;
    Ok(Obligation {
        id: row.id,
        plan_id: row.plan_id,
        title: row.title.clone(),
        recipient,
        window: parsed.window(),
        reporters: parsed.reporters.clone(),
        schedule: parsed.schedule.clone(),
        grace: row.grace.clone(),
        reminders: store::from_json("obligations.reminders", &row.reminders)?,
        escalation: store::from_json("obligations.escalation", &row.escalation)?,
        form: row
            .form
            .as_deref()
            .map(|f| store::from_json("obligations.form", f))
            .transpose()?,
        deadlines: store::deadlines::count_of_obligation(conn, row.id)?,
        warnings: planned.warnings,
        materialised: None,
        created_at: row.created_at.into(),
        updated_at: row.updated_at.into(),
    })
}

/// The units that may report, with validity and succession (DESIGN.md §1: deadlines follow successors).
fn candidates(
    conn: &mut AnyConnection,
    reporters: &Reporters,
) -> Result<Vec<Candidate>, StoreError> {
    let base: Vec<UnitRow> = match reporters {
        Reporters::Units(codes) => {
            let mut rows = Vec::new();
            for code in codes {
                rows.extend(store::units::find_by_code(conn, code)?);
            }
            rows
        }
        Reporters::Group(group) => {
            let Some(parent) = store::units::find_by_code(conn, &group.parent)? else {
                return Ok(Vec::new());
            };
            let kinds: Vec<&str> = group.kinds.iter().map(|k| k.as_str()).collect();
            store::units::descendants(conn, parent.id)?
                .into_iter()
                .filter(|u| kinds.contains(&u.kind.as_str()))
                .collect()
        }
    };
    let mut out: Vec<Candidate> = base
        .iter()
        .map(|u| candidate(u, None))
        .collect::<Result<_, _>>()?;
    // Follow succession links transitively; a successor joins from its (latest) succession date.
    let mut seen: HashSet<i64> = base.iter().map(|u| u.id).collect();
    let mut frontier: Vec<(i64, Option<NaiveDate>)> = base.iter().map(|u| (u.id, None)).collect();
    while !frontier.is_empty() {
        let joins: HashMap<i64, Option<NaiveDate>> = frontier.iter().copied().collect();
        let ids: Vec<i64> = frontier.iter().map(|(id, _)| *id).collect();
        let links = store::units::successions_from(conn, &ids)?;
        let mut next = Vec::new();
        let mut new_ids = Vec::new();
        for link in links {
            let joined =
                joins[&link.predecessor_id].map_or(link.effective_on, |j| j.max(link.effective_on));
            if seen.insert(link.successor_id) {
                next.push((link.successor_id, Some(joined)));
                new_ids.push(link.successor_id);
            }
        }
        let rows = store::units::find_many(conn, &new_ids)?;
        for (id, joined) in &next {
            if let Some(row) = rows.iter().find(|r| r.id == *id) {
                out.push(candidate(row, *joined)?);
            }
        }
        frontier = next;
    }
    Ok(out)
}

fn candidate(unit: &UnitRow, joins_on: Option<NaiveDate>) -> Result<Candidate, StoreError> {
    Ok(Candidate {
        unit_id: unit.id,
        time_zone: unit.time_zone.parse::<Tz>().map_err(|_| {
            StoreError::Corrupt(format!("unit {} time zone `{}`", unit.code, unit.time_zone))
        })?,
        valid_from: unit.valid_from,
        valid_until: unit.valid_until,
        joins_on,
    })
}

/// The deadlines the obligation should have now, with its warnings.
fn plan_deadlines(
    conn: &mut AnyConnection,
    parsed: &Parsed,
    collect: bool,
) -> Result<Materialised, StoreError> {
    let calendar = &parsed.calendar;
    let candidates = candidates(conn, &parsed.reporters)?;
    let recipient = store::units::find(conn, parsed.row.recipient_id)?.ok_or_else(|| {
        StoreError::Corrupt(format!("obligation {} has no recipient", parsed.row.id))
    })?;
    let recipient = RecipientValidity {
        valid_from: recipient.valid_from,
        valid_until: recipient.valid_until,
    };
    let window = parsed.window();
    // Reading an obligation needs only its warnings: skip building (and dropping) every deadline.
    let run = |s: &Schedule,
               p: &[Period],
               c: &Calendar,
               e: Option<NaiveDate>,
               cs: &[Candidate],
               r: RecipientValidity| {
        if collect {
            materialize::materialise(s, p, c, e, cs, r)
        } else {
            materialize::warnings(s, p, c, e, cs, r).map(|warnings| Materialised {
                deadlines: Vec::new(),
                warnings,
            })
        }
    };
    let corrupt = |e: crate::domain::DueError| {
        StoreError::Corrupt(format!("obligation {}: {e}", parsed.row.id))
    };
    if parsed.schedule.period_type != PeriodType::Event {
        let periods =
            materialize::scheduled_periods(&parsed.schedule, (window.starts_on, window.ends_on));
        return run(
            &parsed.schedule,
            &periods,
            calendar,
            None,
            &candidates,
            recipient,
        )
        .map_err(corrupt);
    }
    let mut all = Materialised::default();
    for event in store::obligations::events(conn, Some(parsed.row.id), None, i64::MAX)? {
        let only: Option<Vec<String>> = event
            .units
            .as_deref()
            .map(|u| store::from_json("events.units", u))
            .transpose()?;
        let chosen: Vec<Candidate> = match only {
            None => candidates.clone(),
            Some(codes) => {
                let mut ids = HashSet::new();
                for code in &codes {
                    ids.extend(store::units::find_by_code(conn, code)?.map(|u| u.id));
                }
                candidates
                    .iter()
                    .filter(|c| ids.contains(&c.unit_id))
                    .cloned()
                    .collect()
            }
        };
        let one = run(
            &parsed.schedule,
            &[Period::Event(event.id)],
            calendar,
            Some(event.ended_on),
            &chosen,
            recipient,
        )
        .map_err(corrupt)?;
        all.deadlines.extend(one.deadlines);
        all.warnings.extend(one.warnings);
    }
    Ok(all)
}

/// Brings the stored deadlines of obligation `id` in line with its schedule, reporters, events and calendar:
/// inserts the missing ones in bulk, moves pending ones whose last day changed, removes pending ones no longer
/// planned. Submitted, returned, waived and extended deadlines are never touched.
pub fn rematerialise(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    id: i64,
    reach: Reach,
) -> Result<MaterialiseReport, StoreError> {
    store::obligations::lock(conn, id)?;
    let row = store::obligations::find(conn, id)?
        .ok_or_else(|| StoreError::Corrupt(format!("obligation {id} vanished")))?;
    let parsed = Parsed::load(conn, row)?;
    let planned = plan_deadlines(conn, &parsed, true)?;
    // The first moment the notice tick needs to look at each new deadline (see notify::earliest_notice).
    let reminders: Vec<String> = store::from_json("obligations.reminders", &parsed.row.reminders)?;
    let reminders: Vec<Offset> = reminders.iter().filter_map(|r| Offset::parse(r)).collect();
    let mut existing: HashMap<(i64, String), store::deadlines::DeadlineRow> =
        store::deadlines::of_obligation(conn, id, None)?
            .into_iter()
            .map(|d| ((d.unit_id, d.period.clone()), d))
            .collect();
    let mut report = MaterialiseReport::default();
    let mut new_rows = Vec::new();
    for d in planned.deadlines {
        let period = d.period.to_string();
        match existing.remove(&(d.unit_id, period.clone())) {
            None => new_rows.push(NewDeadline {
                obligation_id: id,
                unit_id: d.unit_id,
                event_id: match d.period {
                    Period::Event(event) => Some(event),
                    _ => None,
                },
                period,
                last_day: d.last_day,
                due_at: d.due_at.into(),
                created_at: now.into(),
                updated_at: now.into(),
                next_notice_at: Some(
                    notify::earliest_notice(d.due_at, &reminders, &parsed.calendar).into(),
                ),
            }),
            Some(old)
                if is_movable(&old, now, reach)
                    && (old.last_day != d.last_day || old.due_at.0 != d.due_at) =>
            {
                store::deadlines::reschedule(
                    conn,
                    old.id,
                    d.last_day,
                    d.due_at.into(),
                    now.into(),
                )?;
                report.rescheduled += 1;
            }
            Some(_) => {}
        }
    }
    let stale: Vec<i64> = existing
        .values()
        .filter(|d| is_movable(d, now, reach))
        .map(|d| d.id)
        .collect();
    report.removed = store::deadlines::delete_pending(conn, &stale)?;
    report.created = store::deadlines::insert_many(conn, &new_rows)?;
    if report.created >= 10_000 {
        store::deadlines::analyze(conn)?;
    }
    Ok(report)
}

/// Which deadlines a recomputation may move or remove.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Only those still open (DESIGN.md §2.5): an overdue deadline is part of the compliance record.
    Open,
    /// Overdue ones too: a succession recorded after its date hands them to the successors.
    Pending,
}

/// Only a deadline nobody has acted on follows recomputation.
fn is_movable(d: &store::deadlines::DeadlineRow, now: DateTime<Utc>, reach: Reach) -> bool {
    d.state == "pending"
        && d.extended_reason.is_none()
        && (reach == Reach::Pending || d.due_at.0 > now)
}

/// Recomputes the obligations a change of unit `unit_id` (created, moved, re-zoned, ended) can affect: those with
/// deadlines for it, those listing it, and the groups it belongs to through its ancestors and kind.
pub fn recompute_for_unit(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    unit_id: i64,
) -> Result<MaterialiseReport, StoreError> {
    let unit = store::units::find(conn, unit_id)?
        .ok_or_else(|| StoreError::Corrupt(format!("unit {unit_id} vanished")))?;
    let ancestors = store::units::ancestors(conn, unit_id)?;
    let mut ids: std::collections::BTreeSet<i64> =
        store::deadlines::obligations_of_unit(conn, unit_id)?
            .into_iter()
            .collect();
    let mut parents: HashMap<String, Option<i64>> = HashMap::new();
    let mut after = None;
    loop {
        let rows = store::obligations::list(conn, None, after, 500)?;
        let Some(last) = rows.last() else { break };
        after = Some(last.id);
        for row in rows {
            let reporters: Reporters = store::from_json("obligations.reporters", &row.reporters)?;
            let concerned = match reporters {
                Reporters::Units(codes) => codes.contains(&unit.code),
                Reporters::Group(group) => {
                    let parent = match parents.get(&group.parent) {
                        Some(id) => *id,
                        None => {
                            let id = store::units::find_by_code(conn, &group.parent)?.map(|u| u.id);
                            parents.insert(group.parent.clone(), id);
                            id
                        }
                    };
                    parent.is_some_and(|p| ancestors.contains(&p))
                        && group.kinds.iter().any(|k| k.as_str() == unit.kind)
                }
            };
            if concerned {
                ids.insert(row.id);
            }
        }
    }
    let mut total = MaterialiseReport::default();
    for id in ids {
        let report = rematerialise(conn, now, id, Reach::Open)?;
        total.created += report.created;
        total.rescheduled += report.rescheduled;
        total.removed += report.removed;
    }
    Ok(total)
}

/// Recomputes every obligation that counts working days with calendar `code`; returns how many deadlines moved.
pub fn recompute_for_calendar(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    code: &str,
) -> Result<usize, StoreError> {
    let mut moved = 0;
    let mut after = None;
    loop {
        let rows = store::obligations::list(conn, None, after, 500)?;
        let Some(last) = rows.last() else { break };
        after = Some(last.id);
        for row in rows {
            let schedule: Schedule = store::from_json("obligations.schedule", &row.schedule)?;
            if schedule.calendar == code {
                moved += rematerialise(conn, now, row.id, Reach::Open)?.rescheduled;
            }
        }
    }
    Ok(moved)
}
