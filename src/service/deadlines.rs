//! Deadlines (hạn nộp) as the API lists them, and the events that create event-relative ones.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::recompute::{self, MaterialiseReport};
use super::{audit, ensure_valid, Actor, Page, PageParams, ServiceError, ServiceResult};
use crate::domain::{status_at, DeadlineStatus, FieldError, PeriodType};
use crate::store::deadlines::{DeadlineFilter, ListedDeadline};
use crate::store::obligations::{EventRow, NewEvent};
use crate::store::states::DeadlineState;
use crate::store::{self, AnyConnection, TextJson, UtcDateTime};

/// One (obligation, unit, period) with its last day and the moment it expires.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Deadline {
    pub id: i64,
    pub obligation_id: i64,
    /// Code of the reporting unit.
    pub unit: String,
    /// Period id: `2024`, `2024S1`, `2024Q3`, `202409`, `2024W07`, `once`, `E<event id>`.
    pub period: String,
    /// The last local day on which the report is in time.
    pub last_day: NaiveDate,
    /// 00:00 after the last day in the unit's time zone, with the unit's offset.
    #[schema(value_type = String, format = DateTime)]
    pub due_at: DateTime<FixedOffset>,
    /// The status at the moment of the request: open, overdue, submitted, late, waived or returned.
    #[schema(value_type = String)]
    pub status: DeadlineStatus,
    /// When the first report arrived, with the unit's offset.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub submitted_at: Option<DateTime<FixedOffset>>,
    /// The day the first report arrived, when the office filed it from paper (`received_on`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submitted_on: Option<NaiveDate>,
    /// Why the last day was extended, when it was.
    pub extension_reason: Option<String>,
    /// Why the unit was exempted, when it was.
    pub waiver_reason: Option<String>,
}

/// A page of deadlines, with the obligation's warnings when the list is of one obligation.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeadlineList {
    pub items: Vec<Deadline>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// With `obligation=`: the periods it cannot serve (and why), so that a missing period is explained.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<crate::domain::materialize::Warning>,
}

/// Query of `GET /api/v1/deadlines`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeadlineQuery {
    /// Only this obligation's deadlines.
    pub obligation: Option<i64>,
    /// Only this unit code's deadlines.
    pub unit: Option<String>,
    /// Only this period id.
    pub period: Option<String>,
    /// open, overdue, submitted, late, waived or returned (as of now).
    pub status: Option<String>,
    /// due_at strictly before this instant (RFC 3339, taken as given) or day (YYYY-MM-DD: its 00:00 in the
    /// office's time zone, the `time_zone` setting).
    pub due_before: Option<String>,
    /// due_at at or after this instant or day (as for `due_before`).
    pub due_after: Option<String>,
}

/// An instant as given, or a date: the start of that day in the office's time zone `zone` (not UTC, which would
/// be 07:00 in Hà Nội and cut a day's deadlines in two).
pub(super) fn parse_instant(
    name: &str,
    value: &str,
    zone: Tz,
    errors: &mut Vec<FieldError>,
) -> Option<UtcDateTime> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Some(UtcDateTime(t.with_timezone(&Utc)));
    }
    if let Ok(d) = value.parse::<NaiveDate>() {
        return Some(UtcDateTime(crate::domain::due_at(
            d.pred_opt().unwrap_or(d),
            zone,
        )));
    }
    errors.push(FieldError::new(
        format!("/{name}"),
        format!("`{value}` is neither an RFC 3339 instant nor a date"),
    ));
    None
}

/// `<due_at micros>.<id>`: the keyset position of a row in (due_at, id) order.
fn cursor_of(row: &ListedDeadline) -> String {
    format!("{}.{}", row.0.due_at.0.timestamp_micros(), row.0.id)
}

fn parse_cursor(cursor: &str) -> Option<(UtcDateTime, i64)> {
    let (micros, id) = cursor.split_once('.')?;
    let at = DateTime::from_timestamp_micros(micros.parse().ok()?)?;
    Some((UtcDateTime(at), id.parse().ok()?))
}

pub fn list(
    conn: &mut AnyConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    zone: Tz,
    query: &DeadlineQuery,
    page: &PageParams,
) -> ServiceResult<DeadlineList> {
    list_of_units_existing(conn, actor, now, zone, query, page, None)
}

