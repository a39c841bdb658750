//! Materialising an obligation: which (unit, period) deadlines exist, with their last day and due_at.
//!
//! Pure: the caller resolves the reporters (with their validity and succession) and the calendar; this module
//! decides, period by period, who takes part and when each deadline falls, and flags periods nobody can serve.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::calendar::Calendar;
use super::due::{due_at, last_day, DueError};
use super::period::{periods_in, Period, PeriodType};
use super::schedule::{DueRule, Schedule, Shift};
use super::unit::is_valid_on;

/// A unit that may report for the obligation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub unit_id: i64,
    pub time_zone: Tz,
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    /// Set for a unit that reports only as the successor of a listed one: it takes the periods whose last day
    /// falls on or after its succession date (DESIGN.md §2).
    pub joins_on: Option<NaiveDate>,
}

impl Candidate {
    /// Whether this unit reports for a period whose last day is `day`.
    pub fn takes_part(&self, day: NaiveDate) -> bool {
        is_valid_on(self.valid_from, self.valid_until, day)
            && self.joins_on.is_none_or(|j| j <= day)
    }
}

/// One deadline to exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedDeadline {
    pub unit_id: i64,
    /// The unit the report goes to; none while the recipient is undecided (split) or missing.
    pub recipient_id: Option<i64>,
    pub period: Period,
    pub last_day: NaiveDate,
    pub due_at: DateTime<Utc>,
}

/// A period of the obligation that cannot be served as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Warning {
    /// Period id, e.g. `2025`.
    pub period: String,
    pub last_day: NaiveDate,
    /// `no_reporter`, `no_recipient`, `recipient_split` or `calendar_incomplete`.
    pub code: &'static str,
    pub message: String,
}

/// The deadlines of an obligation and the periods it cannot serve.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Materialised {
    pub deadlines: Vec<PlannedDeadline>,
    pub warnings: Vec<Warning>,
}

/// Who receives the reports on a given last day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecipientAt {
    Unit(i64),
    /// The recipient ended and its work went to several units: the office has to choose one.
    Split(Vec<i64>),
    /// No unit receives the reports then (before the recipient existed, or after it ended without successor).
    Nobody,
}

/// The recipient of an obligation over time: the unit the obligation names (or the office chose from some day
/// on), followed through its successions. Built by the caller from stored units; read by last day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientLine {
    /// From each day on (in order), who receives; the first entry holds from the beginning of time.
    pub from: Vec<(NaiveDate, RecipientAt)>,
}

impl RecipientLine {
    /// One unit, always.
    pub fn always(unit_id: i64) -> Self {
        Self {
            from: vec![(NaiveDate::MIN, RecipientAt::Unit(unit_id))],
        }
    }

    /// Who receives the reports of a period whose last day is `day`.
    pub fn on(&self, day: NaiveDate) -> &RecipientAt {
        self.from
            .iter()
            .rev()
            .find(|(start, _)| *start <= day)
            .map_or(&RecipientAt::Nobody, |(_, who)| who)
    }
}

/// The periods of a periodic or one-off schedule over its window (events come one at a time instead).
pub fn scheduled_periods(schedule: &Schedule, window: (NaiveDate, NaiveDate)) -> Vec<Period> {
    match schedule.period_type {
        PeriodType::Once => vec![Period::Once],
        PeriodType::Event => Vec::new(),
        periodic => periods_in(periodic, window.0, window.1),
    }
}

/// Every deadline of `periods`, one per candidate that takes part in each period.
///
/// `event_end` is needed by event schedules only (their single period is the event).
pub fn materialise(
    schedule: &Schedule,
    periods: &[Period],
    calendar: &Calendar,
    event_end: Option<NaiveDate>,
    candidates: &[Candidate],
    recipient: &RecipientLine,
) -> Result<Materialised, DueError> {
    walk(
        schedule, periods, calendar, event_end, candidates, recipient, true,
    )
}

/// Only the warnings of [`materialise`], without building the deadlines (cheap for a national obligation).
pub fn warnings(
    schedule: &Schedule,
    periods: &[Period],
    calendar: &Calendar,
    event_end: Option<NaiveDate>,
    candidates: &[Candidate],
    recipient: &RecipientLine,
) -> Result<Vec<Warning>, DueError> {
    walk(
        schedule, periods, calendar, event_end, candidates, recipient, false,
    )
    .map(|m| m.warnings)
}

