//! One tick of the clock: the reminders and escalations due at `now` ([`super::notices`], in batches of one
//! transaction each), then the digests whose slot has come ([`super::digests`]). `hanbao serve` runs it every
//! minute; `hanbao tick --at` runs it once, as if at any instant, and `--dry-run` rolls everything back.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::notices::{self, Notice};
use super::{digests, ServiceError, ServiceResult};
use crate::domain::notify::Timing;
use crate::store::{self, AnyConnection};

/// What one tick did (or, in a dry run, would do).
#[derive(Debug, Default, Clone, Serialize)]
pub struct TickReport {
    pub deadlines_looked_at: usize,
    pub notices: Vec<Notice>,
    /// Deadlines or digests whose notice could not be made (unreadable data, a template that fails); logged.
    pub skipped: usize,
    /// Deadlines whose unit has closed: nothing was sent, nor will be (logged).
    pub closed_units: usize,
}

impl TickReport {
    fn add_batch(&mut self, batch: notices::Batch) {
        self.deadlines_looked_at += batch.looked_at;
        self.notices.extend(batch.notices);
        self.skipped += batch.skipped;
        self.closed_units += batch.closed_units;
    }

    fn add_digests(&mut self, digests: digests::Digests) {
        self.notices.extend(digests.notices);
        self.skipped += digests.skipped;
    }
}

/// Runs one tick as if at `now`: reminders and escalations, then digests. A dry run decides everything and then
/// rolls it all back.
#[tracing::instrument(name = "tick", skip(conn, timing))]
pub fn tick(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    timing: &Timing,
    dry_run: bool,
) -> ServiceResult<TickReport> {
    let mut report = TickReport::default();
    let mut cache = notices::Cache::default();
    if dry_run {
        // One transaction for the whole tick, never committed: the report is all that remains.
        let outcome = store::transaction(conn, |conn| -> Result<(), DryRun> {
            loop {
                let batch = notices::batch(conn, now, timing, &mut cache)?;
                let done = batch.looked_at == 0;
                report.add_batch(batch);
                if done {
                    break;
                }
            }
            report.add_digests(digests::run(conn, now, &timing.digest)?);
            report.notices.extend(operator_letters(conn, now, timing)?);
            Err(DryRun::Done)
        });
        return match outcome {
            Err(DryRun::Done) | Ok(()) => Ok(report),
            Err(DryRun::Failed(e)) => Err(e),
        };
    }
    let notices = loop {
        match store::transaction(conn, |conn| notices::batch(conn, now, timing, &mut cache)) {
            Ok(batch) if batch.looked_at == 0 => break Ok(()),
            Ok(batch) => report.add_batch(batch),
            Err(e) => break Err(e),
        }
    };
    // Digests go out even when the notices failed (the database may have refused one batch).
    report.add_digests(digests::run(conn, now, &timing.digest)?);
    report.notices.extend(store::transaction(conn, |conn| {
        operator_letters(conn, now, timing)
    })?);
    notices.map(|()| report)
}

/// The letters to the operators (`admin_emails`): calendars missing next year's holidays, emails failed for good.
fn operator_letters(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    timing: &Timing,
) -> ServiceResult<Vec<Notice>> {
    let mut letters = calendar_reminders(conn, now, &timing.admins)?;
    letters.extend(failed_emails_letter(conn, now, timing)?);
    Ok(letters)
}

/// Failed emails listed in one letter; the rest wait for the next day's.
const FAILED_PER_LETTER: i64 = 1000;
/// Of those, the ones written out; the others are counted.
const FAILED_LINES: usize = 50;

