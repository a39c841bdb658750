//! When to write to a unit: the moment of each reminder and escalation step, and which one is due now.
//!
//! DESIGN.md §3: a reminder goes out at the start of office hours on the local date of `due_at − offset`, moved
//! back to the previous working day; an escalation step at `due_at + grace + after`, moved forward into office
//! hours on a working day. After downtime only the latest due one is sent, never a burst.

use chrono::{DateTime, Days, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::calendar::Calendar;

/// An ISO 8601 duration as the obligations store it (`P14D`, `P1M`, `PT12H`), split into its calendar part
/// (months, days: they follow the local calendar) and its clock part (seconds).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Offset {
    pub months: u32,
    pub days: u32,
    pub seconds: u32,
}

impl Offset {
    /// Parses `P1Y2M10DT2H30M`, `P3W`; refuses fractions of a second and negative or absurd values.
    pub fn parse(text: &str) -> Option<Self> {
        let d: iso8601_duration::Duration = text.parse().ok()?;
        let whole = |v: f32| (v >= 0.0 && v.fract() == 0.0 && v <= 100_000.0).then_some(v as u32);
        let months = whole(d.year)? * 12 + whole(d.month)?;
        let days = whole(d.day)?;
        let seconds = whole(d.hour)? * 3600 + whole(d.minute)? * 60 + whole(d.second)?;
        (months <= 120 && days <= 3660).then_some(Self {
            months,
            days,
            seconds,
        })
    }

    /// `instant − self`, the calendar part counted in local dates of `tz`.
    pub fn before(self, instant: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
        let local = instant.with_timezone(&tz).naive_local();
        let shifted = local
            .checked_sub_months(Months::new(self.months))
            .and_then(|t| t.checked_sub_days(Days::new(self.days.into())))
            .unwrap_or(local)
            - chrono::Duration::seconds(self.seconds.into());
        resolve(tz, shifted)
    }

    /// `instant + self`, the calendar part counted in local dates of `tz`.
    pub fn after(self, instant: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
        let local = instant.with_timezone(&tz).naive_local();
        let shifted = local
            .checked_add_months(Months::new(self.months))
            .and_then(|t| t.checked_add_days(Days::new(self.days.into())))
            .unwrap_or(local)
            + chrono::Duration::seconds(self.seconds.into());
        resolve(tz, shifted)
    }
}

/// A local wall-clock time as an instant: the earlier of an ambiguous pair, the end of a gap.
fn resolve(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
        chrono::LocalResult::Ambiguous(a, _) => a.with_timezone(&Utc),
        chrono::LocalResult::None => {
            // Step forward minute by minute out of the gap (gaps last an hour, rarely a day).
            let mut probe = local;
            for _ in 0..(26 * 60) {
                probe += chrono::Duration::minutes(1);
                if let Some(t) = tz.from_local_datetime(&probe).earliest() {
                    return t.with_timezone(&Utc);
                }
            }
            Utc.from_utc_datetime(&local)
        }
    }
}

/// The office day: when mail may go out, in the unit's local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfficeHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl OfficeHours {
    fn at_start(&self, date: NaiveDate, tz: Tz) -> DateTime<Utc> {
        resolve(tz, date.and_time(self.start))
    }
}

/// The moment of the reminder `offset` before `due_at`: office start on the local date of `due_at − offset`,
/// moved back to the previous working day when that date is a day off.
pub fn reminder_moment(
    due_at: DateTime<Utc>,
    offset: Offset,
    tz: Tz,
    hours: OfficeHours,
    calendar: &Calendar,
) -> DateTime<Utc> {
    let date = offset.before(due_at, tz).with_timezone(&tz).date_naive();
    hours.at_start(calendar.previous_working_day(date), tz)
}

/// The first moment at or after `instant` inside office hours on a working day.
pub fn next_office_moment(
    instant: DateTime<Utc>,
    tz: Tz,
    hours: OfficeHours,
    calendar: &Calendar,
) -> DateTime<Utc> {
    let local = instant.with_timezone(&tz);
    let date = local.date_naive();
    let time = local.time();
    if calendar.is_working_day(date) && time >= hours.start && time < hours.end {
        return instant;
    }
    let day = if calendar.is_working_day(date) && time < hours.start {
        date
    } else {
        calendar.next_working_day(date.succ_opt().unwrap_or(date))
    };
    hours.at_start(day, tz)
}

/// The moment of an escalation step: `due_at + grace + after`, moved into office hours on a working day.
pub fn escalation_moment(
    due_at: DateTime<Utc>,
    grace: Offset,
    after: Offset,
    tz: Tz,
    hours: OfficeHours,
    calendar: &Calendar,
) -> DateTime<Utc> {
    next_office_moment(
        after.after(grace.after(due_at, tz), tz),
        tz,
        hours,
        calendar,
    )
}