fn walk(
    schedule: &Schedule,
    periods: &[Period],
    calendar: &Calendar,
    event_end: Option<NaiveDate>,
    candidates: &[Candidate],
    recipient: &RecipientLine,
    collect: bool,
) -> Result<Materialised, DueError> {
    let mut out = Materialised::default();
    for period in periods {
        let day = last_day(schedule, period, calendar, event_end)?;
        let mut taking_part = candidates.iter().filter(|c| c.takes_part(day)).peekable();
        let served = taking_part.peek().is_some();
        let receiver = recipient.on(day);
        let recipient_id = match receiver {
            RecipientAt::Unit(id) => Some(*id),
            RecipientAt::Split(_) | RecipientAt::Nobody => None,
        };
        if collect {
            out.deadlines.extend(taking_part.map(|c| PlannedDeadline {
                unit_id: c.unit_id,
                recipient_id,
                period: *period,
                last_day: day,
                due_at: due_at(day, c.time_zone),
            }));
        }
        if !served {
            out.warnings.push(Warning {
                period: period.to_string(),
                last_day: day,
                code: "no_reporter",
                message: format!(
                    "no reporting unit exists on {day}, the last day of period {period}"
                ),
            });
        }
        if uses_working_days(schedule) && !calendar.calendar_complete(day.year()) {
            out.warnings.push(Warning {
                period: period.to_string(),
                last_day: day,
                code: "calendar_incomplete",
                message: format!(
                    "the holidays of {} are not (all) in the working-day calendar `{}` yet: the last day \
                     {day} of period {period} may move when they are added",
                    day.year(),
                    schedule.calendar
                ),
            });
        }
        match receiver {
            RecipientAt::Unit(_) => {}
            RecipientAt::Nobody => out.warnings.push(Warning {
                period: period.to_string(),
                last_day: day,
                code: "no_recipient",
                message: format!(
                    "no recipient unit exists on {day}, the last day of period {period}: name one with a \
                     PATCH of `recipient` and `from_period`"
                ),
            }),
            RecipientAt::Split(_) => out.warnings.push(Warning {
                period: period.to_string(),
                last_day: day,
                code: "recipient_split",
                message: format!(
                    "the recipient's work went to several units before {day}, the last day of period {period}: \
                     choose the one that receives these reports with a PATCH of `recipient` and `from_period`"
                ),
            }),
        }
    }
    Ok(out)
}

