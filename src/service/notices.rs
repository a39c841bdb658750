//! The notice tick: reminders before a deadline and escalations after it, decided for the instant `now`.
//!
//! A tick reads the deadlines whose `next_notice_at` has come (an index range), sends for each the latest due
//! reminder or escalation step that nobody has claimed yet (a `job_claims` row, so several instances never
//! send twice), writes the email as an outbox row in the same transaction, and stores the deadline's next
//! moment. After downtime only the latest due notice goes out, never a burst. Then it sends the digests whose
//! slot has come ([`super::digests`]).

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::rc::Rc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::json;

use super::obligations::{Audience, EscalationStep};
use crate::domain::notify::{self, OfficeHours, Offset, Timing};
use crate::domain::unit::Contacts;
use crate::domain::Calendar;
use crate::mail;
use crate::store::deadlines::DeadlineRow;
use crate::store::obligations::ObligationRow;
use crate::store::plans::PlanRow;
use crate::store::units::UnitRow;
use crate::store::{self, AnyConnection, StoreError, UtcDateTime};

/// Deadlines handled per transaction.
const BATCH: i64 = 500;

/// One email the tick decided to send.
#[derive(Debug, Clone, Serialize)]
pub struct Notice {
    /// The deadline a reminder or escalation is about; none for a digest.
    pub deadline_id: Option<i64>,
    pub unit: String,
    pub period: String,
    /// `reminder`, `escalation` or `digest`.
    pub kind: &'static str,
    /// The reminder offset (`P3D`), the escalation step's number, or the digest's slot.
    pub step: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: String,
}

/// What one tick did (or, in a dry run, would do).
#[derive(Debug, Default, Clone, Serialize)]
pub struct TickReport {
    pub deadlines_looked_at: usize,
    pub notices: Vec<Notice>,
}

/// Runs one tick as if at `now`: reminders and escalations, then digests. A dry run decides everything and then
/// rolls it all back.
pub fn tick(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    timing: &Timing,
    dry_run: bool,
) -> Result<TickReport, StoreError> {
    let hours = timing.hours;
    let mut report = TickReport::default();
    let mut cache = Cache::default();
    if dry_run {
        // One transaction for the whole tick, never committed: the report is all that remains.
        let outcome = store::transaction(conn, |conn| -> Result<(), DryRun> {
            while batch(conn, now, hours, &mut cache, &mut report)? > 0 {}
            super::digests::run(conn, now, &timing.digest, &mut report.notices)?;
            Err(DryRun::Done)
        });
        return match outcome {
            Err(DryRun::Done) | Ok(()) => Ok(report),
            Err(DryRun::Store(e)) => Err(e),
        };
    }
    loop {
        let handled = store::transaction(conn, |conn| {
            batch(conn, now, hours, &mut cache, &mut report)
        })?;
        if handled == 0 {
            super::digests::run(conn, now, &timing.digest, &mut report.notices)?;
            return Ok(report);
        }
    }
}

enum DryRun {
    Done,
    Store(StoreError),
}

impl From<StoreError> for DryRun {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// What several deadlines of one tick share: obligations, plans, units, calendars.
#[derive(Default)]
struct Cache {
    obligations: HashMap<i64, Rc<Rules>>,
    units: HashMap<i64, UnitRow>,
    calendars: HashMap<String, Calendar>,
}

impl Cache {
    /// The obligation, its plan and its parsed rules, read and parsed once per tick.
    fn obligation(&mut self, conn: &mut AnyConnection, id: i64) -> Result<Rc<Rules>, StoreError> {
        if let Entry::Vacant(slot) = self.obligations.entry(id) {
            let (row, plan) = store::obligations::find_with_plan(conn, id)?
                .ok_or_else(|| StoreError::Corrupt(format!("obligation {id} vanished")))?;
            slot.insert(Rc::new(Rules::parse(row, plan)?));
        }
        Ok(self.obligations[&id].clone())
    }