/// Of the reminders of an open deadline, the one to send at `now`: the latest whose moment has come and is still
/// before `due_at` (after downtime only that one, never a burst). `offsets` in any order; returns its index.
pub fn due_reminder(
    due_at: DateTime<Utc>,
    offsets: &[Offset],
    now: DateTime<Utc>,
    tz: Tz,
    hours: OfficeHours,
    calendar: &Calendar,
) -> Option<usize> {
    offsets
        .iter()
        .enumerate()
        .map(|(i, o)| (reminder_moment(due_at, *o, tz, hours, calendar), i))
        .filter(|(moment, _)| *moment <= now && *moment < due_at && now < due_at)
        .max()
        .map(|(_, i)| i)
}

/// Of the escalation steps of an overdue deadline, the one to send at `now`: the latest whose moment has come.
pub fn due_escalation(
    due_at: DateTime<Utc>,
    grace: Offset,
    steps: &[Offset],
    now: DateTime<Utc>,
    tz: Tz,
    hours: OfficeHours,
    calendar: &Calendar,
) -> Option<usize> {
    steps
        .iter()
        .enumerate()
        .map(|(i, after)| {
            (
                escalation_moment(due_at, grace, *after, tz, hours, calendar),
                i,
            )
        })
        .filter(|(moment, _)| *moment <= now)
        .max()
        .map(|(_, i)| i)
}

