//! When a deadline falls: its last day (a local date) and `due_at`, the instant it expires.

use chrono::{
    DateTime, Datelike, Days, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta,
    TimeZone, Utc,
};
use chrono_tz::Tz;

use super::calendar::Calendar;
use super::period::{data_window, Period, PeriodType, SUPPORTED_YEARS};
use super::schedule::{DueRule, Phrase, Schedule, Shift};
use super::FieldError;

/// Why a last day could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DueError {
    #[error("invalid schedule: {}", list(.0))]
    InvalidSchedule(Vec<FieldError>),
    #[error("period {period} is not a {expected} period")]
    PeriodMismatch {
        period: Period,
        expected: PeriodType,
    },
    #[error("an after_event rule needs the date the event ended")]
    MissingEventEnd,
    #[error("{0} is outside the supported years 1 to 9999")]
    OutOfRange(String),
}

fn list(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The last day (local date) on which a report for `period` is in time, per DESIGN.md §2.
///
/// `event_end` is the date the event ended, needed only by `after_event`. Counting rules start
/// the day after the window ends (Civil Code art. 147); when counting calendar days — and for
/// the date rules — a last day off work is moved by the schedule's [`Shift`] (art. 148). A count
/// of working days already ends on a working day and is never shifted.
pub fn last_day(
    schedule: &Schedule,
    period: &Period,
    calendar: &Calendar,
    event_end: Option<NaiveDate>,
) -> Result<NaiveDate, DueError> {
    schedule.validate().map_err(DueError::InvalidSchedule)?;
    if period.period_type() != schedule.period_type {
        return Err(mismatch(period, schedule.period_type));
    }
    let (day, counted_working_days) = match schedule.due {
        DueRule::FixedDate { month, day, phrase } => {
            let Period::Year(year) = *period else {
                return Err(mismatch(period, PeriodType::Yearly));
            };
            let date = NaiveDate::from_ymd_opt(year, month, day)
                .filter(|d| SUPPORTED_YEARS.contains(&d.year()))
                .ok_or_else(|| DueError::OutOfRange(period.to_string()))?;
            (worded(date, phrase)?, false)
        }
        DueRule::Date { date, phrase } => (worded(date, phrase)?, false),
        DueRule::AfterPeriodEnd { days, working_days } => {
            let (_, end) = data_window(period, schedule.cutoff)
                .ok_or_else(|| DueError::OutOfRange(period.to_string()))?;
            (
                count(calendar, supported(end)?, days, working_days)?,
                working_days,
            )
        }
        DueRule::AfterEvent { days, working_days } => {
            let end = supported(event_end.ok_or(DueError::MissingEventEnd)?)?;
            (count(calendar, end, days, working_days)?, working_days)
        }
    };
    if counted_working_days || calendar.is_working_day(day) {
        return Ok(day);
    }
    Ok(match schedule.shift {
        Shift::NextWorkingDay => calendar.next_working_day(day),
        Shift::PreviousWorkingDay => calendar.previous_working_day(day),
        Shift::None => day,
    })
}

fn mismatch(period: &Period, expected: PeriodType) -> DueError {
    DueError::PeriodMismatch {
        period: *period,
        expected,
    }
}

/// Keeps every date the rules touch far from chrono's limits, so the calendar walks cannot fail.
fn supported(date: NaiveDate) -> Result<NaiveDate, DueError> {
    if SUPPORTED_YEARS.contains(&date.year()) {
        Ok(date)
    } else {
        Err(DueError::OutOfRange(date.to_string()))
    }
}

fn worded(date: NaiveDate, phrase: Phrase) -> Result<NaiveDate, DueError> {
    let date = supported(date)?;
    Ok(match phrase {
        Phrase::Before => date
            .pred_opt()
            .ok_or_else(|| DueError::OutOfRange(date.to_string()))?,
        Phrase::NoLaterThan => date,
    })
}

fn count(
    calendar: &Calendar,
    window_end: NaiveDate,
    days: u32,
    working_days: bool,
) -> Result<NaiveDate, DueError> {
    if working_days {
        return Ok(calendar.add_working_days(window_end, days));
    }
    window_end
        .checked_add_days(Days::new(days.into()))
        .ok_or_else(|| DueError::OutOfRange(window_end.to_string()))
}

/// The instant a deadline expires: 00:00 local time on the day after `last_day` (the last day
/// ends at 24:00), in UTC. A submission strictly before it is on time.
///
/// Where local midnight is skipped by a clock change (America/Santiago, America/Havana; Samoa
/// skipped a whole day in 2011) the day ends when the gap does, at the first instant after it;
/// where midnight happens twice, the first time counts.
///
/// # Panics
/// Only for `last_day` = chrono's last date.
pub fn due_at(last_day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let midnight = last_day
        .succ_opt()
        .expect("a day after the last day")
        .and_time(NaiveTime::MIN);
    first_instant_from(tz, midnight)
}

/// The first instant whose local time is `local` or later.
fn first_instant_from(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let instant = |t: NaiveDateTime| match tz.from_local_datetime(&t) {
        LocalResult::Single(dt) | LocalResult::Ambiguous(dt, _) => Some(dt.with_timezone(&Utc)),
        LocalResult::None => None,
    };
    if let Some(dt) = instant(local) {
        return dt;
    }
    // Gaps are whole minutes, but historical ones (leaving local mean time) can end on any
    // second: find the first minute that exists, then step back second by second.
    const LONGEST_GAP_MINUTES: i64 = 48 * 60;
    let Some(after_gap) = (1..=LONGEST_GAP_MINUTES)
        .map(|m| local + TimeDelta::minutes(m))
        .find(|t| instant(*t).is_some())
    else {
        // No zone has such a gap; read the clock with the offset in force at that moment.
        let offset = tz.offset_from_utc_datetime(&local);
        return Utc.from_utc_datetime(&(local - offset.fix()));
    };
    let first = (1..60)
        .map(|s| after_gap - TimeDelta::seconds(s))
        .take_while(|t| *t >= local && instant(*t).is_some())
        .last()
        .unwrap_or(after_gap);
    instant(first).unwrap_or_else(|| Utc.from_utc_datetime(&first))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::period::Cutoff;
    use crate::domain::test_support::{any_date, date, vn};
    use proptest::prelude::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn schedule(period_type: PeriodType, due: DueRule) -> Schedule {
        Schedule {
            period_type,
            cutoff: Cutoff::Calendar,
            due,
            shift: Shift::NextWorkingDay,
            starts_on: None,
            ends_on: None,
            calendar: "vn".to_owned(),
        }
    }

    fn hanoi() -> Schedule {
        serde_json::from_str(
            r#"{"period_type":"yearly","cutoff":"calendar","due":{"rule":"fixed_date","month":12,"day":1,"phrase":"before"},"shift":"next_working_day","starts_on":"2022-01-01","ends_on":"2025-12-31","calendar":"vn"}"#,
        )
        .unwrap()
    }

    #[test]
    fn worked_example_hanoi() {
        let calendar = vn();
        let table = [
            (2023, "2023-11-30", "2023-12-01T00:00:00+07:00"),
            (2024, "2024-12-02", "2024-12-03T00:00:00+07:00"),
            (2025, "2025-12-01", "2025-12-02T00:00:00+07:00"),
        ];
        for (year, last, due) in table {
            let got = last_day(&hanoi(), &Period::Year(year), &calendar, None).unwrap();
            assert_eq!(got, date(last), "{year}");
            let instant = due_at(got, chrono_tz::Asia::Ho_Chi_Minh);
            assert_eq!(instant, utc(due), "{year}");
            let local = instant.with_timezone(&chrono_tz::Asia::Ho_Chi_Minh);
            assert_eq!(local.to_rfc3339(), due);
        }
    }

    #[test]
    fn phrases_and_shifts() {
        let calendar = vn();
        let rule = |phrase| DueRule::FixedDate {
            month: 12,
            day: 1,
            phrase,
        };
        let with_shift = |phrase, shift| Schedule {
            shift,
            ..schedule(PeriodType::Yearly, rule(phrase))
        };
        let table = [
            // 2024-11-30 is a Saturday, 2024-12-01 a Sunday.
            (Phrase::Before, Shift::NextWorkingDay, 2024, "2024-12-02"),
            (
                Phrase::Before,
                Shift::PreviousWorkingDay,
                2024,
                "2024-11-29",
            ),
            (Phrase::Before, Shift::None, 2024, "2024-11-30"),
            (
                Phrase::NoLaterThan,
                Shift::NextWorkingDay,
                2024,
                "2024-12-02",
            ),
            (
                Phrase::NoLaterThan,
                Shift::PreviousWorkingDay,
                2024,
                "2024-11-29",
            ),
            (Phrase::NoLaterThan, Shift::None, 2024, "2024-12-01"),
            (
                Phrase::NoLaterThan,
                Shift::NextWorkingDay,
                2023,
                "2023-12-01",
            ),
        ];
        for (phrase, shift, year, expected) in table {
            let got = last_day(
                &with_shift(phrase, shift),
                &Period::Year(year),
                &calendar,
                None,
            );
            assert_eq!(got, Ok(date(expected)), "{phrase:?} {shift:?} {year}");
        }
    }

    #[test]
    fn after_period_end_table() {
        let calendar = vn();
        let after = |days, working_days| DueRule::AfterPeriodEnd { days, working_days };
        let table = [
            // January 2025 ends on Friday 31/1, a Tết day; 5 working days land after Tết.
            (
                PeriodType::Monthly,
                Cutoff::Calendar,
                Period::Month(2025, 1),
                after(5, true),
                "2025-02-07",
            ),
            // 5 calendar days: Wed 5/2, a working day.
            (
                PeriodType::Monthly,
                Cutoff::Calendar,
                Period::Month(2025, 1),
                after(5, false),
                "2025-02-05",
            ),
            // December 2024 + 25 days = Sat 25/1/2025, start of Tết: next working day Mon 3/2.
            (
                PeriodType::Monthly,
                Cutoff::Calendar,
                Period::Month(2024, 12),
                after(25, false),
                "2025-02-03",
            ),
            // Decree 09 January 2025 ends Tue 14/1; 10 working days: 15..24/1 (8), then 3/2, 4/2.
            (
                PeriodType::Monthly,
                Cutoff::Decree09,
                Period::Month(2025, 1),
                after(10, true),
                "2025-02-04",
            ),
            // Q1 2025 by Decree 09 ends 14/3; 30 days = Sun 13/4 → Mon 14/4.
            (
                PeriodType::Quarterly,
                Cutoff::Decree09,
                Period::Quarter(2025, 1),
                after(30, false),
                "2025-04-14",
            ),
            // Week 16 of 2025 ends Sun 20/4: 6 working days end on the worked Saturday 26/4.
            (
                PeriodType::Weekly,
                Cutoff::Calendar,
                Period::Week(2025, 16),
                after(6, true),
                "2025-04-26",
            ),
            // The same count by calendar days lands on that Saturday too, which is a working day.
            (
                PeriodType::Weekly,
                Cutoff::Calendar,
                Period::Week(2025, 16),
                after(6, false),
                "2025-04-26",
            ),
            // First half of 2024 + 0 days: Sun 30/6 → Mon 1/7.
            (
                PeriodType::SixMonthly,
                Cutoff::Calendar,
                Period::SixMonth(2024, 1),
                after(0, false),
                "2024-07-01",
            ),
            // Year 2024 by Decree 09 ends Sat 14/12; 15 working days.
            (
                PeriodType::Yearly,
                Cutoff::Decree09,
                Period::Year(2024),
                after(15, true),
                "2025-01-06",
            ),
        ];
        for (period_type, cutoff, period, due, expected) in table {
            let schedule = Schedule {
                cutoff,
                ..schedule(period_type, due)
            };
            let got = last_day(&schedule, &period, &calendar, None);
            assert_eq!(got, Ok(date(expected)), "{period} {cutoff:?}");
        }
    }

    #[test]
    fn once_and_events() {
        let calendar = vn();
        let once = |date_str, phrase| {
            schedule(
                PeriodType::Once,
                DueRule::Date {
                    date: date(date_str),
                    phrase,
                },
            )
        };
        // "trước ngày 03/02/2025": Sun 2/2 → Mon 3/2.
        let got = last_day(
            &once("2025-02-03", Phrase::Before),
            &Period::Once,
            &calendar,
            None,
        );
        assert_eq!(got, Ok(date("2025-02-03")));
        let got = last_day(
            &once("2025-03-14", Phrase::NoLaterThan),
            &Period::Once,
            &calendar,
            None,
        );
        assert_eq!(got, Ok(date("2025-03-14")));

        let event = schedule(
            PeriodType::Event,
            DueRule::AfterEvent {
                days: 3,
                working_days: true,
            },
        );
        let got = last_day(
            &event,
            &Period::Event(7),
            &calendar,
            Some(date("2025-04-24")),
        );
        assert_eq!(got, Ok(date("2025-04-28")));
        assert_eq!(
            last_day(&event, &Period::Event(7), &calendar, None),
            Err(DueError::MissingEventEnd)
        );
        let calendar_days = schedule(
            PeriodType::Event,
            DueRule::AfterEvent {
                days: 7,
                working_days: false,
            },
        );
        // Campaign ending 23/4/2025 + 7 = Wed 30/4 (holiday) → Mon 5/5.
        let got = last_day(
            &calendar_days,
            &Period::Event(7),
            &calendar,
            Some(date("2025-04-23")),
        );
        assert_eq!(got, Ok(date("2025-05-05")));
    }

    #[test]
    fn errors() {
        let calendar = vn();
        assert!(matches!(
            last_day(&hanoi(), &Period::Month(2024, 1), &calendar, None),
            Err(DueError::PeriodMismatch { .. })
        ));
        let mut invalid = hanoi();
        invalid.due = DueRule::FixedDate {
            month: 2,
            day: 30,
            phrase: Phrase::Before,
        };
        assert!(matches!(
            last_day(&invalid, &Period::Year(2024), &calendar, None),
            Err(DueError::InvalidSchedule(_))
        ));
        assert!(matches!(
            last_day(&hanoi(), &Period::Year(10_000), &calendar, None),
            Err(DueError::OutOfRange(_))
        ));
        let monthly = schedule(
            PeriodType::Monthly,
            DueRule::AfterPeriodEnd {
                days: 1,
                working_days: false,
            },
        );
        assert!(matches!(
            last_day(&monthly, &Period::Month(2024, 13), &calendar, None),
            Err(DueError::OutOfRange(_))
        ));
    }

    #[test]
    fn due_at_across_new_york_dst() {
        let tz = chrono_tz::America::New_York;
        let table = [
            // Spring forward at 02:00 on Sunday 10 March 2024: midnight itself exists.
            ("2024-03-08", "2024-03-09T05:00:00Z"),
            ("2024-03-09", "2024-03-10T05:00:00Z"),
            ("2024-03-10", "2024-03-11T04:00:00Z"),
            // Fall back at 02:00 on Sunday 3 November 2024.
            ("2024-11-02", "2024-11-03T04:00:00Z"),
            ("2024-11-03", "2024-11-04T05:00:00Z"),
        ];
        for (last, due) in table {
            assert_eq!(due_at(date(last), tz), utc(due), "{last}");
        }
    }

    #[test]
    fn due_at_when_midnight_is_skipped_or_repeated() {
        let table = [
            // Santiago springs forward from 00:00 to 01:00 on Sunday 8 September 2024.
            (
                chrono_tz::America::Santiago,
                "2024-09-07",
                "2024-09-08T04:00:00Z",
            ),
            // Santiago falls back at 00:00 → 23:00 on 7 April 2024: the later midnight is the only one.
            (
                chrono_tz::America::Santiago,
                "2024-04-06",
                "2024-04-07T04:00:00Z",
            ),
            // Havana springs forward from 00:00 to 01:00 on 10 March 2024.
            (
                chrono_tz::America::Havana,
                "2024-03-09",
                "2024-03-10T05:00:00Z",
            ),
            // Havana falls back from 01:00 to 00:00 on 3 November 2024: midnight happens twice.
            (
                chrono_tz::America::Havana,
                "2024-11-02",
                "2024-11-03T04:00:00Z",
            ),
            // Samoa skipped Friday 30 December 2011 altogether.
            (
                chrono_tz::Pacific::Apia,
                "2011-12-29",
                "2011-12-30T10:00:00Z",
            ),
        ];
        for (tz, last, due) in table {
            assert_eq!(due_at(date(last), tz), utc(due), "{tz} {last}");
        }
    }

    fn zone() -> impl Strategy<Value = Tz> {
        prop_oneof![
            Just(chrono_tz::Asia::Ho_Chi_Minh),
            Just(chrono_tz::America::New_York),
            Just(chrono_tz::Europe::London),
            Just(chrono_tz::Australia::Lord_Howe),
            Just(chrono_tz::America::Santiago),
            Just(chrono_tz::America::Havana),
            Just(chrono_tz::Asia::Tehran),
            Just(chrono_tz::Africa::Cairo),
            Just(chrono_tz::Pacific::Apia),
        ]
    }

    fn counted_rule() -> impl Strategy<Value = (Schedule, Period)> {
        let periodic = prop_oneof![
            Just(PeriodType::Yearly),
            Just(PeriodType::SixMonthly),
            Just(PeriodType::Quarterly),
            Just(PeriodType::Monthly),
            Just(PeriodType::Weekly),
        ];
        let cutoff = prop_oneof![Just(Cutoff::Calendar), Just(Cutoff::Decree09)];
        let shift = prop_oneof![
            Just(Shift::NextWorkingDay),
            Just(Shift::PreviousWorkingDay),
            Just(Shift::None)
        ];
        (
            periodic,
            cutoff,
            shift,
            any_date(),
            0u32..=MAX_TEST_DAYS,
            any::<bool>(),
        )
            .prop_map(|(period_type, cutoff, shift, day, days, working_days)| {
                let days = if working_days { days.max(1) } else { days };
                let schedule = Schedule {
                    cutoff,
                    shift,
                    ..schedule(period_type, DueRule::AfterPeriodEnd { days, working_days })
                };
                (schedule, Period::containing(period_type, day).unwrap())
            })
    }

    const MAX_TEST_DAYS: u32 = 60;

    /// The local day after `day` starts at `due_at(day)`: at midnight when midnight exists, else
    /// as the gap ends.
    fn check_start_of_next_day(day: NaiveDate, tz: Tz) -> Result<(), TestCaseError> {
        let due = due_at(day, tz);
        let local = due.with_timezone(&tz);
        let just_before = (due - TimeDelta::seconds(1)).with_timezone(&tz);
        prop_assert!(local.date_naive() > day, "{} {}: {}", tz, day, local);
        prop_assert!(just_before.date_naive() <= day, "{} {}: {}", tz, day, local);
        let next_day = day.succ_opt().unwrap();
        let midnight_exists = tz
            .from_local_datetime(&next_day.and_time(NaiveTime::MIN))
            .earliest()
            .is_some();
        if midnight_exists {
            prop_assert_eq!(local.date_naive(), next_day);
            prop_assert_eq!(local.time(), NaiveTime::MIN);
        }
        Ok(())
    }

    /// Random days rarely hit a clock change, so sweep every day of the zones that move their
    /// clocks at midnight.
    #[test]
    fn due_at_on_every_day_in_midnight_dst_zones() {
        let zones = [
            chrono_tz::America::Santiago,
            chrono_tz::America::Havana,
            chrono_tz::Asia::Tehran,
            chrono_tz::Africa::Cairo,
            chrono_tz::Pacific::Apia,
            chrono_tz::America::New_York,
        ];
        let (first, last) = (date("2005-01-01"), date("2030-12-31"));
        let mut gaps = 0;
        for tz in zones {
            for day in first.iter_days().take_while(|d| *d <= last) {
                check_start_of_next_day(day, tz).unwrap();
                if due_at(day, tz).with_timezone(&tz).time() != NaiveTime::MIN {
                    gaps += 1;
                }
            }
        }
        // Santiago, Havana, Tehran and Cairo skip midnight most springs.
        assert!(gaps > 40, "only {gaps} skipped midnights");
    }

    proptest! {
        #[test]
        fn due_at_is_the_start_of_the_next_local_day(day in any_date(), tz in zone()) {
            check_start_of_next_day(day, tz)?;
        }

        #[test]
        fn counted_rules_land_where_they_should((schedule, period) in counted_rule()) {
            let calendar = vn();
            let got = last_day(&schedule, &period, &calendar, None).unwrap();
            let DueRule::AfterPeriodEnd { days, working_days } = schedule.due else { unreachable!() };
            let (_, end) = data_window(&period, schedule.cutoff).unwrap();
            if working_days {
                prop_assert!(calendar.is_working_day(got), "{} lands on {}", period, got);
                let counted = end.iter_days().skip(1).take_while(|d| *d <= got)
                    .filter(|d| calendar.is_working_day(*d)).count();
                prop_assert_eq!(counted, days as usize);
                return Ok(());
            }
            let plain = end + Days::new(days.into());
            match schedule.shift {
                Shift::None => prop_assert_eq!(got, plain),
                Shift::NextWorkingDay => {
                    prop_assert!(got >= plain && calendar.is_working_day(got));
                }
                Shift::PreviousWorkingDay => {
                    prop_assert!(got <= plain && calendar.is_working_day(got));
                }
            }
        }

        #[test]
        fn next_working_day_never_moves_a_fixed_date_earlier(
            year in 2000i32..2040, month in 1u32..=12, day in 1u32..=28,
            before in any::<bool>(),
        ) {
            let calendar = vn();
            let phrase = if before { Phrase::Before } else { Phrase::NoLaterThan };
            let due = DueRule::FixedDate { month, day, phrase };
            let next = schedule(PeriodType::Yearly, due.clone());
            let none = Schedule { shift: Shift::None, ..next.clone() };
            let shifted = last_day(&next, &Period::Year(year), &calendar, None).unwrap();
            let plain = last_day(&none, &Period::Year(year), &calendar, None).unwrap();
            prop_assert!(shifted >= plain);
            prop_assert!(calendar.is_working_day(shifted));
            prop_assert!(plain.iter_days().take_while(|d| *d < shifted)
                .all(|d| !calendar.is_working_day(d)));
        }
    }
}