    fn unit(&mut self, conn: &mut AnyConnection, id: i64) -> Result<UnitRow, StoreError> {
        if let Entry::Vacant(slot) = self.units.entry(id) {
            let unit = store::units::find(conn, id)?
                .ok_or_else(|| StoreError::Corrupt(format!("unit {id} vanished")))?;
            slot.insert(unit);
        }
        Ok(self.units[&id].clone())
    }

    fn calendar(&mut self, conn: &mut AnyConnection, code: &str) -> Result<Calendar, StoreError> {
        if !self.calendars.contains_key(code) {
            let calendar = super::calendars::load(conn, code)?.unwrap_or_default();
            self.calendars.insert(code.to_owned(), calendar);
        }
        Ok(self.calendars[code].clone())
    }
}

/// An obligation with what the tick needs of it, parsed from its JSON columns.
struct Rules {
    obligation: ObligationRow,
    plan: PlanRow,
    calendar: String,
    reminder_texts: Vec<String>,
    reminders: Vec<Offset>,
    steps: Vec<EscalationStep>,
    afters: Vec<Offset>,
    grace: Offset,
}

impl Rules {
    fn parse(obligation: ObligationRow, plan: PlanRow) -> Result<Self, StoreError> {
        let schedule: crate::domain::Schedule =
            store::from_json("obligations.schedule", &obligation.schedule)?;
        let reminder_texts: Vec<String> =
            store::from_json("obligations.reminders", &obligation.reminders)?;
        let reminders = offsets("obligations.reminders", &reminder_texts)?;
        let steps: Vec<EscalationStep> =
            store::from_json("obligations.escalation", &obligation.escalation)?;
        let after_texts: Vec<String> = steps.iter().map(|s| s.after.clone()).collect();
        let afters = offsets("obligations.escalation", &after_texts)?;
        let grace = Offset::parse(&obligation.grace)
            .ok_or_else(|| StoreError::Corrupt("obligations.grace".into()))?;
        Ok(Self {
            obligation,
            plan,
            calendar: schedule.calendar,
            reminder_texts,
            reminders,
            steps,
            afters,
            grace,
        })
    }
}

/// Handles up to [`BATCH`] due deadlines; returns how many it looked at.
fn batch(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    hours: OfficeHours,
    cache: &mut Cache,
    report: &mut TickReport,
) -> Result<usize, StoreError> {
    let due = store::deadlines::due_for_notice(conn, now.into(), BATCH)?;
    for deadline in &due {
        if let Some(notice) = decide(conn, now, hours, cache, deadline)? {
            report.notices.push(notice);
        }
        report.deadlines_looked_at += 1;
    }
    Ok(due.len())
}

fn offsets(column: &str, texts: &[String]) -> Result<Vec<Offset>, StoreError> {
    texts
        .iter()
        .map(|t| Offset::parse(t).ok_or_else(|| StoreError::Corrupt(format!("{column}: `{t}`"))))
        .collect()
}

/// Sends what is due for one deadline (if anybody has not already) and moves its next moment on.
fn decide(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    hours: OfficeHours,
    cache: &mut Cache,
    deadline: &DeadlineRow,
) -> Result<Option<Notice>, StoreError> {
    let rules = cache.obligation(conn, deadline.obligation_id)?;
    let Rules {
        obligation,
        plan,
        reminder_texts,
        reminders,
        steps,
        afters,
        grace,
        ..
    } = &*rules;
    let grace = *grace;
    let unit = cache.unit(conn, deadline.unit_id)?;
    let recipient = cache.unit(conn, obligation.recipient_id)?;
    let calendar = cache.calendar(conn, &rules.calendar)?;
    let tz: Tz = unit
        .time_zone
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("unit {} zone", unit.code)))?;
    let due_at = deadline.due_at.0;
    // Mail goes out in the unit's office hours on its working days only, catch-up after downtime included.
    let office = notify::next_office_moment(now, tz, hours, &calendar);
    if office > now {
        store::deadlines::set_next_notice(conn, deadline.id, Some(UtcDateTime(office)))?;
        return Ok(None);
    }

    let mut notice = None;
    if now < due_at {
        if let Some(i) = notify::due_reminder(due_at, reminders, now, tz, hours, &calendar) {
            let contacts: Contacts = store::from_json("units.contacts", &unit.contacts)?;
            notice = send(
                conn,
                now,
                Draft {
                    deadline,
                    unit: &unit,
                    recipient: &recipient,
                    obligation,
                    plan,
                    tz,
                    kind: "reminder",
                },
                &reminder_texts[i],
                contacts.reporters,
                Vec::new(),
                &unit.name,
            )?;
        }
    } else if let Some(i) = notify::due_escalation(due_at, grace, afters, now, tz, hours, &calendar)
    {
        let step = &steps[i];
        let own: Contacts = store::from_json("units.contacts", &unit.contacts)?;
        let theirs: Contacts = store::from_json("units.contacts", &recipient.contacts)?;
        let addresses = |audiences: &[Audience]| -> Vec<String> {
            let mut out: Vec<String> = Vec::new();
            for audience in audiences {
                let list: Vec<&String> = match audience {
                    Audience::Reporters => own.reporters.iter().collect(),
                    Audience::Heads => own.heads.iter().collect(),
                    Audience::Recipient => {
                        theirs.reporters.iter().chain(theirs.heads.iter()).collect()
                    }
                };
                out.extend(
                    list.into_iter()
                        .filter(|a| !out.contains(a))
                        .cloned()
                        .collect::<Vec<_>>(),
                );
            }
            out
        };
        let to = addresses(&step.to);
        let cc: Vec<String> = addresses(&step.cc)
            .into_iter()
            .filter(|a| !to.contains(a))
            .collect();
        let audience = if step.to.contains(&Audience::Recipient) && step.to.len() == 1 {
            recipient.name.clone()
        } else {
            unit.name.clone()
        };
        notice = send(
            conn,
            now,
            Draft {
                deadline,
                unit: &unit,
                recipient: &recipient,
                obligation,
                plan,
                tz,
                kind: "escalation",
            },
            &format!("{}", i + 1),
            to,
            cc,
            &audience,
        )?;
    }
    let next = notify::next_notice(due_at, reminders, grace, afters, now, tz, hours, &calendar);
    store::deadlines::set_next_notice(conn, deadline.id, next.map(UtcDateTime))?;
    Ok(notice)
}