/// Once a day, from the start of office hours in the installation's zone, when emails have failed for good
/// (refused, or given up after `delivery_give_up_after`) since the previous letter: one letter to the operators
/// listing them, each failed email reported once.
fn failed_emails_letter(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    timing: &Timing,
) -> ServiceResult<Option<Notice>> {
    use store::outbox::FAILED_REPORTED;
    let local = now.with_timezone(&timing.zone);
    if timing.admins.is_empty() || local.time() < timing.hours.start {
        return Ok(None);
    }
    let (job, slot) = ("failed-emails", local.date_naive().to_string());
    if store::notices::is_claimed(conn, job, &slot)? {
        return Ok(None);
    }
    let failed = store::outbox::failed_unreported(conn, FAILED_PER_LETTER)?;
    // The day's claim first: of several instances one writes the letter, and only it claims the emails.
    if failed.is_empty()
        || store::notices::claim_many(conn, &[(job, slot.clone())], now.into())?.is_empty()
    {
        return Ok(None);
    }
    let claims: Vec<(&str, String)> = failed
        .iter()
        .map(|e| (FAILED_REPORTED, e.id.to_string()))
        .collect();
    store::notices::claim_many(conn, &claims, now.into())?;
    let words = |at| crate::mail::words::instant_words("vi", at, timing.zone);
    let emails: Vec<serde_json::Value> = failed
        .iter()
        .take(FAILED_LINES)
        .map(|e| {
            let to = store::outbox::Recipients::from_stored(&e.recipients)
                .map(|r| [r.to, r.cc].concat().join(", "))
                .unwrap_or_else(|_| e.recipients.clone());
            serde_json::json!({
                "subject": e.subject,
                "to": to,
                "created_words": words(e.created_at.0),
                "error": e.last_error.as_deref().unwrap_or_default(),
            })
        })
        .collect();
    let context = serde_json::json!({
        "now_words": words(now),
        "count": failed.len(),
        "emails": emails,
        "more": failed.len().saturating_sub(FAILED_LINES),
    });
    let email = crate::mail::render("vi", "failed_emails", &context)?;
    crate::mail::queue(
        conn,
        now,
        &crate::mail::Outgoing {
            dedupe_key: format!("{job}:{slot}"),
            to: timing.admins.clone(),
            cc: Vec::new(),
            email: email.clone(),
            sender: None,
        },
    )?;
    Ok(Some(Notice {
        deadline_id: None,
        unit: String::new(),
        period: slot,
        kind: "failed_emails",
        step: failed.len().to_string(),
        to: timing.admins.clone(),
        cc: Vec::new(),
        subject: email.subject,
    }))
}

/// From 1 November, once a year per calendar: tell the operators that next year's holidays are not (all) in it
/// yet, so that deadlines of next year stop moving when they arrive.
fn calendar_reminders(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    admins: &[String],
) -> ServiceResult<Vec<Notice>> {
    use chrono::Datelike;
    if admins.is_empty() || now.month() < 11 {
        return Ok(Vec::new());
    }
    let year = now.year() + 1;
    let mut out = Vec::new();
    for row in store::calendars::all(conn)? {
        // The claim first: once the letter went, no tick loads the calendar again.
        let (job, slot) = (format!("calendar:{}", row.code), year.to_string());
        if store::notices::is_claimed(conn, &job, &slot)? {
            continue;
        }
        let complete =
            super::working_days::load(conn, &row.code)?.is_some_and(|c| c.calendar_complete(year));
        if complete {
            continue;
        }
        if store::notices::claim_many(conn, &[(&job, slot.clone())], now.into())?.is_empty() {
            continue;
        }
        let context = serde_json::json!({"calendar": row.name, "code": row.code, "year": year});
        let email = crate::mail::render("vi", "calendar", &context)?;
        crate::mail::queue(
            conn,
            now,
            &crate::mail::Outgoing {
                dedupe_key: format!("{job}:{slot}"),
                to: admins.to_vec(),
                cc: Vec::new(),
                email: email.clone(),
                sender: None,
            },
        )?;
        out.push(Notice {
            deadline_id: None,
            unit: String::new(),
            period: slot,
            kind: "calendar",
            step: row.code,
            to: admins.to_vec(),
            cc: Vec::new(),
            subject: email.subject,
        });
    }
    Ok(out)
}

/// Why a tick may have had nothing to send, for the operator who runs `hanbao tick --at`.
#[derive(Debug, Clone, Serialize)]
pub struct Quiet {
    /// Overdue deadlines that get no more email: recorded as history when loaded (already past due), or their
    /// escalation ladder is done. They show in lists and digests.
    pub overdue_without_notices: i64,
    /// When the next reminder or escalation may be due.
    pub next_notice_at: Option<DateTime<Utc>>,
}

/// What stands behind a quiet tick at `now`.
pub fn quiet(conn: &mut AnyConnection, now: DateTime<Utc>) -> ServiceResult<Quiet> {
    Ok(Quiet {
        overdue_without_notices: store::deadlines::count_overdue_without_notice(conn, now.into())?,
        next_notice_at: store::deadlines::next_notice_after(conn, now.into())?.map(|t| t.0),
    })
}

/// How a dry run's transaction ends: always rolled back.
enum DryRun {
    Done,
    Failed(ServiceError),
}

impl From<ServiceError> for DryRun {
    fn from(e: ServiceError) -> Self {
        Self::Failed(e)
    }
}

impl From<store::StoreError> for DryRun {
    fn from(e: store::StoreError) -> Self {
        Self::Failed(e.into())
    }
}
