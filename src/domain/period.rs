//! Reporting periods (kỳ báo cáo): DHIS2-style ids, their calendar spans and their data windows.

use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;

use chrono::{Datelike, Months, NaiveDate, Weekday};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Years a period id can name: DHIS2 ids carry exactly four digits, and keeping dates far from
/// chrono's limits lets the due arithmetic stay total.
pub const SUPPORTED_YEARS: RangeInclusive<i32> = 1..=9999;

/// How often an obligation recurs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodType {
    Yearly,
    SixMonthly,
    Quarterly,
    Monthly,
    Weekly,
    Once,
    Event,
}

impl PeriodType {
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodType::Yearly => "yearly",
            PeriodType::SixMonthly => "six_monthly",
            PeriodType::Quarterly => "quarterly",
            PeriodType::Monthly => "monthly",
            PeriodType::Weekly => "weekly",
            PeriodType::Once => "once",
            PeriodType::Event => "event",
        }
    }

    pub const ALL: [PeriodType; 7] = [
        PeriodType::Yearly,
        PeriodType::SixMonthly,
        PeriodType::Quarterly,
        PeriodType::Monthly,
        PeriodType::Weekly,
        PeriodType::Once,
        PeriodType::Event,
    ];

    /// The type a word names, as schedules write it.
    pub fn parse(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == word)
    }

    /// Whether periods of this type follow the calendar (and so have spans and data windows).
    pub fn is_periodic(self) -> bool {
        !matches!(self, PeriodType::Once | PeriodType::Event)
    }
}

impl fmt::Display for PeriodType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a report covers. The id forms are DHIS2's: `2024`, `2024S1`, `2024Q3`, `202409`,
/// `2024W07` (ISO year and week), `once`, `E42` (event 42).
///
/// The variants are open so callers can match on them; a hand-built one holding an out-of-range
/// number (month 13, quarter 5) has no span. [`FromStr`] never yields such a value, and it accepts
/// exactly the strings [`fmt::Display`] writes, so an id is canonical and can serve as a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Period {
    Year(i32),
    /// Year and half (1 = January–June, 2 = July–December).
    SixMonth(i32, u8),
    /// Year and quarter 1..=4.
    Quarter(i32, u8),
    /// Year and month 1..=12.
    Month(i32, u32),
    /// ISO week-numbering year and ISO week 1..=52 or 53.
    Week(i32, u32),
    Once,
    /// An event, by its id.
    Event(i64),
}

impl Period {
    pub fn period_type(&self) -> PeriodType {
        match self {
            Period::Year(_) => PeriodType::Yearly,
            Period::SixMonth(..) => PeriodType::SixMonthly,
            Period::Quarter(..) => PeriodType::Quarterly,
            Period::Month(..) => PeriodType::Monthly,
            Period::Week(..) => PeriodType::Weekly,
            Period::Once => PeriodType::Once,
            Period::Event(_) => PeriodType::Event,
        }
    }

    /// First and last calendar day; `None` for `once`, events and out-of-range variants.
    pub fn span(&self) -> Option<(NaiveDate, NaiveDate)> {
        match *self {
            Period::Year(y) => months(y, 1, 12),
            Period::SixMonth(y, h @ 1..=2) => {
                let first = 6 * u32::from(h) - 5;
                months(y, first, first + 5)
            }
            Period::Quarter(y, q @ 1..=4) => {
                let first = 3 * u32::from(q) - 2;
                months(y, first, first + 2)
            }
            Period::Month(y, m @ 1..=12) => months(y, m, m),
            Period::Week(y, w) => Some((
                NaiveDate::from_isoywd_opt(y, w, Weekday::Mon)?,
                NaiveDate::from_isoywd_opt(y, w, Weekday::Sun)?,
            )),
            _ => None,
        }
    }

