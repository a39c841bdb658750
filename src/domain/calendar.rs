//! Working-day calendar: weekends, public holidays and swapped working days (làm bù), as data.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// Holidays fixed by the Labour Code (art. 112) on solar dates, so known for any year before the
/// yearly schedule (Tết, Giỗ Tổ, swaps) is published.
const FIXED_HOLIDAYS: [(u32, u32); 4] = [(1, 1), (4, 30), (5, 1), (9, 2)];

/// An exception to the weekly rhythm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// A weekday off: public holiday, Tết, compensatory day (nghỉ bù).
    Holiday,
    /// A weekend day worked in exchange for a day off (làm bù).
    WorkingDay,
}

impl DayKind {
    /// The word the API and the database use.
    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::WorkingDay => "working_day",
        }
    }

    pub fn parse(word: &str) -> Option<Self> {
        [DayKind::Holiday, DayKind::WorkingDay]
            .into_iter()
            .find(|k| k.as_str() == word)
    }
}

/// Which days are working days.
///
/// A day is a working day unless it is a weekend day, a listed holiday or a fixed solar holiday
/// (1/1, 30/4, 1/5, 2/9); a listed working day wins over all of these. The fixed holidays apply in
/// every year, listed or not, because they are statutory: the published schedules only add to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    weekend: [Weekday; 2],
    days: BTreeMap<NaiveDate, DayKind>,
    /// Years with a schedule in the data, and whether it is complete.
    years: BTreeMap<i32, bool>,
    /// What listed days are ("Tết Nguyên đán", "Làm bù cho ngày nghỉ 02/5"), where the data says.
    names: BTreeMap<NaiveDate, String>,
}

impl Default for Calendar {
    /// Weekends and the fixed holidays only, every year incomplete.
    fn default() -> Self {
        Calendar {
            weekend: [Weekday::Sat, Weekday::Sun],
            days: BTreeMap::new(),
            years: BTreeMap::new(),
            names: BTreeMap::new(),
        }
    }
}

/// Why calendar data or an edit was refused.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    #[error("calendar data: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("calendar data: `years.{0}` is not a year")]
    NotAYear(String),
    #[error("calendar data: {date} is listed under years.{year}")]
    WrongYear { date: NaiveDate, year: i32 },
    #[error("{0} is listed both as a day off and as a working day")]
    Conflict(NaiveDate),
    #[error("{0} is a weekend day, so it is off already: list the weekday that compensates it")]
    HolidayOnWeekend(NaiveDate),
    #[error("{0} has a name but is listed neither under `off` nor under `work`")]
    NamedButNotListed(NaiveDate),
    #[error("{0} is a weekday, so it is a working day already")]
    WorkingDayOnWeekday(NaiveDate),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    #[serde(default)]
    years: BTreeMap<String, YearFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YearFile {
    /// Absent means incomplete: a year is only trusted when the data says so.
    #[serde(default)]
    complete: bool,
    #[serde(default)]
    off: Vec<NaiveDate>,
    #[serde(default)]
    work: Vec<NaiveDate>,
    /// Names of listed days, `"YYYY-MM-DD" = "name"`.
    #[serde(default)]
    names: BTreeMap<NaiveDate, String>,
}

