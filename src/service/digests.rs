//! The digest: for each unit that receives reports, at each slot of the digest cron read in that unit's own time
//! zone, one email listing the deadlines overdue, those due in the next 14 days, the reports returned for revision
//! and not yet filed again, and the reports received since its previous digest.
//!
//! Each (unit, slot) is claimed through a `job_claims` row (`digest:<unit id>`, slot instant), like every notice, so any number of instances send it
//! once. After downtime only the latest slot is sent, and only within a day of it: a digest is a weekly summary, a
//! week-old one is noise, and the next one covers everything received since the last digest that went out. A
//! unit made after a slot waits for the next one (a fresh installation does not open with last Monday's digest),
//! and a digest with nothing to say is not sent.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::notices::Notice;
use super::{ServiceError, ServiceResult};
use crate::domain::notify::DigestCron;
use crate::domain::Period;
use crate::mail::{self, words};
use crate::store::digests::OpenLine;
use crate::store::states::DeadlineState;
use crate::store::units::UnitRow;
use crate::store::{self, AnyConnection, UtcDateTime};

/// How far ahead "due soon" looks.
const SOON_DAYS: i64 = 14;
/// How late a missed slot may still be sent (after downtime).
const CATCH_UP_HOURS: i64 = 24;
/// Lines per section; the rest is counted ("and 120 more").
const LINES: i64 = 50;

/// What the digests of one tick came to.
#[derive(Debug, Default)]
pub(super) struct Digests {
    pub notices: Vec<Notice>,
    /// Units whose digest could not be made (unusable data or template); logged, tried again next tick.
    pub skipped: usize,
}