    /// The period of the given type that contains `date`; `None` for `once` and events.
    pub fn containing(period_type: PeriodType, date: NaiveDate) -> Option<Period> {
        let (y, m) = (date.year(), date.month());
        Some(match period_type {
            PeriodType::Yearly => Period::Year(y),
            PeriodType::SixMonthly => Period::SixMonth(y, if m <= 6 { 1 } else { 2 }),
            PeriodType::Quarterly => Period::Quarter(y, ((m - 1) / 3 + 1) as u8),
            PeriodType::Monthly => Period::Month(y, m),
            PeriodType::Weekly => {
                let week = date.iso_week();
                Period::Week(week.year(), week.week())
            }
            PeriodType::Once | PeriodType::Event => return None,
        })
    }

    fn following(&self) -> Option<Period> {
        let (_, last) = self.span()?;
        Period::containing(self.period_type(), last.succ_opt()?)
    }
}

/// Every calendar period of `period_type` that overlaps the inclusive window, in order.
///
/// Empty for `once` and `event`, which are not calendar periods (a `once` obligation has the
/// single period [`Period::Once`]; event periods come from events), and for an empty window.
pub fn periods_in(
    period_type: PeriodType,
    window_start: NaiveDate,
    window_end: NaiveDate,
) -> Vec<Period> {
    let mut periods = Vec::new();
    if window_start > window_end {
        return periods;
    }
    let mut next = Period::containing(period_type, window_start);
    while let Some(period) = next {
        match period.span() {
            Some((first, _)) if first <= window_end => periods.push(period),
            _ => break,
        }
        next = period.following();
    }
    periods
}

fn months(year: i32, first: u32, last: u32) -> Option<(NaiveDate, NaiveDate)> {
    let start = NaiveDate::from_ymd_opt(year, first, 1)?;
    let end = NaiveDate::from_ymd_opt(year, last, 1)?
        .checked_add_months(Months::new(1))?
        .pred_opt()?;
    Some((start, end))
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Year(y) => write!(f, "{y:04}"),
            Period::SixMonth(y, h) => write!(f, "{y:04}S{h}"),
            Period::Quarter(y, q) => write!(f, "{y:04}Q{q}"),
            Period::Month(y, m) => write!(f, "{y:04}{m:02}"),
            Period::Week(y, w) => write!(f, "{y:04}W{w:02}"),
            Period::Once => f.write_str("once"),
            Period::Event(id) => write!(f, "E{id}"),
        }
    }
}

/// A string that is not a canonical period id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a period id (expected e.g. 2024, 2024S1, 2024Q3, 202409, 2024W07, once or E42)"
)]
pub struct PeriodParseError(pub String);

impl FromStr for Period {
    type Err = PeriodParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s).ok_or_else(|| PeriodParseError(s.to_owned()))
    }
}

fn parse(s: &str) -> Option<Period> {
    if s == "once" {
        return Some(Period::Once);
    }
    if let Some(id) = s.strip_prefix('E') {
        // Leading zeros would give one event two ids.
        let canonical = id == "0" || !id.starts_with('0');
        return (canonical && all_digits(id))
            .then(|| id.parse().ok().map(Period::Event))
            .flatten();
    }
    let (year, rest) = (s.get(..4)?, s.get(4..)?);
    let year: i32 = number(year)?.try_into().ok()?;
    if !SUPPORTED_YEARS.contains(&year) {
        return None;
    }
    let period = match rest.as_bytes() {
        [] => Period::Year(year),
        [b'S', half] => Period::SixMonth(year, digit(*half)?),
        [b'Q', quarter] => Period::Quarter(year, digit(*quarter)?),
        [_, _] => Period::Month(year, number(rest)?),
        [b'W', _, _] => Period::Week(year, number(&rest[1..])?),
        _ => return None,
    };
    period.span().map(|_| period)
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn number(s: &str) -> Option<u32> {
    all_digits(s).then(|| s.parse().ok()).flatten()
}

fn digit(b: u8) -> Option<u8> {
    b.is_ascii_digit().then(|| b - b'0')
}

impl Serialize for Period {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let id = String::deserialize(deserializer)?;
        id.parse().map_err(serde::de::Error::custom)
    }
}

/// Which days a period's data covers (thời gian chốt số liệu).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Cutoff {
    /// The calendar period itself.
    #[default]
    #[serde(rename = "calendar")]
    Calendar,
    /// Decree 09/2019/NĐ-CP art. 12: from the 15th of the month before the period to the 14th of
    /// its last month.
    #[serde(rename = "decree_09")]
    Decree09,
}