impl Calendar {
    /// Reads the format of `calendars/vn.toml`: `[years.YYYY]` tables with `complete`, `off`
    /// (weekdays off) and `work` (weekend days worked), dates as `"YYYY-MM-DD"` strings.
    pub fn from_toml(text: &str) -> Result<Calendar, CalendarError> {
        let file: CalendarFile = toml::from_str(text)?;
        let mut calendar = Calendar::default();
        for (key, year_file) in file.years {
            let year: i32 = key
                .parse()
                .map_err(|_| CalendarError::NotAYear(key.clone()))?;
            calendar.years.insert(year, year_file.complete);
            let listed = year_file
                .off
                .iter()
                .map(|d| (*d, DayKind::Holiday))
                .chain(year_file.work.iter().map(|d| (*d, DayKind::WorkingDay)));
            for (date, kind) in listed {
                if date.year() != year {
                    return Err(CalendarError::WrongYear { date, year });
                }
                if calendar.days.get(&date).is_some_and(|k| *k != kind) {
                    return Err(CalendarError::Conflict(date));
                }
                calendar.set_day(date, kind)?;
            }
            for (date, name) in year_file.names {
                if !calendar.days.contains_key(&date) {
                    return Err(CalendarError::NamedButNotListed(date));
                }
                calendar.names.insert(date, name);
            }
        }
        Ok(calendar)
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        match self.days.get(&date) {
            Some(DayKind::WorkingDay) => true,
            Some(DayKind::Holiday) => false,
            None => !self.is_weekend(date) && !is_fixed_holiday(date),
        }
    }

    /// Whether the year's schedule is published in full; `false` for years not in the data, where
    /// only weekends and the fixed holidays are known.
    pub fn calendar_complete(&self, year: i32) -> bool {
        self.years.get(&year).copied().unwrap_or(false)
    }

    /// Marks a year's schedule as (in)complete, e.g. once its Tết days have been entered.
    pub fn set_calendar_complete(&mut self, year: i32, complete: bool) {
        self.years.insert(year, complete);
    }

    /// Years in the data with their completeness, in order.
    pub fn years(&self) -> impl Iterator<Item = (i32, bool)> + '_ {
        self.years.iter().map(|(y, c)| (*y, *c))
    }

    /// Listed exceptions, in date order (fixed holidays are implied, not listed).
    pub fn days(&self) -> impl Iterator<Item = (NaiveDate, DayKind)> + '_ {
        self.days.iter().map(|(d, k)| (*d, *k))
    }

    /// The name the data gives a listed day.
    pub fn name(&self, date: NaiveDate) -> Option<&str> {
        self.names.get(&date).map(String::as_str)
    }

    /// Records one exception, replacing any earlier one for that date. Holidays must be weekdays
    /// and working days weekend days: anything else would change nothing and hide a typo.
    pub fn set_day(&mut self, date: NaiveDate, kind: DayKind) -> Result<(), CalendarError> {
        match (kind, self.is_weekend(date)) {
            (DayKind::Holiday, true) => Err(CalendarError::HolidayOnWeekend(date)),
            (DayKind::WorkingDay, false) => Err(CalendarError::WorkingDayOnWeekday(date)),
            _ => {
                self.days.insert(date, kind);
                Ok(())
            }
        }
    }

    /// Drops the exception for a date, returning what it was. A fixed holiday cannot be dropped.
    pub fn remove_day(&mut self, date: NaiveDate) -> Option<DayKind> {
        self.days.remove(&date)
    }

    /// `date` itself when it is a working day, else the first working day after it.
    ///
    /// # Panics
    /// Only within days of chrono's last date (year 262,143).
    pub fn next_working_day(&self, date: NaiveDate) -> NaiveDate {
        date.iter_days()
            .find(|d| self.is_working_day(*d))
            .expect("a working day before the end of time")
    }

    /// `date` itself when it is a working day, else the last working day before it.
    ///
    /// # Panics
    /// Only within days of chrono's first date.
    pub fn previous_working_day(&self, date: NaiveDate) -> NaiveDate {
        date.iter_days()
            .rev()
            .find(|d| self.is_working_day(*d))
            .expect("a working day after the beginning of time")
    }

    /// The `n`-th working day strictly after `after` (Civil Code art. 147: counting starts the
    /// next day). `n = 0` gives `after` itself, so that adding `a` then `b` days equals adding
    /// `a + b`; schedules refuse 0 working days, so due rules never rely on it.
    ///
    /// # Panics
    /// Only within days of chrono's last date.
    pub fn add_working_days(&self, after: NaiveDate, n: u32) -> NaiveDate {
        if n == 0 {
            return after;
        }
        after
            .iter_days()
            .skip(1)
            .filter(|d| self.is_working_day(*d))
            .nth(n as usize - 1)
            .expect("enough working days before the end of time")
    }

    fn is_weekend(&self, date: NaiveDate) -> bool {
        self.weekend.contains(&date.weekday())
    }
}

