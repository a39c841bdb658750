//! The pure core: the rules of units, periods, calendars and deadlines as plain functions over plain data.
//! No database, no HTTP, no clock: time is always a parameter.

pub mod calendar;
pub mod due;
pub mod materialize;
pub mod notify;
pub mod obligation;
pub mod period;
pub mod schedule;
pub mod status;
pub mod unit;

use std::fmt;

use serde::Serialize;

pub use calendar::{Calendar, CalendarError, DayKind};
pub use due::{due_at, last_day, DueError};
pub use period::{data_window, periods_in, Cutoff, Period, PeriodParseError, PeriodType};
pub use schedule::{DueRule, Phrase, Schedule, Shift};
pub use status::{is_on_time, status_at, CellStatus, DeadlineStatus};

/// One problem with one field of the input, located by a JSON pointer (RFC 6901) into the request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON pointer to the offending value, e.g. `/contacts/reporters/0`.
    pub pointer: String,
    pub message: String,
}

impl FieldError {
    pub fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.pointer, self.message)
    }
}

/// Dates hanbao accepts from users: wide enough for any plan, narrow enough that every computed deadline
/// (a year-long delay at most) stays a valid, fixed-width instant.
pub const ACCEPTED_YEARS: std::ops::RangeInclusive<i32> = 1900..=2999;

/// A field error when `date` is outside [`ACCEPTED_YEARS`].
pub fn check_date(pointer: &str, date: chrono::NaiveDate) -> Option<FieldError> {
    use chrono::Datelike;
    (!ACCEPTED_YEARS.contains(&date.year())).then(|| {
        FieldError::new(
            pointer,
            format!(
                "{date} is outside the years {} to {}",
                ACCEPTED_YEARS.start(),
                ACCEPTED_YEARS.end()
            ),
        )
    })
}

/// Escapes one reference token of a JSON pointer (`~` → `~0`, `/` → `~1`).
pub fn pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
pub(crate) mod test_support {
    use chrono::{Days, NaiveDate};
    use proptest::prelude::*;

    use super::Calendar;

    /// The calendar the binary ships, so the tests see the same holidays as production.
    pub const VN_TOML: &str = include_str!("../../config/calendars/vn.toml");

    pub fn vn() -> Calendar {
        Calendar::from_toml(VN_TOML).expect("shipped calendar parses")
    }

    pub fn date(s: &str) -> NaiveDate {
        s.parse().expect("test dates are valid")
    }

    /// Days from 2000 to 2039: the published calendar years and the fallback years around them.
    pub fn any_date() -> impl Strategy<Value = NaiveDate> {
        (0u64..365 * 40).prop_map(|d| date("2000-01-01") + Days::new(d))
    }
}
