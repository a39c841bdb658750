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

impl std::fmt::Display for Offset {
    /// The ISO 8601 text: `P3D`, `PT36H`, `P1M2DT30M`, `P0D`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("P")?;
        if self.months > 0 {
            write!(f, "{}M", self.months)?;
        }
        if self.days > 0 || (self.months == 0 && self.seconds == 0) {
            write!(f, "{}D", self.days)?;
        }
        if self.seconds > 0 {
            let (h, m, s) = (
                self.seconds / 3600,
                self.seconds / 60 % 60,
                self.seconds % 60,
            );
            f.write_str("T")?;
            for (value, unit) in [(h, 'H'), (m, 'M'), (s, 'S')] {
                if value > 0 {
                    write!(f, "{value}{unit}")?;
                }
            }
        }
        Ok(())
    }
}

impl Offset {
    /// The length of an offset without months, days counted as 24 hours; `None` with months (they vary).
    pub fn fixed_duration(self) -> Option<chrono::Duration> {
        (self.months == 0).then(|| {
            chrono::Duration::days(self.days.into())
                + chrono::Duration::seconds(self.seconds.into())
        })
    }

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

/// An instant no notice of a deadline can come before, whatever the unit's zone and office hours: stored as a
/// new deadline's first `next_notice_at`, so the tick reads it only when its first reminder is near (a national
/// plan makes a million deadlines at once; reading each on the next tick would be a wasted pass).
pub fn earliest_notice(
    due_at: DateTime<Utc>,
    reminders: &[Offset],
    calendar: &Calendar,
) -> DateTime<Utc> {
    // Zones lie within ±14 h of UTC, so a local date is at most a day from the UTC date; a month subtracted from
    // neighbouring dates lands at most a day further apart. Three days cover both, then back to a working day.
    let slack = Days::new(3);
    let day_before = |t: DateTime<Utc>| t - chrono::Duration::days(1);
    reminders
        .iter()
        .map(|o| {
            let date = o.before(due_at, Tz::UTC).date_naive() - slack;
            let day = calendar.previous_working_day(date);
            day_before(Utc.from_utc_datetime(&day.and_time(NaiveTime::MIN)))
        })
        .chain(std::iter::once(day_before(due_at)))
        .min()
        .unwrap_or(due_at)
}

/// When digests go out: a cron pattern (`0 8 * * MON`) read in each recipient unit's own time zone.
#[derive(Debug, Clone)]
pub struct DigestCron {
    cron: croner::Cron,
    pattern: String,
}

impl DigestCron {
    /// Parses a 5-field (minute hour day month weekday) or 6-field (with seconds first) cron pattern.
    pub fn parse(pattern: &str) -> Result<Self, String> {
        let cron: croner::Cron = pattern.parse().map_err(|e| format!("`{pattern}`: {e}"))?;
        // A pattern that never fires (31 February) would only be noticed when nothing arrives.
        let probe = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
        cron.find_next_occurrence(&probe, true)
            .map_err(|e| format!("`{pattern}` never fires: {e}"))?;
        Ok(Self {
            cron,
            pattern: pattern.trim().to_owned(),
        })
    }