/// The inclusive data window of a period; `None` for `once`, events and out-of-range variants.
///
/// Decree 09 defines no window for weeks, so a weekly period keeps its calendar week under
/// `decree_09` too.
pub fn data_window(period: &Period, cutoff: Cutoff) -> Option<(NaiveDate, NaiveDate)> {
    let (first, last) = period.span()?;
    match (cutoff, period) {
        (Cutoff::Calendar, _) | (Cutoff::Decree09, Period::Week(..)) => Some((first, last)),
        // Art. 12 states month, quarter, half-year and year separately, but all four are the same
        // rule: the 15th of the month before the first month, to the 14th of the last month.
        (Cutoff::Decree09, _) => Some((
            first.checked_sub_months(Months::new(1))?.with_day(15)?,
            last.with_day(14)?,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_support::{any_date, date};
    use proptest::prelude::*;

    #[test]
    fn ids_round_trip() {
        let table = [
            ("2024", Period::Year(2024)),
            ("2024S1", Period::SixMonth(2024, 1)),
            ("2024S2", Period::SixMonth(2024, 2)),
            ("2024Q3", Period::Quarter(2024, 3)),
            ("202409", Period::Month(2024, 9)),
            ("202412", Period::Month(2024, 12)),
            ("2024W07", Period::Week(2024, 7)),
            ("2020W53", Period::Week(2020, 53)),
            ("once", Period::Once),
            ("E42", Period::Event(42)),
            ("E0", Period::Event(0)),
        ];
        for (id, period) in table {
            assert_eq!(id.parse::<Period>(), Ok(period), "{id}");
            assert_eq!(period.to_string(), id);
        }
    }

    #[test]
    fn ids_rejected() {
        let bad = [
            "",
            "202",
            "20245",
            "202413",
            "202400",
            "2024W54",
            "2024W53",
            "2024W00",
            "2024W7",
            "2024S3",
            "2024S0",
            "2024Q5",
            "2024Q0",
            "0000",
            "ONCE",
            "E",
            "E-1",
            "E042",
            "E1x",
            "2024-09",
            "2024M09",
            " 2024",
            "２０２４",
            "2024W0７",
        ];
        for id in bad {
            assert!(id.parse::<Period>().is_err(), "{id} should be rejected");
        }
        assert!("E99999999999999999999".parse::<Period>().is_err());
    }

    #[test]
    fn serde_uses_the_id() {
        let json = serde_json::to_string(&Period::Quarter(2024, 3)).unwrap();
        assert_eq!(json, "\"2024Q3\"");
        assert_eq!(
            serde_json::from_str::<Period>("\"2024W07\"").unwrap(),
            Period::Week(2024, 7)
        );
        assert!(serde_json::from_str::<Period>("\"2024Q5\"").is_err());
        assert_eq!(
            serde_json::to_string(&PeriodType::SixMonthly).unwrap(),
            "\"six_monthly\""
        );
    }

    #[test]
    fn spans() {
        let table = [
            (Period::Year(2024), "2024-01-01", "2024-12-31"),
            (Period::SixMonth(2024, 1), "2024-01-01", "2024-06-30"),
            (Period::SixMonth(2024, 2), "2024-07-01", "2024-12-31"),
            (Period::Quarter(2024, 1), "2024-01-01", "2024-03-31"),
            (Period::Quarter(2024, 4), "2024-10-01", "2024-12-31"),
            (Period::Month(2024, 2), "2024-02-01", "2024-02-29"),
            (Period::Month(2023, 2), "2023-02-01", "2023-02-28"),
            (Period::Week(2024, 7), "2024-02-12", "2024-02-18"),
            (Period::Week(2025, 1), "2024-12-30", "2025-01-05"),
            (Period::Week(2020, 53), "2020-12-28", "2021-01-03"),
        ];
        for (period, first, last) in table {
            assert_eq!(period.span(), Some((date(first), date(last))), "{period}");
        }
        assert_eq!(Period::Once.span(), None);
        assert_eq!(Period::Event(1).span(), None);
        assert_eq!(Period::Month(2024, 13).span(), None);
    }

    #[test]
    fn decree_09_windows() {
        let table = [
            (Period::Month(2024, 1), "2023-12-15", "2024-01-14"),
            (Period::Month(2024, 3), "2024-02-15", "2024-03-14"),
            (Period::Quarter(2024, 1), "2023-12-15", "2024-03-14"),
            (Period::Quarter(2024, 3), "2024-06-15", "2024-09-14"),
            (Period::SixMonth(2024, 1), "2023-12-15", "2024-06-14"),
            (Period::SixMonth(2024, 2), "2024-06-15", "2024-12-14"),
            (Period::Year(2024), "2023-12-15", "2024-12-14"),
            (Period::Week(2024, 7), "2024-02-12", "2024-02-18"),
        ];
        for (period, first, last) in table {
            assert_eq!(
                data_window(&period, Cutoff::Decree09),
                Some((date(first), date(last))),
                "{period}"
            );
            assert_eq!(data_window(&period, Cutoff::Calendar), period.span());
        }
        assert_eq!(data_window(&Period::Once, Cutoff::Decree09), None);
        assert_eq!(data_window(&Period::Event(3), Cutoff::Calendar), None);
    }

    #[test]
    fn periods_in_examples() {
        let got = periods_in(PeriodType::Yearly, date("2022-01-01"), date("2025-12-31"));
        assert_eq!(got, (2022..=2025).map(Period::Year).collect::<Vec<_>>());
        let got = periods_in(
            PeriodType::Quarterly,
            date("2024-03-31"),
            date("2024-04-01"),
        );
        assert_eq!(
            got,
            vec![Period::Quarter(2024, 1), Period::Quarter(2024, 2)]
        );
        let got = periods_in(PeriodType::Weekly, date("2024-12-29"), date("2024-12-30"));
        assert_eq!(got, vec![Period::Week(2024, 52), Period::Week(2025, 1)]);
        assert!(periods_in(PeriodType::Monthly, date("2024-02-01"), date("2024-01-31")).is_empty());
        assert!(periods_in(PeriodType::Once, date("2024-01-01"), date("2024-12-31")).is_empty());
        assert!(periods_in(PeriodType::Event, date("2024-01-01"), date("2024-12-31")).is_empty());
    }

    fn periodic_type() -> impl Strategy<Value = PeriodType> {
        prop_oneof![
            Just(PeriodType::Yearly),
            Just(PeriodType::SixMonthly),
            Just(PeriodType::Quarterly),
            Just(PeriodType::Monthly),
            Just(PeriodType::Weekly),
        ]
    }

    proptest! {
        #[test]
        fn periods_in_tiles_the_window(
            period_type in periodic_type(),
            start in any_date(),
            length in 0u64..900,
            cutoff in prop_oneof![Just(Cutoff::Calendar), Just(Cutoff::Decree09)],
        ) {
            let end = start + chrono::Days::new(length);
            let periods = periods_in(period_type, start, end);
            let spans: Vec<_> = periods.iter().map(|p| p.span().unwrap()).collect();
            prop_assert!(!spans.is_empty());
            prop_assert!(spans[0].0 <= start && start <= spans[0].1);
            let last = spans[spans.len() - 1];
            prop_assert!(last.0 <= end && end <= last.1);
            for pair in spans.windows(2) {
                prop_assert_eq!(pair[0].1.succ_opt().unwrap(), pair[1].0);
            }
            // Decree 09 windows tile time the same way the calendar periods do.
            let windows: Vec<_> =
                periods.iter().map(|p| data_window(p, cutoff).unwrap()).collect();
            for pair in windows.windows(2) {
                prop_assert_eq!(pair[0].1.succ_opt().unwrap(), pair[1].0);
            }
            for period in &periods {
                prop_assert_eq!(period.period_type(), period_type);
                prop_assert_eq!(period.to_string().parse::<Period>(), Ok(*period));
            }
        }

        #[test]
        fn parse_accepts_only_what_display_writes(s in "(E|[0-9]{4})[SQW0-9]{0,3}") {
            if let Ok(period) = s.parse::<Period>() {
                prop_assert_eq!(period.to_string(), s);
            }
        }
    }
}