/// [`list`], of the units that exist on `existing_on` only (when given): the late list leaves out the units
/// that have closed, which can no longer report.
pub(super) fn list_of_units_existing(
    conn: &mut AnyConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    zone: Tz,
    query: &DeadlineQuery,
    page: &PageParams,
    existing_on: Option<NaiveDate>,
) -> ServiceResult<DeadlineList> {
    let mut errors = Vec::new();
    let limit = page.checked_limit(&mut errors);
    let after = page.cursor(&mut errors, parse_cursor);
    let mut filter = DeadlineFilter {
        obligation_id: query.obligation,
        period: query.period.clone(),
        after,
        limit: limit + 1,
        units_existing_on: existing_on,
        ..DeadlineFilter::default()
    };
    if let Some(code) = &query.unit {
        match store::units::find_by_code(conn, code)? {
            Some(unit) => filter.unit_id = Some(unit.id),
            None => errors.push(FieldError::new(
                "/unit",
                format!("unit `{code}` does not exist"),
            )),
        }
    }
    // Scope: a reporter sees its own unit's deadlines only, a coordinator those of the plans it coordinates.
    let scope = actor.scope(filter.unit_id, "deadlines")?;
    (filter.unit_id, filter.coordinator_id) = (scope.unit_id, scope.coordinator_id);
    filter.due_before = query
        .due_before
        .as_deref()
        .and_then(|v| parse_instant("due_before", v, zone, &mut errors));
    filter.due_from = query
        .due_after
        .as_deref()
        .and_then(|v| parse_instant("due_after", v, zone, &mut errors));
    // open and overdue are one stored state split at `now`: narrow the due_at range accordingly.
    let now_bound = UtcDateTime(now);
    match query
        .status
        .as_deref()
        .map(|s| (s, DeadlineStatus::parse(s)))
    {
        None => {}
        Some((_, Some(DeadlineStatus::Open))) => {
            filter.state = Some(DeadlineState::Pending);
            filter.due_from = Some(filter.due_from.map_or(now_bound, |t| t.max(now_bound)));
        }
        Some((_, Some(DeadlineStatus::Overdue))) => {
            filter.state = Some(DeadlineState::Pending);
            filter.due_before = Some(filter.due_before.map_or(now_bound, |t| t.min(now_bound)));
        }
        Some((_, Some(DeadlineStatus::Submitted))) => filter.state = Some(DeadlineState::Submitted),
        Some((_, Some(DeadlineStatus::Late))) => filter.state = Some(DeadlineState::Late),
        Some((_, Some(DeadlineStatus::Waived))) => filter.state = Some(DeadlineState::Waived),
        Some((_, Some(DeadlineStatus::Returned))) => filter.state = Some(DeadlineState::Returned),
        Some((other, None)) => errors.push(FieldError::new(
            "/status",
            format!("`{other}` is not one of open, overdue, submitted, late, waived, returned"),
        )),
    }
    ensure_valid(errors)?;
    let rows = store::deadlines::list(conn, &filter)?;
    let more = rows.len() as i64 > limit;
    let kept: Vec<ListedDeadline> = rows.into_iter().take(limit as usize).collect();
    let next_cursor = if more {
        kept.last().map(cursor_of)
    } else {
        None
    };
    let items = kept
        .into_iter()
        .map(|row| render(row, now))
        .collect::<ServiceResult<_>>()?;
    // Filtered by obligation, the list says why periods have no deadlines (no reporter, no recipient, a split
    // recipient): an empty list must not look complete.
    let warnings = match query.obligation {
        Some(id) => match store::obligations::find(conn, id)? {
            Some(row) => {
                let parsed = super::obligation_rules::Parsed::load(conn, row)?;
                super::recompute::plan_deadlines(conn, &parsed, false)?
                    .warnings
                    .into_iter()
                    .filter(|w| query.period.as_ref().is_none_or(|p| *p == w.period))
                    .filter(|w| w.code != "calendar_incomplete")
                    .collect()
            }
            None => Vec::new(),
        },
        None => Vec::new(),
    };
    Ok(DeadlineList {
        items,
        next_cursor,
        warnings,
    })
}

/// One deadline, if the actor may see it (otherwise it does not exist for them: 404).
pub fn get(
    conn: &mut AnyConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
) -> ServiceResult<Deadline> {
    let row =
        store::deadlines::find(conn, id)?.ok_or_else(|| ServiceError::not_found("deadline", id))?;
    let obligation = store::obligations::find(conn, row.0.obligation_id)?
        .ok_or_else(|| ServiceError::data(format!("deadline {id} has no obligation")))?;
    let plan = store::plans::find(conn, obligation.plan_id)?
        .ok_or_else(|| ServiceError::data(format!("obligation {} has no plan", obligation.id)))?;
    if !actor.may_see(row.0.unit_id, plan.coordinator_id) {
        return Err(ServiceError::not_found("deadline", id));
    }
    render(row, now)
}

/// The status that holds at `now` (DESIGN.md §2.6), from the stored facts.
pub fn status_of(row: &store::deadlines::DeadlineRow, now: DateTime<Utc>) -> DeadlineStatus {
    status_at(
        row.due_at.0,
        row.submitted_at.map(|t| t.0),
        row.state == DeadlineState::Waived,
        row.state == DeadlineState::Returned,
        now,
    )
}

fn render((row, unit, zone): ListedDeadline, now: DateTime<Utc>) -> ServiceResult<Deadline> {
    let tz: Tz = zone
        .parse()
        .map_err(|_| ServiceError::data(format!("unit {unit} time zone `{zone}`")))?;
    Ok(Deadline {
        status: status_of(&row, now),
        due_at: row.due_at.0.with_timezone(&tz).fixed_offset(),
        id: row.id,
        obligation_id: row.obligation_id,
        unit,
        period: row.period,
        last_day: row.last_day,
        submitted_at: row
            .submitted_at
            .map(|t| t.0.with_timezone(&tz).fixed_offset()),
        submitted_on: row.submitted_on,
        extension_reason: row.extended_reason,
        waiver_reason: row.waived_reason,
    })
}

