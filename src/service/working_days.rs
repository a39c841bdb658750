//! Reads a stored calendar as the domain's working-day calendar. A leaf of `service`: recomputation, the notice
//! tick and the calendar use cases all read calendars through it.

use crate::domain::{Calendar, DayKind};
use crate::store::{self, AnyConnection};

use super::{ServiceError, ServiceResult};

/// The domain calendar `code`, or `None` when there is no such calendar.
pub fn load(conn: &mut AnyConnection, code: &str) -> ServiceResult<Option<Calendar>> {
    let Some(row) = store::calendars::find(conn, code)? else {
        return Ok(None);
    };
    let mut calendar = Calendar::default();
    for day in store::calendars::days(conn, row.id)? {
        calendar
            .set_day(day.day, day_kind(&day.kind)?)
            .map_err(|e| ServiceError::data(format!("calendar {code}: {e}")))?;
    }
    for year in store::calendars::years(conn, row.id)? {
        calendar.set_calendar_complete(year.year, year.complete);
    }
    Ok(Some(calendar))
}

/// The day kind a stored word names.
pub(super) fn day_kind(word: &str) -> ServiceResult<DayKind> {
    DayKind::parse(word).ok_or_else(|| ServiceError::data(format!("calendar day kind `{word}`")))
}