    /// The pattern as configured.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// The latest slot at or before `now`, read in `tz`.
    pub fn latest(&self, now: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        self.cron
            .find_previous_occurrence(&now.with_timezone(&tz), true)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    /// The slot before `slot`, read in `tz`.
    pub fn previous(&self, slot: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        self.cron
            .find_previous_occurrence(&slot.with_timezone(&tz), false)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }
}

/// Everything periodic mail needs to know about the clock: office hours, the digest slots, and how stale a
/// notice may be when it is finally sent after downtime.
#[derive(Debug, Clone)]
pub struct Timing {
    pub hours: OfficeHours,
    pub digest: DigestCron,
    /// An escalation step whose moment is older than this at the tick (downtime, or a deadline reopened late)
    /// is not sent: a "3 days late" email a fortnight late misinforms. The next step still comes.
    pub max_catch_up: Offset,
    /// Whom to remind, once a year from 1 November, that next year's holidays are missing from a calendar, and
    /// to tell, once a day, which emails failed for good.
    pub admins: Vec<String>,
    /// The installation's own zone (`time_zone`): when the operators' day starts.
    pub zone: Tz,
}

/// Whether a notice whose moment was `moment` may still go out at `now` (see [`Timing::max_catch_up`]).
pub fn still_timely(
    moment: DateTime<Utc>,
    now: DateTime<Utc>,
    max_catch_up: Offset,
    tz: Tz,
) -> bool {
    moment >= max_catch_up.before(now, tz)
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
    fn catch_up_sends_nothing_older_than_the_limit() {
        let three_days = o("P3D");
        let now = at("2030-12-20T08:00:00+07:00");
        assert!(still_timely(
            at("2030-12-17T08:00:00+07:00"),
            now,
            three_days,
            HCM
        ));
        assert!(!still_timely(
            at("2030-12-17T07:59:00+07:00"),
            now,
            three_days,
            HCM
        ));
        assert!(still_timely(now, now, o("P0D"), HCM));
    }

    #[test]
    fn offsets_print_as_iso_durations() {
        for text in ["P3D", "PT36H", "P1M2DT30M", "P0D", "PT1H0M5S"] {
            let offset = Offset::parse(text).unwrap();
            assert_eq!(Offset::parse(&offset.to_string()), Some(offset), "{text}");
        }
        assert_eq!(Offset::parse("PT36H").unwrap().to_string(), "PT36H");
        assert_eq!(Offset::parse("P1Y").unwrap().to_string(), "P12M");
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

    #[test]
    fn digest_slots_are_read_in_the_unit_zone() {
        let cron = DigestCron::parse("0 8 * * MON").unwrap();
        let slot = |now: &str, tz: Tz| {
            cron.latest(at(now), tz)
                .unwrap()
                .with_timezone(&tz)
                .to_rfc3339()
        };
        // Wednesday 20/11/2024: the latest Monday 08:00 is the 18th, in Hà Nội and in Paris alike.
        assert_eq!(
            slot("2024-11-20T12:00:00+07:00", HCM),
            "2024-11-18T08:00:00+07:00"
        );
        assert_eq!(
            slot("2024-11-20T12:00:00+07:00", chrono_tz::Europe::Paris),
            "2024-11-18T08:00:00+01:00"
        );
        assert_eq!(
            slot("2024-11-18T08:00:00+07:00", HCM),
            "2024-11-18T08:00:00+07:00",
            "inclusive"
        );
        assert_eq!(
            slot("2024-11-18T07:59:59+07:00", HCM),
            "2024-11-11T08:00:00+07:00"
        );
        let previous = cron.previous(at("2024-11-18T08:00:00+07:00"), HCM).unwrap();
        assert_eq!(previous, at("2024-11-11T08:00:00+07:00"));
        assert!(DigestCron::parse("0 8 31 2 *").is_err(), "never fires");
        assert!(DigestCron::parse("every monday").is_err());
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

        /// The first `next_notice_at` of a deadline is never after any of its reminders or escalations, in any
        /// zone: otherwise a reminder would go out late.
        #[test]
        fn the_earliest_notice_is_a_true_lower_bound(
            day in 0u64..1200,
            offsets in proptest::collection::vec((0u32..3, 0u32..40), 0..4),
            zone in 0usize..5,
        ) {
            let tz = [HCM, chrono_tz::Pacific::Kiritimati, chrono_tz::Pacific::Pago_Pago,
                      chrono_tz::America::New_York, chrono_tz::Europe::Paris][zone];
            let due = crate::domain::due_at(date("2023-01-01") + Days::new(day), tz);
            let reminders: Vec<Offset> = offsets
                .iter()
                .map(|(months, days)| Offset { months: *months, days: *days + 1, seconds: 0 })
                .collect();
            let bound = earliest_notice(due, &reminders, &vn());
            for r in &reminders {
                prop_assert!(bound <= reminder_moment(due, *r, tz, hours(), &vn()));
            }
            prop_assert!(bound <= escalation_moment(due, Offset::default(), Offset::default(), tz, hours(), &vn()));
        }
    }
}
