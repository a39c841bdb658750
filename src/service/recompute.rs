//! Recomputation: bringing an obligation's stored deadlines in line with its rules, reporters, events and
//! calendar after any change (an obligation or plan edited, a unit created, moved or ended, a calendar day added).
//! Only deadlines nobody has acted on move; the compliance record never does.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::obligation_rules::{Parsed, Reporters};
use super::{ServiceError, ServiceResult};
use crate::domain::materialize::{self, Candidate, Materialised, RecipientAt, RecipientLine};
use crate::domain::notify::{self, Offset};
use crate::domain::{Calendar, Period, PeriodType, Schedule};
use crate::store::deadlines::NewDeadline;
use crate::store::obligations::ObligationRow;
use crate::store::states::DeadlineState;
use crate::store::units::UnitRow;
use crate::store::{self, AnyConnection};

/// What a (re)materialisation did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MaterialiseReport {
    pub created: usize,
    pub rescheduled: usize,
    pub removed: usize,
}

/// The units that may report, with validity and succession (DESIGN.md §1: deadlines follow successors).
fn candidates(conn: &mut AnyConnection, reporters: &Reporters) -> ServiceResult<Vec<Candidate>> {
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

fn candidate(unit: &UnitRow, joins_on: Option<NaiveDate>) -> ServiceResult<Candidate> {
    Ok(Candidate {
        unit_id: unit.id,
        time_zone: unit.time_zone.parse::<Tz>().map_err(|_| {
            ServiceError::data(format!("unit {} time zone `{}`", unit.code, unit.time_zone))
        })?,
        valid_from: unit.valid_from,
        valid_until: unit.valid_until,
        joins_on,
    })
}

/// The deadlines the obligation should have now, with its warnings.
pub(super) fn plan_deadlines(
    conn: &mut AnyConnection,
    parsed: &Parsed,
    collect: bool,
) -> ServiceResult<Materialised> {
    let calendar = &parsed.calendar;
    let candidates = candidates(conn, &parsed.reporters)?;
    let recipient = recipient_line(conn, &parsed.row)?;
    let window = parsed.window();
    // Reading an obligation needs only its warnings: skip building (and dropping) every deadline.
    let run = |s: &Schedule,
               p: &[Period],
               c: &Calendar,
               e: Option<NaiveDate>,
               cs: &[Candidate],
               r: &RecipientLine| {
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
        ServiceError::data(format!("obligation {}: {e}", parsed.row.id))
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
            &recipient,
        )
        .map_err(corrupt);
    }
    let mut all = Materialised::default();
    for event in store::obligations::events(conn, Some(parsed.row.id), None, i64::MAX)? {
        let only: Option<Vec<String>> = event.units.map(|u| u.0);
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
            &recipient,
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
) -> ServiceResult<MaterialiseReport> {
    store::obligations::lock(conn, id)?;
    let row = store::obligations::find(conn, id)?
        .ok_or_else(|| ServiceError::data(format!("obligation {id} vanished")))?;
    let parsed = Parsed::load(conn, row)?;
    let planned = plan_deadlines(conn, &parsed, true)?;
    // The first moment the notice tick needs to look at each new deadline (see notify::earliest_notice).
    let reminders: Vec<Offset> = parsed
        .row
        .reminders
        .0
        .iter()
        .filter_map(|r| Offset::parse(r))
        .collect();
    let mut existing: HashMap<(i64, String), store::deadlines::DeadlineRow> =
        store::deadlines::of_obligation(conn, id, None)?
            .into_iter()
            .map(|d| ((d.unit_id, d.period.clone()), d))
            .collect();
    // Only open business follows a change of recipient: a report already received (or waived) stays with the
    // office it went to.
    let existing_recipient: HashMap<(i64, String), (i64, Option<i64>)> = existing
        .iter()
        .filter(|(_, d)| d.state == DeadlineState::Pending || d.recipient_id.is_none())
        .map(|(key, d)| (key.clone(), (d.id, d.recipient_id)))
        .collect();
    let mut recipient_moves: std::collections::BTreeMap<Option<i64>, Vec<i64>> = Default::default();
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
                recipient_id: d.recipient_id,
                created_at: now.into(),
                updated_at: now.into(),
                // A deadline already past due when it is made is history being recorded (a plan loaded years
                // after it started): it shows in lists, compliance and digests, and no email is sent about it.
                next_notice_at: (d.due_at > now).then(|| {
                    notify::earliest_notice(d.due_at, &reminders, &parsed.calendar).into()
                }),
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
        // The recipient follows succession and the office's choices by last day, history included: a
        // deadline whose last day fell before the change keeps the recipient it had.
        if let Some(old) = existing_recipient.get(&(d.unit_id, d.period.to_string())) {
            if old.1 != d.recipient_id {
                recipient_moves
                    .entry(d.recipient_id)
                    .or_default()
                    .push(old.0);
            }
        }
    }
    for (recipient_id, ids) in recipient_moves {
        store::deadlines::set_recipient_many(conn, &ids, recipient_id, now.into())?;
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
    d.state == DeadlineState::Pending
        && d.extended_reason.is_none()
        && (reach == Reach::Pending || d.due_at.0 > now)
}

/// Recomputes the obligations a change of unit `unit_id` (created, moved, re-zoned, ended) can affect: those with
/// deadlines for it, those listing it, and the groups it belongs to through its ancestors and kind.
pub fn for_unit(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    unit_id: i64,
) -> ServiceResult<MaterialiseReport> {
    let mut total = MaterialiseReport::default();
    for id in concerning(conn, unit_id)? {
        let report = rematerialise(conn, now, id, Reach::Open)?;
        total.created += report.created;
        total.rescheduled += report.rescheduled;
        total.removed += report.removed;
    }
    Ok(total)
}

/// The obligations a unit takes part in: those with deadlines for it, those listing it, and those whose reporter
/// group it belongs to through its ancestors and kind.
pub(super) fn concerning(
    conn: &mut AnyConnection,
    unit_id: i64,
) -> ServiceResult<std::collections::BTreeSet<i64>> {
    let unit = store::units::find(conn, unit_id)?
        .ok_or_else(|| ServiceError::data(format!("unit {unit_id} vanished")))?;
    let ancestors = store::units::ancestors(conn, unit_id)?;
    let mut ids: std::collections::BTreeSet<i64> =
        store::deadlines::obligations_of_unit(conn, unit_id)?
            .into_iter()
            .collect();
    let mut parents: HashMap<String, Option<i64>> = HashMap::new();
    each_obligation(conn, |conn, row| {
        let concerned = match row.reporters.0 {
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
        Ok(())
    })?;
    Ok(ids)
}

/// Recomputes every obligation that counts working days with calendar `code`; returns how many deadlines moved.
pub fn for_calendar(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    code: &str,
) -> ServiceResult<usize> {
    let mut moved = 0;
    each_obligation(conn, |conn, row| {
        if row.schedule.0.calendar == code {
            moved += rematerialise(conn, now, row.id, Reach::Open)?.rescheduled;
        }
        Ok(())
    })?;
    Ok(moved)
}

/// Calls `f` on every obligation, read 500 at a time in id order.
fn each_obligation(
    conn: &mut AnyConnection,
    mut f: impl FnMut(&mut AnyConnection, ObligationRow) -> ServiceResult<()>,
) -> ServiceResult<()> {
    let mut after = None;
    loop {
        let rows = store::obligations::list(conn, None, after, 500)?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = Some(last.id);
        for row in rows {
            f(conn, row)?;
        }
    }
}

/// The obligation's recipient over time: the unit it names, or the office's choice from some last day on, each
/// followed through its successions (one successor: the reports go on to it; several: the office must choose).
pub(super) fn recipient_line(
    conn: &mut AnyConnection,
    obligation: &ObligationRow,
) -> ServiceResult<RecipientLine> {
    let mut starts = vec![(NaiveDate::MIN, obligation.recipient_id)];
    starts.extend(store::obligations::recipient_choices(conn, obligation.id)?);
    let mut from = Vec::new();
    for (i, (start, unit)) in starts.iter().enumerate() {
        let end = starts.get(i + 1).map(|(next, _)| *next);
        follow(conn, *unit, *start, end, &mut from, 0)?;
    }
    Ok(RecipientLine { from })
}

/// Adds who receives from `start` until before `end`, starting with `unit` and following its successions.
fn follow(
    conn: &mut AnyConnection,
    unit_id: i64,
    start: NaiveDate,
    end: Option<NaiveDate>,
    line: &mut Vec<(NaiveDate, RecipientAt)>,
    depth: usize,
) -> ServiceResult<()> {
    let unit = store::units::find(conn, unit_id)?
        .ok_or_else(|| ServiceError::data(format!("recipient unit {unit_id} vanished")))?;
    let mut start = start;
    if let Some(from) = unit.valid_from.filter(|f| *f > start) {
        line.push((start, RecipientAt::Nobody));
        start = from;
    }
    if end.is_some_and(|e| e <= start) {
        return Ok(());
    }
    line.push((start, RecipientAt::Unit(unit.id)));
    let Some(until) = unit.valid_until else {
        return Ok(());
    };
    let Some(after) = until.succ_opt().filter(|a| end.is_none_or(|e| *a < e)) else {
        return Ok(());
    };
    let links = store::units::successions_from(conn, &[unit.id])?;
    match links.as_slice() {
        // A chain longer than any real one is a cycle in bad data: stop there.
        [link] if depth < 50 => follow(conn, link.successor_id, after, end, line, depth + 1),
        [] | [_] => {
            line.push((after, RecipientAt::Nobody));
            Ok(())
        }
        several => {
            line.push((
                after,
                RecipientAt::Split(several.iter().map(|l| l.successor_id).collect()),
            ));
            Ok(())
        }
    }
}
