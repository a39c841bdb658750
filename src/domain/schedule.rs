//! An obligation's schedule: which periods it has, and the rule that gives each one its last day.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use super::period::{Cutoff, PeriodType, SUPPORTED_YEARS};
use super::FieldError;

/// Longest delay a counted rule may have: beyond a year a "deadline" is a typo.
pub const MAX_DAYS: u32 = 366;

/// When and how often an obligation is due, as the API and the database store it, e.g.
/// `{"period_type":"yearly","cutoff":"calendar","due":{"rule":"fixed_date","month":12,"day":1,
/// "phrase":"before"},"shift":"next_working_day","starts_on":"2022-01-01","ends_on":"2025-12-31",
/// "calendar":"vn"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    pub period_type: PeriodType,
    #[serde(default)]
    pub cutoff: Cutoff,
    pub due: DueRule,
    #[serde(default)]
    pub shift: Shift,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_on: Option<NaiveDate>,
    /// Code of the working-day calendar.
    #[serde(default = "default_calendar")]
    pub calendar: String,
}

fn default_calendar() -> String {
    "vn".to_owned()
}

/// How the last day of a period is found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
pub enum DueRule {
    /// A day of the period's year ("trước ngày 01 tháng 12 hàng năm"); yearly only.
    FixedDate {
        month: u32,
        day: u32,
        phrase: Phrase,
    },
    /// N days after the data window ends; periodic types only.
    AfterPeriodEnd {
        days: u32,
        #[serde(default)]
        working_days: bool,
    },
    /// One date; `once` only.
    Date { date: NaiveDate, phrase: Phrase },
    /// N days after the event ends ("sau đợt tuyên truyền"); `event` only.
    AfterEvent {
        days: u32,
        #[serde(default)]
        working_days: bool,
    },
}

impl DueRule {
    pub fn name(&self) -> &'static str {
        match self {
            DueRule::FixedDate { .. } => "fixed_date",
            DueRule::AfterPeriodEnd { .. } => "after_period_end",
            DueRule::Date { .. } => "date",
            DueRule::AfterEvent { .. } => "after_event",
        }
    }

    fn fits(&self, period_type: PeriodType) -> bool {
        match self {
            DueRule::FixedDate { .. } => period_type == PeriodType::Yearly,
            DueRule::AfterPeriodEnd { .. } => period_type.is_periodic(),
            DueRule::Date { .. } => period_type == PeriodType::Once,
            DueRule::AfterEvent { .. } => period_type == PeriodType::Event,
        }
    }
}

/// How the plan words a date: the wording decides whether that day is still in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phrase {
    /// "trước ngày X": the last day is X − 1.
    Before,
    /// "chậm nhất ngày X", "đến hết ngày X": the last day is X.
    NoLaterThan,
}

/// What happens to a last day that is not a working day (Civil Code art. 148).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shift {
    /// The legal rule: the next working day.
    #[default]
    NextWorkingDay,
    PreviousWorkingDay,
    None,
}

impl Schedule {
    /// The reading of the due rule in words, for people checking an obligation against its plan: which day is
    /// the last day, and what happens when it is a day off. E.g. "30/11, or the next working day when it is a
    /// day off (Civil Code art. 148)" for "trước ngày 01 tháng 12 hàng năm".
    pub fn last_day_rule(&self) -> String {
        let shift = match self.shift {
            Shift::NextWorkingDay => {
                ", or the next working day when it is a day off (Civil Code art. 148)"
            }
            Shift::PreviousWorkingDay => ", or the previous working day when it is a day off",
            Shift::None => ", even when it is a day off",
        };
        let day_before = |month: u32, day: u32| {
            NaiveDate::from_ymd_opt(2001, month, day)
                .and_then(|d| d.pred_opt())
                .map_or_else(
                    || format!("the day before {day}/{month}"),
                    |d| d.format("%d/%m").to_string(),
                )
        };
        match &self.due {
            DueRule::FixedDate { month, day, phrase } => match phrase {
                Phrase::Before => format!("{}{shift}", day_before(*month, *day)),
                Phrase::NoLaterThan => format!("{day:02}/{month:02}{shift}"),
            },
            DueRule::Date { date, phrase } => match phrase {
                Phrase::Before => format!(
                    "{}{shift}",
                    date.pred_opt().unwrap_or(*date).format("%d/%m/%Y")
                ),
                Phrase::NoLaterThan => format!("{}{shift}", date.format("%d/%m/%Y")),
            },
            DueRule::AfterPeriodEnd {
                days,
                working_days: true,
            } => {
                format!(
                    "the {} working day after the period's data window ends",
                    ordinal(*days)
                )
            }
            DueRule::AfterPeriodEnd {
                days,
                working_days: false,
            } => {
                format!("{days} days after the period's data window ends{shift}")
            }
            DueRule::AfterEvent {
                days,
                working_days: true,
            } => {
                format!("the {} working day after the event ends", ordinal(*days))
            }
            DueRule::AfterEvent {
                days,
                working_days: false,
            } => {
                format!("{days} days after the event ends{shift}")
            }
        }
    }

