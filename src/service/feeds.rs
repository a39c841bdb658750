//! Calendar feeds: a unit's, or an obligation's, deadlines as calendar events, with the moments of their
//! reminders. The HTTP layer writes them as iCalendar (`…/deadlines.ics`) in the reader's language.
//!
//! A feed holds the deadlines whose last day is at most [`PAST_DAYS`] ago and every later one: a calendar shows
//! what is coming and the recent past, and a feed polled every hour stays small. A feed of more than
//! [`MAX_EVENTS`] events is refused: that is an obligation of thousands of units, whose calendar no person reads;
//! each unit's own feed is the one to subscribe to.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Utc};

use super::notices::Cache;
use super::{Actor, ServiceError, ServiceResult};
use crate::domain::notify::{self, OfficeHours};
use crate::domain::{DeadlineStatus, FieldError, Period};
use crate::store::deadlines::DeadlineFilter;
use crate::store::{self, AnyConnection, UtcDateTime};

/// How far back a feed reaches, in days before today.
pub const PAST_DAYS: i64 = 366;

/// The most events one feed holds.
pub const MAX_EVENTS: usize = 10_000;

/// Deadlines read per query.
const BATCH: i64 = 1_000;

/// Whose deadlines a feed holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedOf {
    Unit,
    Obligation,
}

/// A feed: its name and its events, in due order.
#[derive(Debug)]
pub struct Feed {
    pub of: FeedOf,
    /// The unit's name or the obligation's title.
    pub name: String,
    pub events: Vec<FeedEvent>,
}

/// One deadline as a calendar event.
#[derive(Debug)]
pub struct FeedEvent {
    pub deadline_id: i64,
    pub unit_name: String,
    pub obligation: String,
    /// The plan's own words of the obligation.
    pub wording: Option<String>,
    pub plan_number: String,
    pub recipient: String,
    pub period: Period,
    /// An event period's event name.
    pub event_name: Option<String>,
    pub last_day: NaiveDate,
    /// With the unit's offset.
    pub due_at: DateTime<FixedOffset>,
    pub time_zone: chrono_tz::Tz,
    pub status: DeadlineStatus,
    /// Whether the last day was extended.
    pub extended: bool,
    /// How many times the last day moved: the event's SEQUENCE.
    pub revision: i32,
    pub updated_at: DateTime<Utc>,
    /// The moments the reminders are sent, while the deadline is open.
    pub reminders: Vec<DateTime<Utc>>,
}

/// The feed of `code`'s deadlines that `actor` may see (a reporter its own unit's only; a coordinator those of
/// the plans it coordinates).
pub fn unit(
    conn: &mut AnyConnection,
    actor: &Actor,
    code: &str,
    now: DateTime<Utc>,
    hours: OfficeHours,
) -> ServiceResult<Feed> {
    let unit = store::units::find_by_code(conn, code)?
        .ok_or_else(|| ServiceError::not_found("unit", code))?;
    let scope = actor.scope(Some(unit.id), "calendar")?;
    let filter = DeadlineFilter {
        unit_id: scope.unit_id,
        coordinator_id: scope.coordinator_id,
        ..Default::default()
    };
    let events = events(conn, filter, now, hours)?;
    Ok(Feed {
        of: FeedOf::Unit,
        name: unit.name,
        events,
    })
}

/// The feed of obligation `id`'s deadlines that `actor` may see.
pub fn obligation(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
    hours: OfficeHours,
) -> ServiceResult<Feed> {
    if !super::obligations::visible_to(conn, actor, id)? {
        return Err(ServiceError::not_found("obligation", id));
    }
    let (row, _) = store::obligations::find_with_plan(conn, id)?
        .ok_or_else(|| ServiceError::not_found("obligation", id))?;
    let scope = actor.scope(None, "calendar")?;
    let filter = DeadlineFilter {
        obligation_id: Some(id),
        unit_id: scope.unit_id,
        coordinator_id: scope.coordinator_id,
        ..Default::default()
    };
    let events = events(conn, filter, now, hours)?;
    Ok(Feed {
        of: FeedOf::Obligation,
        name: row.title,
        events,
    })
}

/// The events of the deadlines `filter` selects whose last day is at most [`PAST_DAYS`] ago, read a batch at a
/// time in due order.
fn events(
    conn: &mut AnyConnection,
    mut filter: DeadlineFilter,
    now: DateTime<Utc>,
    hours: OfficeHours,
) -> ServiceResult<Vec<FeedEvent>> {
    filter.due_from = Some(UtcDateTime(now - Duration::days(PAST_DAYS)));
    filter.limit = BATCH;
    let mut cache = Cache::default();
    let mut events = Vec::new();
    loop {
        let rows = store::deadlines::list(conn, &filter)?;
        let Some(last) = rows.last() else { break };
        filter.after = Some((last.0.due_at, last.0.id));
        let full = rows.len() == usize::try_from(BATCH).unwrap_or(usize::MAX);
        cache.prefetch_units(conn, rows.iter().map(|(d, _, _)| d.unit_id))?;
        for (deadline, _, _) in rows {
            if events.len() == MAX_EVENTS {
                return Err(ServiceError::Validation(vec![FieldError::new(
                    "",
                    format!(
                        "this calendar would hold more than {MAX_EVENTS} deadlines; subscribe to each unit's \
                         calendar (/api/v1/units/{{code}}/deadlines.ics) instead"
                    ),
                )]));
            }
            let rules = cache.obligation(conn, deadline.obligation_id)?;
            let unit = cache.unit(conn, deadline.unit_id)?;
            let recipient = cache.unit(
                conn,
                deadline
                    .recipient_id
                    .unwrap_or(rules.obligation.recipient_id),
            )?;
            let calendar = cache.calendar(conn, &rules.calendar)?;
            let tz = super::letters::zone(&unit)?;
            let status = super::deadlines::status_of(&deadline, now);
            let reminders = if status == DeadlineStatus::Open {
                let mut at: Vec<DateTime<Utc>> = rules
                    .reminders
                    .iter()
                    .map(|o| notify::reminder_moment(deadline.due_at.0, *o, tz, hours, &calendar))
                    .filter(|t| *t < deadline.due_at.0)
                    .collect();
                at.sort_unstable();
                at.dedup();
                at
            } else {
                Vec::new()
            };
            let period: Period = deadline.period.parse().map_err(|_| {
                ServiceError::data(format!(
                    "deadline {} has period `{}`",
                    deadline.id, deadline.period
                ))
            })?;
            let event_name = match deadline.event_id {
                Some(id) => store::obligations::find_event(conn, id)?.map(|e| e.name),
                None => None,
            };
            events.push(FeedEvent {
                deadline_id: deadline.id,
                unit_name: unit.name.clone(),
                obligation: rules.obligation.title.clone(),
                wording: rules.obligation.wording.clone(),
                plan_number: rules.plan.number.clone(),
                recipient: recipient.name.clone(),
                period,
                event_name,
                last_day: deadline.last_day,
                due_at: deadline.due_at.0.with_timezone(&tz).fixed_offset(),
                time_zone: tz,
                status,
                extended: deadline.extended_reason.is_some(),
                revision: deadline.revision,
                updated_at: deadline.updated_at.0,
                reminders,
            });
        }
        if !full {
            break;
        }
    }
    Ok(events)
}
