//! The late list (`../shared/UX.md` §2.3): who is overdue now, how late, what the tick already sent them and
//! when, and the office's "send a reminder now" — one email through the outbox, audited, at most one per unit
//! per day.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;

use super::deadlines::DeadlineQuery;
use super::notices::Cache;
use super::{audit, letters, Actor, Page, PageParams, ServiceError, ServiceResult};
use crate::domain::DeadlineStatus;
use crate::mail::{self, words};
use crate::store::{self, AnyConnection};

/// The claim job of a reminder sent by hand: its slot is `<unit id>:<local date>`, so one per unit per day.
const MANUAL: &str = "manual_reminder";

/// An email the tick (or an officer) already sent about a deadline.
#[derive(Debug, Clone, Serialize)]
pub struct SentNotice {
    /// `reminder` or `escalation`.
    pub kind: &'static str,
    /// The escalation step (1, 2, …), or the reminder's offset (`P3D`).
    pub step: String,
    pub at: DateTime<Utc>,
}

/// One overdue deadline on the late list.
#[derive(Debug, Clone, Serialize)]
pub struct LateDeadline {
    pub deadline_id: i64,
    pub unit: String,
    pub unit_name: String,
    pub obligation_id: i64,
    pub obligation: String,
    pub period: String,
    pub last_day: NaiveDate,
    pub days_late: i64,
    /// What was sent, oldest first.
    pub sent: Vec<SentNotice>,
    /// An officer already sent this unit a reminder today.
    pub reminded_today: bool,
}

/// The overdue deadlines `actor` may see (a coordinator its plans'), the longest overdue first, a page at a time;
/// of the units that exist today (in the office's time zone) only: a unit that has closed can no longer report,
/// and its old deadlines are history the matrix shows.
pub fn list(
    conn: &mut AnyConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    zone: chrono_tz::Tz,
    page: &PageParams,
) -> ServiceResult<Page<LateDeadline>> {
    let query = DeadlineQuery {
        status: Some(DeadlineStatus::Overdue.as_str().to_owned()),
        ..Default::default()
    };
    let today = now.with_timezone(&zone).date_naive();
    let listed = super::deadlines::list_of_units_existing(
        conn,
        actor,
        now,
        zone,
        &query,
        page,
        Some(today),
    )?;
    let mut cache = Cache::default();
    let mut items = Vec::with_capacity(listed.items.len());
    let mut slots: Vec<(&'static str, String)> = Vec::new();
    let mut rows = Vec::new();
    for d in listed.items {
        let (row, _, _) = store::deadlines::find(conn, d.id)?
            .ok_or_else(|| ServiceError::data(format!("deadline {} vanished", d.id)))?;
        let rules = cache.obligation(conn, d.obligation_id)?;
        let unit = cache.unit(conn, row.unit_id)?;
        let tz = letters::zone(&unit)?;
        let today = now.with_timezone(&tz).date_naive();
        slots.extend(tick_slots(&rules.obligation, d.id));
        slots.push((MANUAL, format!("{}:{today}", unit.id)));
        items.push(LateDeadline {
            deadline_id: d.id,
            unit: d.unit.clone(),
            unit_name: unit.name.clone(),
            obligation_id: d.obligation_id,
            obligation: rules.obligation.title.clone(),
            period: d.period.clone(),
            last_day: d.last_day,
            days_late: words::days_late(today, d.last_day),
            sent: Vec::new(),
            reminded_today: false,
        });
        rows.push((unit.id, today));
    }
    let claims = store::notices::claims_of(conn, &slots)?;
    for (item, (unit_id, today)) in items.iter_mut().zip(rows) {
        (item.sent, item.reminded_today) =
            notices_in(&claims, item.deadline_id, &format!("{unit_id}:{today}"));
    }
    Ok(Page {
        items,
        next_cursor: listed.next_cursor,
    })
}

/// The claims the tick makes for a deadline's reminders and escalation steps, named exactly (an index lookup
/// each, no pattern).
fn tick_slots(
    obligation: &store::obligations::ObligationRow,
    deadline_id: i64,
) -> Vec<(&'static str, String)> {
    let reminders = obligation
        .reminders
        .0
        .iter()
        .map(|offset| ("reminder", format!("{deadline_id}:{offset}")));
    let steps = (1..=obligation.escalation.0.len())
        .map(|step| ("escalation", format!("{deadline_id}:{step}")));
    reminders.chain(steps).collect()
}

/// Of `claims`, what the tick sent about `deadline_id` (oldest first), and whether the reminder by hand of
/// `manual` (`<unit id>:<day>`) was sent.
fn notices_in(
    claims: &[(String, String, crate::store::UtcDateTime)],
    deadline_id: i64,
    manual: &str,
) -> (Vec<SentNotice>, bool) {
    let own = format!("{deadline_id}:");
    let mut sent = Vec::new();
    let mut reminded_today = false;
    for (job, slot, at) in claims {
        match job.as_str() {
            "reminder" | "escalation" => {
                if let Some(step) = slot.strip_prefix(&own) {
                    sent.push(SentNotice {
                        kind: if job == "reminder" {
                            "reminder"
                        } else {
                            "escalation"
                        },
                        step: step.to_owned(),
                        at: at.0,
                    });
                }
            }
            MANUAL => reminded_today |= slot == manual,
            _ => {}
        }
    }
    sent.sort_by_key(|n| n.at);
    (sent, reminded_today)
}

/// What was sent about one deadline: the tick's reminders and escalations, oldest first, and whether an
/// officer already reminded its unit by hand today (its local day).
pub struct DeadlineNotices {
    pub sent: Vec<SentNotice>,
    pub reminded_today: bool,
}

/// [`DeadlineNotices`] of `deadline_id`, in one claims lookup.
pub fn notices_of(
    conn: &mut AnyConnection,
    deadline_id: i64,
    now: DateTime<Utc>,
) -> ServiceResult<DeadlineNotices> {
    let (row, _, _) = store::deadlines::find(conn, deadline_id)?
        .ok_or_else(|| ServiceError::not_found("deadline", deadline_id))?;
    let mut cache = Cache::default();
    let rules = cache.obligation(conn, row.obligation_id)?;
    let unit = cache.unit(conn, row.unit_id)?;
    let today = now.with_timezone(&letters::zone(&unit)?).date_naive();
    let manual = format!("{}:{today}", unit.id);
    let mut slots = tick_slots(&rules.obligation, deadline_id);
    slots.push((MANUAL, manual.clone()));
    let claims = store::notices::claims_of(conn, &slots)?;
    let (sent, reminded_today) = notices_in(&claims, deadline_id, &manual);
    Ok(DeadlineNotices {
        sent,
        reminded_today,
    })
}

/// What a reminder sent by hand came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reminded {
    /// Queued to these addresses.
    Queued(Vec<String>),
    /// The unit already got one today: nothing was queued.
    AlreadyToday,
    /// The unit has no reporter address: nothing can be sent.
    NoAddress,
    /// The unit no longer exists (it closed, its successors took over): nothing is sent, as the tick sends nothing.
    UnitClosed,
}

