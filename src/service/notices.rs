//! The notice tick: reminders before a deadline and escalations after it, decided for the instant `now`.
//!
//! A tick reads the deadlines whose `next_notice_at` has come (an index range), sends for each the latest due
//! reminder or escalation step that nobody has claimed yet (a `job_claims` row, so several instances never
//! send twice), writes the email as an outbox row in the same transaction, and stores the deadline's next
//! moment. After downtime only the latest due notice goes out, never a burst. [`super::tick`] runs the batches,
//! then the digests.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use super::letters;
use super::obligation_rules::{Audience, EscalationStep};
use super::{ServiceError, ServiceResult};
use crate::domain::notify::{self, Offset, Timing};
use crate::domain::unit::{is_valid_on, Contacts};
use crate::domain::Calendar;
use crate::mail;
use crate::mail::words;
use crate::store::deadlines::DeadlineRow;
use crate::store::obligations::ObligationRow;
use crate::store::plans::PlanRow;
use crate::store::units::UnitRow;
use crate::store::{self, AnyConnection, UtcDateTime};

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

/// What one batch of deadlines came to.
#[derive(Debug, Default)]
pub(super) struct Batch {
    pub looked_at: usize,
    pub notices: Vec<Notice>,
    pub skipped: usize,
    /// Deadlines left with a unit that has closed (its successors took the later periods): nothing is sent.
    pub closed_units: usize,
}

/// What several deadlines of one tick share: obligations, plans, units, calendars.
#[derive(Default)]
pub(super) struct Cache {
    obligations: HashMap<i64, Rc<Rules>>,
    units: HashMap<i64, UnitRow>,
    calendars: HashMap<String, Calendar>,
}

impl Cache {
    /// The obligation, its plan and its parsed rules, read and parsed once per tick.
    pub(super) fn obligation(
        &mut self,
        conn: &mut AnyConnection,
        id: i64,
    ) -> ServiceResult<Rc<Rules>> {
        if let Entry::Vacant(slot) = self.obligations.entry(id) {
            let (row, plan) = store::obligations::find_with_plan(conn, id)?
                .ok_or_else(|| ServiceError::data(format!("obligation {id} vanished")))?;
            slot.insert(Rc::new(Rules::parse(row, plan)?));
        }
        Ok(self.obligations[&id].clone())
    }

    /// Reads the units not cached yet in one query (a batch's deadlines belong to many units).
    pub(super) fn prefetch_units(
        &mut self,
        conn: &mut AnyConnection,
        ids: impl Iterator<Item = i64>,
    ) -> ServiceResult<()> {
        let mut missing: Vec<i64> = ids.filter(|id| !self.units.contains_key(id)).collect();
        missing.sort_unstable();
        missing.dedup();
        for unit in store::units::find_many(conn, &missing)? {
            self.units.insert(unit.id, unit);
        }
        Ok(())
    }

    pub(super) fn unit(&mut self, conn: &mut AnyConnection, id: i64) -> ServiceResult<UnitRow> {
        if let Entry::Vacant(slot) = self.units.entry(id) {
            let unit = store::units::find(conn, id)?
                .ok_or_else(|| ServiceError::data(format!("unit {id} vanished")))?;
            slot.insert(unit);
        }
        Ok(self.units[&id].clone())
    }

    pub(super) fn calendar(
        &mut self,
        conn: &mut AnyConnection,
        code: &str,
    ) -> ServiceResult<Calendar> {
        if !self.calendars.contains_key(code) {
            let calendar = super::working_days::load(conn, code)?.unwrap_or_default();
            self.calendars.insert(code.to_owned(), calendar);
        }
        Ok(self.calendars[code].clone())
    }
}

/// An obligation with what the tick needs of it, parsed from its JSON columns.
pub(super) struct Rules {
    pub obligation: ObligationRow,
    pub plan: PlanRow,
    /// The code of the working-day calendar.
    pub calendar: String,
    reminder_texts: Vec<String>,
    pub reminders: Vec<Offset>,
    steps: Vec<EscalationStep>,
    afters: Vec<Offset>,
    grace: Offset,
}