/// Sends the digests due at `now` (each in its own transaction, nested in the caller's when it has one).
pub(super) fn run(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    cron: &DigestCron,
) -> ServiceResult<Digests> {
    let mut out = Digests::default();
    for unit in store::digests::recipients(conn)? {
        match store::transaction(conn, |conn| one(conn, now, cron, &unit)) {
            Ok(Some(notice)) => out.notices.push(notice),
            Ok(None) => {}
            // One unit's unusable data or template must not cost every other unit its digest; the slot stays
            // unclaimed (the transaction rolled back), so the next tick tries again.
            Err(why @ (ServiceError::Data(_) | ServiceError::Template(_))) => {
                tracing::error!(unit = %unit.code, %why, "digest skipped");
                out.skipped += 1;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// A section line, in the recipient's language and zone.
#[derive(Debug, Serialize)]
struct Line {
    unit: String,
    unit_code: String,
    obligation: String,
    period: String,
    last_day_words: String,
    overdue_words: String,
    received_at: String,
    version: i32,
    on_time: bool,
}

fn one(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    cron: &DigestCron,
    unit: &UnitRow,
) -> ServiceResult<Option<Notice>> {
    let tz = super::letters::zone(unit)?;
    // No email ever goes to a unit that has closed (or does not exist yet).
    let today = now.with_timezone(&tz).date_naive();
    if !crate::domain::unit::is_valid_on(unit.valid_from, unit.valid_until, today) {
        return Ok(None);
    }
    let Some(slot) = cron.latest(now, tz) else {
        return Ok(None);
    };
    if slot < unit.created_at.0 || now - slot > chrono::Duration::hours(CATCH_UP_HOURS) {
        return Ok(None);
    }
    let (job, key) = (store::digests::job(unit.id), UtcDateTime(slot).to_string());
    if store::notices::is_claimed(conn, &job, &key)? {
        return Ok(None);
    }
    // Read before claiming: afterwards the latest digest is this one.
    let since = match store::digests::last_made(conn, unit.id)? {
        Some(at) => at.0,
        None => cron
            .previous(slot, tz)
            .unwrap_or(slot - chrono::Duration::days(7)),
    };
    if store::notices::claim_many(conn, &[(&job, key.clone())], now.into())?.is_empty() {
        return Ok(None);
    }
    let soon = now + chrono::Duration::days(SOON_DAYS);
    let in_state = |conn: &mut AnyConnection, state, from, before| {
        store::digests::in_state(conn, unit.id, state, from, before, LINES)
    };
    let (overdue_count, overdue) = in_state(conn, DeadlineState::Pending, None, Some(now.into()))?;
    let (soon_count, due_soon) = in_state(
        conn,
        DeadlineState::Pending,
        Some(now.into()),
        Some(soon.into()),
    )?;
    let (returned_count, returned) = in_state(conn, DeadlineState::Returned, None, None)?;
    let (received_count, received) =
        store::digests::received(conn, unit.id, since.into(), now.into(), LINES)?;
    if overdue_count + soon_count + returned_count + received_count == 0 {
        return Ok(None);
    }
    let contacts = &unit.contacts.0;
    let to = contacts.everyone();
    let lang = unit.language.as_str();
    let local = |t: DateTime<Utc>| words::instant_words(lang, t, tz);
    let mut periods = PeriodNames::default();
    let days = |n: i64| {
        if lang == "en" {
            format!("{n} {}", if n == 1 { "day" } else { "days" })
        } else {
            format!("{n} ngày")
        }
    };
    let mut open_lines =
        |conn: &mut AnyConnection, lines: Vec<OpenLine>| -> ServiceResult<Vec<Line>> {
            lines
                .into_iter()
                .map(|l| {
                    Ok(Line {
                        unit: l.unit_name,
                        unit_code: l.unit_code,
                        obligation: l.obligation,
                        period: periods.words(conn, lang, &l.period)?,
                        last_day_words: mail::date_words(lang, l.last_day),
                        overdue_words: days(words::days_late(today, l.last_day)),
                        received_at: String::new(),
                        version: 0,
                        on_time: true,
                    })
                })
                .collect()
        };
    let overdue = open_lines(conn, overdue)?;
    let due_soon = open_lines(conn, due_soon)?;
    let returned = open_lines(conn, returned)?;
    let mut got_lines = Vec::new();
    for l in received {
        got_lines.push(Line {
            unit: l.unit_name,
            unit_code: l.unit_code,
            obligation: l.obligation,
            period: periods.words(conn, lang, &l.period)?,
            last_day_words: String::new(),
            overdue_words: String::new(),
            received_at: local(l.received_at.0),
            version: l.version,
            on_time: l.on_time,
        });
    }
    let received = got_lines;
    let more = |count: i64, shown: usize| count - shown as i64;
    let context = serde_json::json!({
        "unit": unit.name,
        "slot_words": mail::date_words(lang, slot.with_timezone(&tz).date_naive()),
        "now": local(now),
        "since": local(since),
        "soon_days": SOON_DAYS,
        "overdue_count": overdue_count,
        "overdue_more": more(overdue_count, overdue.len()),
        "overdue": overdue,
        "soon_count": soon_count,
        "soon_more": more(soon_count, due_soon.len()),
        "soon": due_soon,
        "returned_count": returned_count,
        "returned_more": more(returned_count, returned.len()),
        "returned": returned,
        "received_count": received_count,
        "received_more": more(received_count, received.len()),
        "received": received,
    });
    let email = mail::render(lang, "digest", &context)?;
    let queued = mail::queue(
        conn,
        now,
        &mail::Outgoing {
            dedupe_key: format!("{job}:{key}"),
            to: to.clone(),
            cc: Vec::new(),
            email: email.clone(),
            sender: None,
        },
    )?;
    if !queued {
        return Ok(None);
    }
    Ok(Some(Notice {
        deadline_id: None,
        unit: unit.code.clone(),
        period: slot.with_timezone(&tz).format("%Y-%m-%d").to_string(),
        kind: "digest",
        step: slot.with_timezone(&tz).to_rfc3339(),
        to,
        cc: Vec::new(),
        subject: email.subject,
    }))
}

/// Period ids in words, events by their names (read once each).
#[derive(Default)]
struct PeriodNames(std::collections::HashMap<i64, Option<String>>);

impl PeriodNames {
    fn words(&mut self, conn: &mut AnyConnection, lang: &str, id: &str) -> ServiceResult<String> {
        let Ok(period) = id.parse::<Period>() else {
            return Ok(id.to_owned());
        };
        let name = match period {
            Period::Event(event) => match self.0.get(&event) {
                Some(name) => name.clone(),
                None => {
                    let name = store::obligations::find_event(conn, event)?.map(|e| e.name);
                    self.0.insert(event, name.clone());
                    name
                }
            },
            _ => None,
        };
        Ok(words::period_words(lang, &period, name.as_deref()))
    }
}