/// Body of `POST /api/v1/events`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEventInput {
    /// An obligation whose schedule has `period_type: event`.
    pub obligation_id: i64,
    /// e.g. "Đợt tuyên truyền tháng 3/2025".
    pub name: String,
    /// The day the event ended; `after_event` counts from the day after.
    pub ended_on: NaiveDate,
    /// Only these units report on it (codes); default: every reporter of the obligation.
    #[serde(default)]
    pub units: Option<Vec<String>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Event {
    pub id: i64,
    pub obligation_id: i64,
    pub name: String,
    pub ended_on: NaiveDate,
    pub units: Option<Vec<String>>,
    /// The period id of its deadlines: `E<id>`.
    pub period: String,
    /// How many deadlines it has.
    pub deadlines: usize,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Only this obligation's events.
    pub obligation: Option<i64>,
}

pub fn create_event(
    conn: &mut AnyConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    input: NewEventInput,
) -> ServiceResult<Event> {
    store::transaction(conn, |conn| {
        let mut errors = Vec::new();
        match store::obligations::find(conn, input.obligation_id)? {
            None => errors.push(FieldError::new(
                "/obligation_id",
                format!("obligation {} does not exist", input.obligation_id),
            )),
            Some(o) => {
                let plan = store::plans::find(conn, o.plan_id)?.ok_or_else(|| {
                    ServiceError::data(format!("obligation {} has no plan", o.id))
                })?;
                actor.require_coordinator_of(plan.coordinator_id)?;
                let schedule = &o.schedule.0;
                if schedule.period_type != PeriodType::Event {
                    errors.push(FieldError::new(
                        "/obligation_id",
                        format!(
                            "obligation {} is {}, not event-triggered",
                            o.id,
                            schedule.period_type.as_str()
                        ),
                    ));
                }
            }
        }
        errors.extend(crate::domain::check_date("/ended_on", input.ended_on));
        if input.name.trim().is_empty() {
            errors.push(FieldError::new("/name", "must not be empty"));
        }
        if let Some(codes) = &input.units {
            if codes.is_empty() {
                errors.push(FieldError::new(
                    "/units",
                    "name at least one unit, or leave it out for all reporters",
                ));
            }
            for (i, code) in codes.iter().enumerate() {
                if store::units::find_by_code(conn, code)?.is_none() {
                    errors.push(FieldError::new(
                        format!("/units/{i}"),
                        format!("unit `{code}` does not exist"),
                    ));
                }
            }
        }
        ensure_valid(errors)?;
        let id = store::obligations::insert_event(
            conn,
            &NewEvent {
                obligation_id: input.obligation_id,
                name: input.name.trim(),
                ended_on: input.ended_on,
                units: input.units.as_ref().map(TextJson),
                created_at: now.into(),
            },
        )?;
        let MaterialiseReport { created, .. } =
            recompute::rematerialise(conn, now, input.obligation_id, recompute::Reach::Open)?;
        let event = store::obligations::find_event(conn, id)?
            .ok_or_else(|| ServiceError::data(format!("event {id} vanished")))?;
        let view = render_event(event, created)?;
        audit::<Event, Event>(
            conn,
            actor,
            now,
            "event.create",
            &id.to_string(),
            None,
            Some(&view),
        )?;
        Ok(view)
    })
}

pub fn list_events(
    conn: &mut AnyConnection,
    query: &EventQuery,
    page: &PageParams,
) -> ServiceResult<Page<Event>> {
    let mut errors = Vec::new();
    let (limit, after) = page.resolve(&mut errors);
    ensure_valid(errors)?;
    let rows = store::obligations::events(conn, query.obligation, after, limit + 1)?;
    Page::from_rows(
        rows,
        limit,
        |r| r.id,
        |row| {
            let count = store::deadlines::of_obligation(
                conn,
                row.obligation_id,
                Some(&format!("E{}", row.id)),
            )?
            .len();
            render_event(row, count)
        },
    )
}

fn render_event(row: EventRow, deadlines: usize) -> ServiceResult<Event> {
    Ok(Event {
        period: format!("E{}", row.id),
        units: row.units.map(|u| u.0),
        id: row.id,
        obligation_id: row.obligation_id,
        name: row.name,
        ended_on: row.ended_on,
        deadlines,
        created_at: row.created_at.into(),
    })
}

/// The periods of an obligation, each with its earliest due instant, in due order (for a page's choice of
/// period).
pub fn period_dues(
    conn: &mut AnyConnection,
    obligation_id: i64,
) -> ServiceResult<Vec<(String, DateTime<Utc>)>> {
    Ok(store::deadlines::period_dues(conn, obligation_id)?
        .into_iter()
        .map(|(p, due, _)| (p, due.0))
        .collect())
}