/// Whether the rule's last days depend on the holidays: counted in working days, or moved off a day off.
fn uses_working_days(schedule: &Schedule) -> bool {
    let counts = matches!(
        schedule.due,
        DueRule::AfterPeriodEnd {
            working_days: true,
            ..
        } | DueRule::AfterEvent {
            working_days: true,
            ..
        }
    );
    counts || schedule.shift != Shift::None
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use proptest::prelude::*;

    use super::*;
    use crate::domain::test_support::{date, vn};

    fn hanoi_269() -> Schedule {
        serde_json::from_str(
            r#"{"period_type":"yearly","cutoff":"calendar","due":{"rule":"fixed_date","month":12,"day":1,"phrase":"before"},
                "shift":"next_working_day","starts_on":"2022-01-01","ends_on":"2025-12-31","calendar":"vn"}"#,
        )
        .unwrap()
    }

    fn district(id: i64, valid_until: Option<&str>) -> Candidate {
        Candidate {
            unit_id: id,
            time_zone: chrono_tz::Asia::Ho_Chi_Minh,
            valid_from: None,
            valid_until: valid_until.map(date),
            joins_on: None,
        }
    }

    fn always() -> RecipientLine {
        RecipientLine::always(100)
    }

    #[test]
    fn hanoi_districts_get_four_years_until_they_are_abolished() {
        let schedule = hanoi_269();
        let periods = scheduled_periods(&schedule, (date("2022-01-01"), date("2025-12-31")));
        assert_eq!(periods.len(), 4);
        let districts: Vec<_> = (1..=30)
            .map(|id| district(id, Some("2025-06-30")))
            .collect();
        let labour_dept = RecipientLine {
            from: vec![
                (NaiveDate::MIN, RecipientAt::Unit(100)),
                (date("2025-03-01"), RecipientAt::Nobody),
            ],
        };
        let m = materialise(&schedule, &periods, &vn(), None, &districts, &labour_dept).unwrap();
        assert_eq!(
            warnings(&schedule, &periods, &vn(), None, &districts, &labour_dept).unwrap(),
            m.warnings
        );
        assert!(m.deadlines.iter().all(|d| d.recipient_id == Some(100)));
        // The department's poverty work went to two departments: the office has to choose.
        let split = RecipientLine {
            from: vec![
                (NaiveDate::MIN, RecipientAt::Unit(100)),
                (date("2025-03-01"), RecipientAt::Split(vec![101, 102])),
            ],
        };
        let codes: Vec<_> = warnings(&schedule, &periods, &vn(), None, &districts, &split)
            .unwrap()
            .into_iter()
            .map(|w| w.code)
            .collect();
        assert_eq!(codes, ["no_reporter", "recipient_split"]);
        // 2022, 2023, 2024 for 30 districts; 2025's last day (1/12/2025) is after the districts ended.
        assert_eq!(m.deadlines.len(), 90);
        let y2024: Vec<_> = m
            .deadlines
            .iter()
            .filter(|d| d.period == Period::Year(2024))
            .collect();
        assert!(y2024.iter().all(|d| d.last_day == date("2024-12-02")));
        assert_eq!(y2024[0].due_at.to_rfc3339(), "2024-12-02T17:00:00+00:00");
        let codes: Vec<_> = m
            .warnings
            .iter()
            .map(|w| (w.period.as_str(), w.code))
            .collect();
        assert_eq!(codes, [("2025", "no_reporter"), ("2025", "no_recipient")]);
    }

    #[test]
    fn a_successor_takes_the_periods_from_its_succession_date() {
        let schedule = hanoi_269();
        let periods = scheduled_periods(&schedule, (date("2022-01-01"), date("2025-12-31")));
        let old = district(1, Some("2025-06-30"));
        let successor = Candidate {
            unit_id: 2,
            joins_on: Some(date("2025-07-01")),
            ..district(2, None)
        };
        let m = materialise(
            &schedule,
            &periods,
            &vn(),
            None,
            &[old, successor],
            &always(),
        )
        .unwrap();
        let owners: Vec<_> = m
            .deadlines
            .iter()
            .map(|d| (d.period.to_string(), d.unit_id))
            .collect();
        assert_eq!(
            owners,
            [
                ("2022".into(), 1),
                ("2023".into(), 1),
                ("2024".into(), 1),
                ("2025".into(), 2)
            ]
        );
        assert!(m.warnings.is_empty());
    }

    proptest! {
        /// Every period in the window gets exactly one deadline per unit valid on its last day.
        #[test]
        fn one_deadline_per_valid_reporter_and_period(
            kind in prop::sample::select(vec!["monthly", "quarterly", "six_monthly", "yearly", "weekly"]),
            start in 0u64..2000, len in 0u64..1500,
            units in prop::collection::vec((prop::option::of(0u64..3000), prop::option::of(0u64..3000)), 0..6),
        ) {
            let base = date("2022-01-01");
            let day = |n: u64| base + chrono::Days::new(n);
            let schedule: Schedule = serde_json::from_value(serde_json::json!({
                "period_type": kind, "due": {"rule": "after_period_end", "days": 10}
            })).unwrap();
            let window = (day(start), day(start + len));
            let periods = scheduled_periods(&schedule, window);
            let candidates: Vec<_> = units.iter().enumerate().map(|(i, (from, until))| Candidate {
                unit_id: i as i64,
                time_zone: chrono_tz::Asia::Ho_Chi_Minh,
                valid_from: from.map(day),
                valid_until: until.map(day),
                joins_on: None,
            }).collect();
            let m = materialise(&schedule, &periods, &vn(), None, &candidates, &always()).unwrap();
            let keys: HashSet<_> = m.deadlines.iter().map(|d| (d.unit_id, d.period)).collect();
            prop_assert_eq!(keys.len(), m.deadlines.len(), "a (unit, period) twice");
            for period in &periods {
                let last = last_day(&schedule, period, &vn(), None).unwrap();
                for c in &candidates {
                    let expected = is_valid_on(c.valid_from, c.valid_until, last);
                    prop_assert_eq!(keys.contains(&(c.unit_id, *period)), expected);
                }
            }
        }
    }
}