/// "Send a reminder now": one email to the unit's reporters — the overdue letter when the deadline has passed,
/// the reminder before — queued through the outbox with the deadline's filing link, audited
/// (`deadline.remind`), at most one per unit per (its local) day whatever the deadline. The plan's coordinator
/// or an admin only; a deadline already filed or waived is refused.
pub fn remind_now(
    conn: &mut AnyConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    deadline_id: i64,
) -> ServiceResult<Reminded> {
    store::transaction(conn, |conn| {
        let (deadline, _, _) = store::deadlines::find(conn, deadline_id)?
            .ok_or_else(|| ServiceError::not_found("deadline", deadline_id))?;
        let mut cache = Cache::default();
        let rules = cache.obligation(conn, deadline.obligation_id)?;
        actor.require_coordinator_of(rules.plan.coordinator_id)?;
        let status = super::deadlines::status_of(&deadline, now);
        if !matches!(status, DeadlineStatus::Open | DeadlineStatus::Overdue) {
            return Err(ServiceError::Conflict {
                message: format!(
                    "the deadline is {}: there is nothing to remind of",
                    status.as_str()
                ),
                pointer: None,
            });
        }
        let unit = cache.unit(conn, deadline.unit_id)?;
        let to = unit.contacts.0.reporters.clone();
        if to.is_empty() {
            return Ok(Reminded::NoAddress);
        }
        let tz = letters::zone(&unit)?;
        let today = now.with_timezone(&tz).date_naive();
        if !crate::domain::unit::is_valid_on(unit.valid_from, unit.valid_until, today) {
            return Ok(Reminded::UnitClosed);
        }
        let won = store::notices::claim_many(
            conn,
            &[(MANUAL, format!("{}:{today}", unit.id))],
            now.into(),
        )?;
        if won.is_empty() {
            return Ok(Reminded::AlreadyToday);
        }
        let recipient = cache.unit(
            conn,
            deadline
                .recipient_id
                .unwrap_or(rules.obligation.recipient_id),
        )?;
        let coordinator = cache.unit(conn, rules.plan.coordinator_id)?;
        let coordinator = letters::signing_office(conn, coordinator, &recipient, today)?;
        let subject = letters::Subject {
            plan: &rules.plan,
            obligation: &rules.obligation,
            deadline: &deadline,
            recipient: &recipient,
            coordinator: &coordinator,
        };
        let lang = unit.language.as_str();
        let mut about = subject.about(conn, lang)?;
        about.link = letters::unit_link(
            conn,
            unit.id,
            &format!("/deadlines/{}/file", deadline.id),
            now,
        )?;
        let (kind, context) = if status == DeadlineStatus::Overdue {
            (
                "escalation",
                json!({
                    "to": unit.name, "about": about, "unit": unit.name,
                    "days_late": words::days_late(today, deadline.last_day),
                    "notices_before": deadline.notices_sent,
                }),
            )
        } else {
            (
                "reminder",
                json!({
                    "to": unit.name, "about": about, "unit": unit.name,
                    "days_left": words::days_left(today, deadline.last_day),
                    "notice_number": deadline.notices_sent + 1,
                }),
            )
        };
        let email = mail::Outgoing {
            dedupe_key: format!("{kind}:{}:by-hand-{today}", deadline.id),
            to: to.clone(),
            cc: Vec::new(),
            email: mail::render(lang, kind, &context)?,
            sender: Some(coordinator.name.clone()),
        };
        mail::queue(conn, now, &email)?;
        audit::<serde_json::Value, serde_json::Value>(
            conn,
            actor,
            now,
            "deadline.remind",
            &deadline.id.to_string(),
            None,
            Some(&json!({"to": to, "subject": email.email.subject})),
        )?;
        Ok(Reminded::Queued(to))
    })
}