impl Rules {
    fn parse(obligation: ObligationRow, plan: PlanRow) -> ServiceResult<Self> {
        let schedule = obligation.schedule.0.clone();
        let reminder_texts = obligation.reminders.0.clone();
        let reminders = offsets("obligations.reminders", &reminder_texts)?;
        let steps = obligation.escalation.0.clone();
        let after_texts: Vec<String> = steps.iter().map(|s| s.after.clone()).collect();
        let afters = offsets("obligations.escalation", &after_texts)?;
        let grace = Offset::parse(&obligation.grace)
            .ok_or_else(|| ServiceError::data("obligations.grace"))?;
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

/// Handles up to [`BATCH`] due deadlines in the caller's transaction; none looked at means none are due.
pub(super) fn batch(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    timing: &Timing,
    cache: &mut Cache,
) -> ServiceResult<Batch> {
    let mut report = Batch::default();
    let due = store::deadlines::due_for_notice(conn, now.into(), BATCH)?;
    cache.prefetch_units(conn, due.iter().map(|d| d.unit_id))?;
    let mut drafts: Vec<Draft> = Vec::new();
    // Grouped by the new moment: a national batch mostly shares a handful of next moments.
    let mut moves: BTreeMap<Option<UtcDateTime>, Vec<i64>> = BTreeMap::new();
    for deadline in &due {
        let next = match decide(conn, now, timing, cache, deadline)? {
            Decided::Next { draft, next } => {
                drafts.extend(draft.map(|d| *d));
                next
            }
            // No email ever goes to a unit outside its validity. A deadline that moved to a successor belongs
            // to the successor; one that stayed is the closed unit's record, and nobody is left to write to.
            Decided::UnitClosed => {
                tracing::warn!(
                    deadline = deadline.id,
                    unit = deadline.unit_id,
                    "no notice: the unit has closed"
                );
                report.closed_units += 1;
                None
            }
            // A deadline whose data or template cannot be used must not stop everyone else's notices: it is
            // logged and looked at again in an hour (an operator may fix the template meanwhile).
            Decided::Skip(why) => {
                tracing::error!(deadline = deadline.id, %why, "notice skipped");
                report.skipped += 1;
                Some(now + chrono::Duration::hours(1))
            }
        };
        moves
            .entry(next.map(UtcDateTime))
            .or_default()
            .push(deadline.id);
        report.looked_at += 1;
    }
    // One INSERT claims the whole batch; only what this caller claimed is queued.
    let claims: Vec<(&str, String)> = drafts
        .iter()
        .map(|d| (d.notice.kind, d.slot.clone()))
        .collect();
    let won = store::notices::claim_many(conn, &claims, now.into())?;
    let mut outgoing = Vec::new();
    let mut listed = Vec::new();
    let mut noticed = Vec::new();
    for draft in drafts {
        if !won.contains(&(draft.notice.kind.to_owned(), draft.slot)) {
            continue;
        }
        noticed.extend(draft.notice.deadline_id);
        match draft.letter {
            Letter::Own(email) => {
                outgoing.push(email);
                report.notices.push(draft.notice);
            }
            Letter::ToOffice(letter) => listed.push((draft.notice, *letter)),
        }
    }
    outgoing.extend(office_letters(listed, &mut report.notices)?);
    mail::queue_many(conn, now, &outgoing)?;
    // The next email about each of these deadlines counts on from this one.
    store::deadlines::count_notice_many(conn, &noticed)?;
    for (at, ids) in moves {
        store::deadlines::set_next_notice_many(conn, &ids, at)?;
    }
    Ok(report)
}

fn offsets(column: &str, texts: &[String]) -> ServiceResult<Vec<Offset>> {
    texts
        .iter()
        .map(|t| Offset::parse(t).ok_or_else(|| ServiceError::data(format!("{column}: `{t}`"))))
        .collect()
}

/// What the tick does with one deadline.
enum Decided {
    /// Queue `draft` if there is one (and this caller claims it); look again at `next`.
    Next {
        draft: Option<Box<Draft>>,
        next: Option<DateTime<Utc>>,
    },
    /// The deadline's unit no longer exists at `now`: nothing is sent, now or later.
    UnitClosed,
    /// The deadline's stored data or a template cannot be used: count it, log why, and go on with the others.
    Skip(ServiceError),
}

/// What is due for one deadline now; only a failing database ends the batch.
fn decide(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    timing: &Timing,
    cache: &mut Cache,
    deadline: &DeadlineRow,
) -> ServiceResult<Decided> {
    match decide_one(conn, now, timing, cache, deadline) {
        Ok(decided) => Ok(decided),
        Err(e @ (ServiceError::Data(_) | ServiceError::Template(_))) => Ok(Decided::Skip(e)),
        Err(e) => Err(e),
    }
}

/// The latest due notice of one deadline (rendered, not yet claimed), and its next moment.
fn decide_one(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    timing: &Timing,
    cache: &mut Cache,
    deadline: &DeadlineRow,
) -> ServiceResult<Decided> {
    let hours = timing.hours;
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
    // The recipient of this deadline (its period's, after any succession); the obligation's own while undecided.
    let recipient = cache.unit(
        conn,
        deadline.recipient_id.unwrap_or(obligation.recipient_id),
    )?;
    let calendar = cache.calendar(conn, &rules.calendar)?;
    let tz = super::letters::zone(&unit)?;
    let due_at = deadline.due_at.0;
    let today = now.with_timezone(&tz).date_naive();
    if !is_valid_on(unit.valid_from, unit.valid_until, today) {
        return Ok(Decided::UnitClosed);
    }
    // Mail goes out in the unit's office hours on its working days only, catch-up after downtime included.
    let office = notify::next_office_moment(now, tz, hours, &calendar);
    if office > now {
        return Ok(Decided::Next {
            draft: None,
            next: Some(office),
        });
    }

    let coordinator = cache.unit(conn, plan.coordinator_id)?;
    let coordinator = letters::signing_office(conn, coordinator, &recipient, today)?;
    let subject = letters::Subject {
        plan,
        obligation,
        deadline,
        recipient: &recipient,
        coordinator: &coordinator,
    };
    let lang = unit.language.as_str();
    let mut notice = None;
    if now < due_at {
        if let Some(i) = notify::due_reminder(due_at, reminders, now, tz, hours, &calendar) {
            let mut about = subject.about(conn, lang)?;
            about.link = letters::unit_link(
                conn,
                unit.id,
                &format!("/deadlines/{}/file", deadline.id),
                now,
            )?;
            let context = json!({
                "to": unit.name, "about": about, "unit": unit.name,
                "days_left": words::days_left(today, deadline.last_day),
                "notice_number": deadline.notices_sent + 1,
            });
            notice = Some(draft(
                &subject,
                &unit.code,
                "reminder",
                &reminder_texts[i],
                mail::render(lang, "reminder", &context)?,
                (unit.contacts.0.reporters.clone(), Vec::new()),
            ));
        }
    } else if let Some(i) = notify::due_escalation(due_at, grace, afters, now, tz, hours, &calendar)
        .filter(|i| {
            let moment = notify::escalation_moment(due_at, grace, afters[*i], tz, hours, &calendar);
            notify::still_timely(moment, now, timing.max_catch_up, tz)
        })
    {
        let step = &steps[i];
        let own = &unit.contacts.0;
        // A recipient office that has closed is written to no more (its successor, if the deadline's period
        // went to one, is the obligation's to name).
        let no_one = Contacts::default();
        let theirs = if is_valid_on(recipient.valid_from, recipient.valid_until, today) {
            &recipient.contacts.0
        } else {
            tracing::warn!(deadline = deadline.id, recipient = %recipient.code,
                           "escalation without the recipient office: it has closed");
            &no_one
        };
        let addresses = |audiences: &[Audience]| -> Vec<String> {
            let mut out: Vec<String> = Vec::new();
            for audience in audiences {
                let list = match audience {
                    Audience::Reporters => own.reporters.clone(),
                    Audience::Heads => own.heads.clone(),
                    Audience::Recipient => theirs.everyone(),
                };
                for address in list {
                    if !out.contains(&address) {
                        out.push(address);
                    }
                }
            }
            out
        };
        let mut to = addresses(&step.to);
        let mut cc: Vec<String> = addresses(&step.cc)
            .into_iter()
            .filter(|a| !to.contains(a))
            .collect();
        if to.is_empty() {
            to = std::mem::take(&mut cc);
        }
        let days_late = words::days_late(today, deadline.last_day);
        let slot_step = format!("{}", i + 1);
        if step.to == [Audience::Recipient] {
            // Written to the recipient office: one letter listing its late units (see `office_letters`).
            let rlang = recipient.language.as_str();
            let late = LateUnit {
                name: unit.name.clone(),
                days_late,
                notices_sent: deadline.notices_sent,
                phone: unit.phone.clone(),
                email: unit.email.clone(),
            };
            let mut about = subject.about(conn, rlang)?;
            about.link = letters::office_link(&format!("/obligations/{}", obligation.id));
            notice = Some(Draft {
                slot: format!("{}:{slot_step}", deadline.id),
                notice: Notice {
                    deadline_id: Some(deadline.id),
                    unit: unit.code.clone(),
                    period: deadline.period.clone(),
                    kind: "escalation",
                    step: slot_step.clone(),
                    to: to.clone(),
                    cc: cc.clone(),
                    subject: String::new(),
                },
                letter: Letter::ToOffice(Box::new(OfficeLetter {
                    group: (recipient.id, obligation.id, deadline.period.clone(), i),
                    language: rlang.to_owned(),
                    to_name: recipient.name.clone(),
                    about,
                    sender: coordinator.name.clone(),
                    to,
                    cc,
                    late,
                })),
            });
        } else {
            let to_name =
                if step.to.contains(&Audience::Heads) && !step.to.contains(&Audience::Reporters) {
                    if lang == "en" {
                        format!("The head of {}", unit.name)
                    } else {
                        format!("Lãnh đạo {}", unit.name)
                    }
                } else {
                    unit.name.clone()
                };
            let mut about = subject.about(conn, lang)?;
            about.link = letters::unit_link(
                conn,
                unit.id,
                &format!("/deadlines/{}/file", deadline.id),
                now,
            )?;
            let context = json!({
                "to": to_name, "about": about, "unit": unit.name,
                "days_late": days_late, "notices_before": deadline.notices_sent,
            });
            notice = Some(draft(
                &subject,
                &unit.code,
                "escalation",
                &slot_step,
                mail::render(lang, "escalation", &context)?,
                (to, cc),
            ));
        }
    }
    let next = notify::next_notice(due_at, reminders, grace, afters, now, tz, hours, &calendar);
    Ok(Decided::Next {
        draft: notice.map(Box::new),
        next,
    })
}

/// One late unit in a letter to the recipient office.
#[derive(Debug, Clone, Serialize)]
struct LateUnit {
    name: String,
    days_late: i64,
    notices_sent: i32,
    phone: Option<String>,
    email: Option<String>,
}

/// (recipient unit, obligation, period, escalation step index).
type OfficeGroup = (i64, i64, String, usize);

/// A late unit's line in the letter to its recipient office, and what the letter is about.
struct OfficeLetter {
    /// One letter per group and batch.
    group: OfficeGroup,
    language: String,
    to_name: String,
    about: letters::About,
    sender: String,
    to: Vec<String>,
    cc: Vec<String>,
    late: LateUnit,
}

/// What a claimed notice sends: its own email, or a line in a letter to the recipient office.
enum Letter {
    Own(mail::Outgoing),
    ToOffice(Box<OfficeLetter>),
}

/// A notice decided and rendered, to be sent if this caller claims `(notice.kind, slot)`.
struct Draft {
    slot: String,
    notice: Notice,
    letter: Letter,
}

/// A notice with its own email, from the coordinating office.
fn draft(
    subject: &letters::Subject<'_>,
    unit_code: &str,
    kind: &'static str,
    step: &str,
    email: mail::Rendered,
    (to, cc): (Vec<String>, Vec<String>),
) -> Draft {
    let slot = format!("{}:{step}", subject.deadline.id);
    Draft {
        notice: Notice {
            deadline_id: Some(subject.deadline.id),
            unit: unit_code.to_owned(),
            period: subject.deadline.period.clone(),
            kind,
            step: step.to_owned(),
            to: to.clone(),
            cc: cc.clone(),
            subject: email.subject.clone(),
        },
        letter: Letter::Own(mail::Outgoing {
            dedupe_key: format!("{kind}:{slot}"),
            to,
            cc,
            email,
            sender: Some(subject.coordinator.name.clone()),
        }),
        slot,
    }
}

/// The letters to recipient offices: each group's claimed late units in one email, the latest first.
fn office_letters(
    listed: Vec<(Notice, OfficeLetter)>,
    notices: &mut Vec<Notice>,
) -> ServiceResult<Vec<mail::Outgoing>> {
    let mut groups: BTreeMap<OfficeGroup, Vec<(Notice, OfficeLetter)>> = BTreeMap::new();
    for (notice, letter) in listed {
        groups
            .entry(letter.group.clone())
            .or_default()
            .push((notice, letter));
    }
    let mut out = Vec::new();
    for ((_, obligation, period, step), mut members) in groups {
        members.sort_by(|(_, a), (_, b)| {
            (b.late.days_late, &a.late.name).cmp(&(a.late.days_late, &b.late.name))
        });
        let first = &members[0].1;
        let units: Vec<&LateUnit> = members.iter().map(|(_, l)| &l.late).collect();
        let context = json!({
            "to": first.to_name, "about": first.about, "count": units.len(), "units": units,
        });
        let email = mail::render(&first.language, "overdue_list", &context)?;
        let lowest = members
            .iter()
            .filter_map(|(n, _)| n.deadline_id)
            .min()
            .unwrap_or(0);
        out.push(mail::Outgoing {
            dedupe_key: format!("overdue_list:{obligation}:{period}:{}:{lowest}", step + 1),
            to: first.to.clone(),
            cc: first.cc.clone(),
            email: email.clone(),
            sender: Some(first.sender.clone()),
        });
        for (mut notice, _) in members {
            notice.subject = email.subject.clone();
            notices.push(notice);
        }
    }
    Ok(out)
}