/// The next moment after `after` at which a deadline may need a notice: a reminder still to come before
/// `due_at`, or an escalation step still to come. `None` when nothing is left to send.
#[allow(clippy::too_many_arguments)]
pub fn next_notice(
    due_at: DateTime<Utc>,
    reminders: &[Offset],
    grace: Offset,
    steps: &[Offset],
    after: DateTime<Utc>,
    tz: Tz,
    hours: OfficeHours,
    calendar: &Calendar,
) -> Option<DateTime<Utc>> {
    let reminders = reminders
        .iter()
        .map(|o| reminder_moment(due_at, *o, tz, hours, calendar))
        .filter(|m| *m > after && *m < due_at);
    let escalations = steps
        .iter()
        .map(|s| escalation_moment(due_at, grace, *s, tz, hours, calendar))
        .filter(|m| *m > after);
    reminders.chain(escalations).min()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::test_support::{date, vn};

    const HCM: Tz = chrono_tz::Asia::Ho_Chi_Minh;

    fn hours() -> OfficeHours {
        OfficeHours {
            start: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn o(s: &str) -> Offset {
        Offset::parse(s).unwrap()
    }

    #[test]
    fn offsets_parse_iso_durations() {
        assert_eq!(
            o("P14D"),
            Offset {
                months: 0,
                days: 14,
                seconds: 0
            }
        );
        assert_eq!(
            o("P1M"),
            Offset {
                months: 1,
                days: 0,
                seconds: 0
            }
        );
        assert_eq!(
            o("PT12H"),
            Offset {
                months: 0,
                days: 0,
                seconds: 43_200
            }
        );
        assert_eq!(
            o("P0D"),
            Offset {
                months: 0,
                days: 0,
                seconds: 0
            }
        );
        for bad in ["14D", "P-1D", "PT0.5S", "P9999Y", "tomorrow"] {
            assert_eq!(Offset::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn reminders_of_the_2024_hanoi_deadline() {
        // due 2024-12-03T00:00+07:00 (last day Mon 2/12).
        let due = at("2024-12-03T00:00:00+07:00");
        let moment = |offset: &str| {
            reminder_moment(due, o(offset), HCM, hours(), &vn())
                .with_timezone(&HCM)
                .to_rfc3339()
        };
        // P1D: Mon 2/12 08:00. P3D: Sat 30/11 → Fri 29/11 08:00. P14D: Tue 19/11 08:00.
        assert_eq!(moment("P1D"), "2024-12-02T08:00:00+07:00");
        assert_eq!(moment("P3D"), "2024-11-29T08:00:00+07:00");
        assert_eq!(moment("P14D"), "2024-11-19T08:00:00+07:00");
        // Before Tết 2025: P3D of a deadline due Tue 4/2/2025 falls on Sat 1/2 → back past the Tết holidays
        // (27–31/1) and the weekend to Fri 24/1.
        let tet = at("2025-02-04T00:00:00+07:00");
        assert_eq!(
            reminder_moment(tet, o("P3D"), HCM, hours(), &vn()).to_rfc3339(),
            at("2025-01-24T08:00:00+07:00").to_rfc3339()
        );
    }

    #[test]
    fn only_the_latest_due_reminder_is_sent() {
        let due = at("2024-12-03T00:00:00+07:00");
        let offsets = [o("P14D"), o("P3D"), o("P1D")];
        let pick = |now: &str| due_reminder(due, &offsets, at(now), HCM, hours(), &vn());
        assert_eq!(
            pick("2024-11-19T07:59:00+07:00"),
            None,
            "nothing before 08:00"
        );
        assert_eq!(pick("2024-11-19T08:00:00+07:00"), Some(0));
        assert_eq!(pick("2024-11-29T09:00:00+07:00"), Some(1));
        // Down from 18/11 to 2/12 10:00: only P1D, not three at once.
        assert_eq!(pick("2024-12-02T10:00:00+07:00"), Some(2));
        assert_eq!(
            pick("2024-12-03T00:00:00+07:00"),
            None,
            "no reminder once it is due"
        );
    }

    #[test]
    fn escalations_wait_for_office_hours_on_working_days() {
        let due = at("2024-12-03T00:00:00+07:00"); // Tue 00:00
        let steps = [o("P0D"), o("P3D"), o("P7D")];
        let moment = |i: usize| {
            escalation_moment(due, o("P0D"), steps[i], HCM, hours(), &vn())
                .with_timezone(&HCM)
                .to_rfc3339()
        };
        assert_eq!(
            moment(0),
            "2024-12-03T08:00:00+07:00",
            "P0D: Tuesday at office start"
        );
        assert_eq!(
            moment(1),
            "2024-12-06T08:00:00+07:00",
            "P3D: Friday 00:00 → 08:00"
        );
        assert_eq!(moment(2), "2024-12-10T08:00:00+07:00", "P7D: Tuesday 10/12");
        let grace = escalation_moment(due, o("P2D"), steps[1], HCM, hours(), &vn())
            .with_timezone(&HCM)
            .to_rfc3339();
        assert_eq!(
            grace, "2024-12-09T08:00:00+07:00",
            "grace P2D + P3D: Sunday 8/12 → Monday"
        );
        let pick = |now: &str| due_escalation(due, o("P0D"), &steps, at(now), HCM, hours(), &vn());
        assert_eq!(pick("2024-12-03T07:00:00+07:00"), None);
        assert_eq!(pick("2024-12-03T08:00:00+07:00"), Some(0));
        assert_eq!(
            pick("2024-12-11T08:00:00+07:00"),
            Some(2),
            "after downtime only the latest step"
        );
    }

    #[test]
    fn the_next_notice_walks_through_reminders_then_escalations() {
        let due = at("2024-12-03T00:00:00+07:00");
        let reminders = [o("P14D"), o("P3D"), o("P1D")];
        let steps = [o("P0D"), o("P3D")];
        let next = |after: &str| {
            next_notice(
                due,
                &reminders,
                o("P0D"),
                &steps,
                at(after),
                HCM,
                hours(),
                &vn(),
            )
            .map(|t| t.with_timezone(&HCM).to_rfc3339())
        };
        assert_eq!(
            next("2024-11-01T00:00:00+07:00").as_deref(),
            Some("2024-11-19T08:00:00+07:00")
        );
        assert_eq!(
            next("2024-11-19T08:00:00+07:00").as_deref(),
            Some("2024-11-29T08:00:00+07:00")
        );
        assert_eq!(
            next("2024-12-02T08:00:00+07:00").as_deref(),
            Some("2024-12-03T08:00:00+07:00")
        );
        assert_eq!(
            next("2024-12-06T08:00:00+07:00"),
            None,
            "nothing after the last step"
        );
    }

    #[test]
    fn evening_moments_move_to_the_next_working_morning() {
        let friday_evening = at("2024-12-06T18:30:00+07:00");
        assert_eq!(
            next_office_moment(friday_evening, HCM, hours(), &vn())
                .with_timezone(&HCM)
                .to_rfc3339(),
            "2024-12-09T08:00:00+07:00"
        );
        let inside = at("2024-12-06T10:00:00+07:00");
        assert_eq!(next_office_moment(inside, HCM, hours(), &vn()), inside);
    }

    proptest! {
        /// A reminder goes out at office start on a working day, before the deadline's last day ends. (A zero
        /// offset would fall on the morning after: obligations refuse it.)
        #[test]
        fn reminders_are_office_mornings_on_working_days(day in 0u64..3000, offset in 1u32..30) {
            let last_day = date("2023-01-01") + Days::new(day);
            let due = crate::domain::due_at(last_day, HCM);
            let moment = reminder_moment(due, Offset { months: 0, days: offset, seconds: 0 }, HCM, hours(), &vn());
            let local = moment.with_timezone(&HCM);
            prop_assert_eq!(local.time(), hours().start);
            prop_assert!(vn().is_working_day(local.date_naive()));
            prop_assert!(moment <= due);
        }

        /// An escalation is never before its nominal moment, and lands in office hours on a working day.
        #[test]
        fn escalations_are_never_early(day in 0u64..3000, after in 0u32..20, hour in 0u32..24) {
            let due = crate::domain::due_at(date("2023-01-01") + Days::new(day), HCM);
            let nominal = due + chrono::Duration::days(after.into()) + chrono::Duration::hours(hour.into());
            let moment = next_office_moment(nominal, HCM, hours(), &vn());
            let local = moment.with_timezone(&HCM);
            prop_assert!(moment >= nominal);
            prop_assert!(vn().is_working_day(local.date_naive()));
            prop_assert!(local.time() >= hours().start && local.time() < hours().end);
        }
    }
}