fn is_fixed_holiday(date: NaiveDate) -> bool {
    FIXED_HOLIDAYS.contains(&(date.month(), date.day()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_support::{any_date, date, vn};
    use proptest::prelude::*;

    #[test]
    fn vn_data_parses_with_its_years() {
        let cal = vn();
        let years: Vec<_> = cal.years().collect();
        assert_eq!(
            years,
            vec![
                (2021, true),
                (2022, true),
                (2023, true),
                (2024, true),
                (2025, true),
                (2026, false)
            ]
        );
        assert!(cal.calendar_complete(2021));
        assert!(cal.calendar_complete(2025));
        assert!(!cal.calendar_complete(2026));
        assert!(!cal.calendar_complete(2027));
        assert_eq!(cal.days().count(), 11 + 11 + 11 + 13 + 13 + 12);
        // Every listed day has its name.
        for (day, _) in cal.days() {
            assert!(cal.name(day).is_some_and(|n| !n.is_empty()), "{day}");
        }
        assert_eq!(cal.name(date("2022-01-31")), Some("Tết Nguyên đán"));
        assert_eq!(cal.name(date("2022-01-28")), None);
    }

    #[test]
    fn a_name_needs_a_listed_day() {
        let text =
            "[years.2030]\ncomplete = true\noff = []\n[years.2030.names]\n\"2030-01-02\" = \"x\"\n";
        assert!(matches!(
            Calendar::from_toml(text),
            Err(CalendarError::NamedButNotListed(_))
        ));
    }

    #[test]
    fn working_days_table() {
        let cal = vn();
        let table = [
            ("2022-01-28", true),  // Friday before Tết 2022
            ("2022-01-31", false), // Tết 2022: Huế's "by 31/1/2022" moves to Monday 7/2
            ("2022-02-07", true),
            ("2021-02-16", false), // Tết 2021
            ("2025-01-24", true),  // Friday before Tết
            ("2025-01-27", false), // Tết
            ("2025-01-31", false), // Tết
            ("2025-02-03", true),  // first day back
            ("2025-04-26", true),  // Saturday worked for 2/5 (làm bù)
            ("2025-04-27", false), // Sunday
            ("2025-05-02", false), // swapped day off
            ("2024-05-04", true),  // Saturday worked
            ("2024-04-29", false),
            ("2023-01-01", false), // Sunday
            ("2023-01-02", false), // compensates 1/1
            ("2023-11-30", true),
            ("2024-11-30", false), // Saturday
            ("2026-09-02", false),
            ("2026-09-03", true), // not (yet) in the data
        ];
        for (day, working) in table {
            assert_eq!(cal.is_working_day(date(day)), working, "{day}");
        }
    }

    #[test]
    fn unlisted_year_falls_back_to_weekends_and_fixed_holidays() {
        let cal = vn();
        assert!(!cal.calendar_complete(2027));
        for off in [
            "2027-01-01",
            "2027-04-30",
            "2027-05-01",
            "2027-09-02",
            "2027-05-02",
        ] {
            assert!(!cal.is_working_day(date(off)), "{off}");
        }
        // Tết 2027 is not published yet: 8 February 2027 (a Monday) counts as working.
        assert!(cal.is_working_day(date("2027-02-08")));
        assert!(cal.is_working_day(date("2027-04-29")));
    }

    #[test]
    fn edits() {
        let mut cal = vn();
        let tet = date("2027-02-08");
        cal.set_day(tet, DayKind::Holiday).unwrap();
        assert!(!cal.is_working_day(tet));
        assert_eq!(cal.remove_day(tet), Some(DayKind::Holiday));
        assert!(cal.is_working_day(tet));
        assert_eq!(cal.remove_day(tet), None);

        let saturday = date("2027-02-20");
        cal.set_day(saturday, DayKind::WorkingDay).unwrap();
        assert!(cal.is_working_day(saturday));
        cal.set_calendar_complete(2027, true);
        assert!(cal.calendar_complete(2027));

        assert!(matches!(
            cal.set_day(saturday, DayKind::Holiday),
            Err(CalendarError::HolidayOnWeekend(_))
        ));
        assert!(matches!(
            cal.set_day(tet, DayKind::WorkingDay),
            Err(CalendarError::WorkingDayOnWeekday(_))
        ));
        // A fixed holiday is law, not data.
        assert_eq!(cal.remove_day(date("2027-04-30")), None);
        assert!(!cal.is_working_day(date("2027-04-30")));
    }

    #[test]
    fn bad_data_is_refused() {
        let cases = [
            "[years.2025]\noff = [\"2024-12-31\"]",
            "[years.twenty]\ncomplete = true",
            "[years.2025]\noff = [\"2025-01-27\"]\nwork = [\"2025-01-27\"]",
            "[years.2025]\noff = [\"2025-01-25\"]",
            "[years.2025]\nwork = [\"2025-01-24\"]",
            "[years.2025]\nholidays = []",
            "[years.2025]\noff = [\"2025-02-30\"]",
        ];
        for text in cases {
            assert!(Calendar::from_toml(text).is_err(), "{text}");
        }
        let cal = Calendar::from_toml("[years.2030]\noff = [\"2030-02-04\"]").unwrap();
        assert!(!cal.calendar_complete(2030));
        assert!(!cal.is_working_day(date("2030-02-04")));
    }

    #[test]
    fn walking_through_tet_2025() {
        let cal = vn();
        assert_eq!(cal.next_working_day(date("2025-01-25")), date("2025-02-03"));
        assert_eq!(
            cal.previous_working_day(date("2025-02-02")),
            date("2025-01-24")
        );
        assert_eq!(cal.next_working_day(date("2025-01-24")), date("2025-01-24"));
        assert_eq!(
            cal.add_working_days(date("2025-01-23"), 1),
            date("2025-01-24")
        );
        assert_eq!(
            cal.add_working_days(date("2025-01-24"), 1),
            date("2025-02-03")
        );
        assert_eq!(
            cal.add_working_days(date("2025-01-31"), 5),
            date("2025-02-07")
        );
        assert_eq!(
            cal.add_working_days(date("2025-01-31"), 0),
            date("2025-01-31")
        );
        // 21..25 April, then Saturday 26 April is worked; 28, 29 April; 30/4–2/5 off.
        assert_eq!(
            cal.add_working_days(date("2025-04-20"), 6),
            date("2025-04-26")
        );
        assert_eq!(
            cal.add_working_days(date("2025-04-25"), 3),
            date("2025-04-29")
        );
        assert_eq!(
            cal.add_working_days(date("2025-04-25"), 4),
            date("2025-05-05")
        );
    }

    proptest! {
        #[test]
        fn add_working_days_counts_working_days(after in any_date(), n in 1u32..60) {
            let cal = vn();
            let got = cal.add_working_days(after, n);
            prop_assert!(cal.is_working_day(got));
            let counted = after.iter_days().skip(1).take_while(|d| *d <= got)
                .filter(|d| cal.is_working_day(*d)).count();
            prop_assert_eq!(counted, n as usize);
        }

        #[test]
        fn nearest_working_days_bracket_the_date(day in any_date()) {
            let cal = vn();
            let next = cal.next_working_day(day);
            let previous = cal.previous_working_day(day);
            prop_assert!(previous <= day && day <= next);
            prop_assert!(cal.is_working_day(next) && cal.is_working_day(previous));
            prop_assert!(previous.iter_days().skip(1).take_while(|d| *d < next)
                .all(|d| !cal.is_working_day(d)));
        }
    }
}