    /// Checks what serde cannot: impossible dates, rules that do not fit the period type, and an
    /// inverted validity window. Reports every problem at once.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if !self.due.fits(self.period_type) {
            let message = match self.period_type {
                PeriodType::Once => "a `once` schedule needs rule `date`".to_owned(),
                PeriodType::Event => "an `event` schedule needs rule `after_event`".to_owned(),
                other => format!(
                    "rule `{}` does not fit period_type `{other}`: use {}",
                    self.due.name(),
                    if other == PeriodType::Yearly {
                        "`fixed_date` or `after_period_end`"
                    } else {
                        "`after_period_end`"
                    }
                ),
            };
            errors.push(FieldError::new("/due/rule", message));
        }
        if self.cutoff == Cutoff::Decree09 && !self.period_type.is_periodic() {
            errors.push(FieldError::new(
                "/cutoff",
                "`decree_09` only applies to calendar periods",
            ));
        }
        match &self.due {
            DueRule::FixedDate { month, day, .. } => {
                if !(1..=12).contains(month) {
                    errors.push(FieldError::new("/due/month", "month must be 1 to 12"));
                } else if *month == 2 && *day == 29 {
                    errors.push(FieldError::new(
                        "/due/day",
                        "29 February is missing in most years: use 28 February or 1 March",
                    ));
                } else if *day == 0 || *day > days_in_month(*month) {
                    errors.push(FieldError::new(
                        "/due/day",
                        format!("month {month} has no day {day}"),
                    ));
                }
            }
            DueRule::AfterPeriodEnd { days, working_days }
            | DueRule::AfterEvent { days, working_days } => {
                if *days > MAX_DAYS {
                    errors.push(FieldError::new(
                        "/due/days",
                        format!("at most {MAX_DAYS} days"),
                    ));
                } else if *working_days && *days == 0 {
                    // Zero working days would leave the last day unshifted on a day off.
                    errors.push(FieldError::new("/due/days", "count at least 1 working day"));
                }
            }
            DueRule::Date { date, .. } => check_year(&mut errors, "/due/date", *date),
        }
        if let Some(starts_on) = self.starts_on {
            check_year(&mut errors, "/starts_on", starts_on);
        }
        if let Some(ends_on) = self.ends_on {
            check_year(&mut errors, "/ends_on", ends_on);
        }
        if let (Some(starts_on), Some(ends_on)) = (self.starts_on, self.ends_on) {
            if starts_on > ends_on {
                errors.push(FieldError::new("/ends_on", "ends_on is before starts_on"));
            }
        }
        if self.calendar.trim().is_empty() {
            errors.push(FieldError::new("/calendar", "name a calendar, e.g. `vn`"));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

fn check_year(errors: &mut Vec<FieldError>, pointer: &str, date: NaiveDate) {
    if !SUPPORTED_YEARS.contains(&date.year()) {
        errors.push(FieldError::new(pointer, "year must be 1 to 9999"));
    }
}

/// Days in a month of a leap year: the most that month can have.
fn days_in_month(month: u32) -> u32 {
    match month {
        2 => 29,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// 1st, 2nd, 3rd, 4th … 11th, 12th, 13th, 21st.
fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_support::date;

    const HANOI: &str = r#"{"period_type":"yearly","cutoff":"calendar","due":{"rule":"fixed_date","month":12,"day":1,"phrase":"before"},"shift":"next_working_day","starts_on":"2022-01-01","ends_on":"2025-12-31","calendar":"vn"}"#;

    #[test]
    fn last_day_rules_in_words() {
        let hanoi: Schedule = serde_json::from_str(HANOI).unwrap();
        assert_eq!(
            hanoi.last_day_rule(),
            "30/11, or the next working day when it is a day off (Civil Code art. 148)"
        );
        let strict = Schedule {
            shift: Shift::PreviousWorkingDay,
            ..hanoi.clone()
        };
        assert_eq!(
            strict.last_day_rule(),
            "30/11, or the previous working day when it is a day off"
        );
        let new_year = Schedule {
            due: DueRule::FixedDate {
                month: 1,
                day: 1,
                phrase: Phrase::Before,
            },
            ..hanoi.clone()
        };
        assert!(new_year.last_day_rule().starts_with("31/12"));
        let monthly = Schedule {
            period_type: PeriodType::Monthly,
            due: DueRule::AfterPeriodEnd {
                days: 5,
                working_days: true,
            },
            ..hanoi
        };
        assert_eq!(
            monthly.last_day_rule(),
            "the 5th working day after the period's data window ends"
        );
        assert_eq!(
            [1, 2, 3, 11, 12, 13, 21, 22].map(ordinal),
            ["1st", "2nd", "3rd", "11th", "12th", "13th", "21st", "22nd"]
        );
    }

    fn parse(json: &str) -> Result<Schedule, serde_json::Error> {
        serde_json::from_str(json)
    }

    fn pointers(schedule: &Schedule) -> Vec<String> {
        match schedule.validate() {
            Ok(()) => Vec::new(),
            Err(errors) => errors.into_iter().map(|e| e.pointer).collect(),
        }
    }

    #[test]
    fn hanoi_seed_round_trips() {
        let schedule = parse(HANOI).unwrap();
        assert_eq!(
            schedule,
            Schedule {
                period_type: PeriodType::Yearly,
                cutoff: Cutoff::Calendar,
                due: DueRule::FixedDate {
                    month: 12,
                    day: 1,
                    phrase: Phrase::Before
                },
                shift: Shift::NextWorkingDay,
                starts_on: Some(date("2022-01-01")),
                ends_on: Some(date("2025-12-31")),
                calendar: "vn".to_owned(),
            }
        );
        assert_eq!(schedule.validate(), Ok(()));
        assert_eq!(serde_json::to_string(&schedule).unwrap(), HANOI);
    }

    #[test]
    fn defaults() {
        let schedule =
            parse(r#"{"period_type":"monthly","due":{"rule":"after_period_end","days":5}}"#)
                .unwrap();
        assert_eq!(schedule.cutoff, Cutoff::Calendar);
        assert_eq!(schedule.shift, Shift::NextWorkingDay);
        assert_eq!(schedule.calendar, "vn");
        assert_eq!((schedule.starts_on, schedule.ends_on), (None, None));
        assert_eq!(
            schedule.due,
            DueRule::AfterPeriodEnd {
                days: 5,
                working_days: false
            }
        );
        let schedule = parse(
            r#"{"period_type":"event","cutoff":"calendar","shift":"none",
                "due":{"rule":"after_event","days":3,"working_days":true}}"#,
        )
        .unwrap();
        assert_eq!(schedule.shift, Shift::None);
        assert_eq!(schedule.validate(), Ok(()));
        let schedule = parse(
            r#"{"period_type":"quarterly","cutoff":"decree_09","shift":"previous_working_day",
                "due":{"rule":"after_period_end","days":0}}"#,
        )
        .unwrap();
        assert_eq!(schedule.cutoff, Cutoff::Decree09);
        assert_eq!(schedule.shift, Shift::PreviousWorkingDay);
    }

    #[test]
    fn serde_rejects() {
        let bad = [
            // phrase is required
            r#"{"period_type":"yearly","due":{"rule":"fixed_date","month":12,"day":1}}"#,
            r#"{"period_type":"yearly","due":{"rule":"fixed_date","month":12,"day":1,"phrase":"by"}}"#,
            r#"{"period_type":"yearly","due":{"rule":"weekly_on","day":1}}"#,
            r#"{"period_type":"yearly","due":{"rule":"after_period_end","days":1,"extra":1}}"#,
            r#"{"period_type":"yearly","due":{"rule":"after_period_end","days":1},"grace":"P1D"}"#,
            r#"{"period_type":"daily","due":{"rule":"after_period_end","days":1}}"#,
            r#"{"period_type":"monthly","cutoff":"decree09","due":{"rule":"after_period_end","days":1}}"#,
            r#"{"period_type":"monthly","due":{"rule":"after_period_end","days":-1}}"#,
            r#"{"period_type":"once","due":{"rule":"date","date":"2025-02-30","phrase":"before"}}"#,
            r#"{"period_type":"monthly"}"#,
        ];
        for json in bad {
            assert!(parse(json).is_err(), "{json}");
        }
    }

    #[test]
    fn validation_pointers() {
        let base = parse(HANOI).unwrap();
        let with_due = |due: DueRule| Schedule {
            due,
            ..base.clone()
        };
        let fixed = |month, day| {
            with_due(DueRule::FixedDate {
                month,
                day,
                phrase: Phrase::NoLaterThan,
            })
        };
        assert_eq!(pointers(&fixed(2, 31)), ["/due/day"]);
        assert_eq!(pointers(&fixed(2, 29)), ["/due/day"]);
        assert_eq!(pointers(&fixed(4, 31)), ["/due/day"]);
        assert_eq!(pointers(&fixed(1, 0)), ["/due/day"]);
        assert_eq!(pointers(&fixed(13, 1)), ["/due/month"]);
        assert_eq!(pointers(&fixed(0, 1)), ["/due/month"]);
        assert_eq!(pointers(&fixed(2, 28)), Vec::<String>::new());
        assert_eq!(pointers(&fixed(12, 31)), Vec::<String>::new());

        let after = |days, working_days| DueRule::AfterPeriodEnd { days, working_days };
        assert_eq!(pointers(&with_due(after(367, false))), ["/due/days"]);
        assert_eq!(pointers(&with_due(after(0, true))), ["/due/days"]);
        assert_eq!(pointers(&with_due(after(0, false))), Vec::<String>::new());

        let inverted = Schedule {
            starts_on: Some(date("2026-01-01")),
            ..base.clone()
        };
        assert_eq!(pointers(&inverted), ["/ends_on"]);
        let no_calendar = Schedule {
            calendar: " ".to_owned(),
            ..base.clone()
        };
        assert_eq!(pointers(&no_calendar), ["/calendar"]);
    }

    #[test]
    fn rules_by_period_type() {
        use PeriodType::*;
        let fixed = DueRule::FixedDate {
            month: 1,
            day: 15,
            phrase: Phrase::Before,
        };
        let after = DueRule::AfterPeriodEnd {
            days: 10,
            working_days: false,
        };
        let date_rule = DueRule::Date {
            date: date("2025-03-01"),
            phrase: Phrase::Before,
        };
        let event = DueRule::AfterEvent {
            days: 5,
            working_days: true,
        };
        let table = [
            (Yearly, [true, true, false, false]),
            (SixMonthly, [false, true, false, false]),
            (Quarterly, [false, true, false, false]),
            (Monthly, [false, true, false, false]),
            (Weekly, [false, true, false, false]),
            (Once, [false, false, true, false]),
            (Event, [false, false, false, true]),
        ];
        for (period_type, allowed) in table {
            for (rule, ok) in [&fixed, &after, &date_rule, &event]
                .into_iter()
                .zip(allowed)
            {
                let schedule = Schedule {
                    period_type,
                    cutoff: Cutoff::Calendar,
                    due: rule.clone(),
                    shift: Shift::default(),
                    starts_on: None,
                    ends_on: None,
                    calendar: "vn".to_owned(),
                };
                let expected: Vec<String> = if ok {
                    Vec::new()
                } else {
                    vec!["/due/rule".to_owned()]
                };
                assert_eq!(
                    pointers(&schedule),
                    expected,
                    "{period_type} {}",
                    rule.name()
                );
            }
        }
    }

    #[test]
    fn once_needs_a_date_and_no_decree_09() {
        let schedule = parse(
            r#"{"period_type":"once","cutoff":"decree_09","due":{"rule":"after_period_end","days":3}}"#,
        )
        .unwrap();
        let errors = schedule.validate().unwrap_err();
        assert_eq!(errors[0].pointer, "/due/rule");
        assert!(errors[0].message.contains("`date`"), "{}", errors[0]);
        assert_eq!(errors[1].pointer, "/cutoff");
    }
}