/// The parts of one notice that do not depend on its kind.
struct Draft<'a> {
    deadline: &'a DeadlineRow,
    unit: &'a UnitRow,
    recipient: &'a UnitRow,
    obligation: &'a ObligationRow,
    plan: &'a PlanRow,
    tz: Tz,
    kind: &'static str,
}

/// Claims (kind, deadline:step) and, when this caller got it, queues the email.
fn send(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    d: Draft<'_>,
    step: &str,
    to: Vec<String>,
    cc: Vec<String>,
    audience: &str,
) -> Result<Option<Notice>, StoreError> {
    let slot = format!("{}:{step}", d.deadline.id);
    if !store::notices::claim(conn, d.kind, &slot, now.into())? {
        return Ok(None);
    }
    let recipient_name = &d.recipient.name;
    let lang = d.unit.language.as_str();
    let context = json!({
        "unit": d.unit.name, "audience": audience, "recipient": recipient_name,
        "obligation": d.obligation.title, "obligation_id": d.obligation.id, "period": d.deadline.period,
        "plan": format!("{} ({})", d.plan.number, d.plan.title),
        "last_day_words": mail::date_words(lang, d.deadline.last_day),
        "due_at": d.deadline.due_at.0.with_timezone(&d.tz).format("%Y-%m-%d %H:%M %:z").to_string(),
        "overdue_words": mail::duration_words(lang, (now - d.deadline.due_at.0).num_seconds()),
        "step": step,
    });
    let email = mail::render(lang, d.kind, &context)?;
    mail::queue(conn, now, &format!("{}:{slot}", d.kind), &to, &cc, &email)?;
    Ok(Some(Notice {
        deadline_id: Some(d.deadline.id),
        unit: d.unit.code.clone(),
        period: d.deadline.period.clone(),
        kind: d.kind,
        step: step.to_owned(),
        to,
        cc,
        subject: email.subject,
    }))
}
