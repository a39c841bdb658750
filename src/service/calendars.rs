//! Working-day calendars: the built-in Vietnamese one, reading, and day edits that recompute open deadlines.

use std::collections::HashSet;
use std::path::Path;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::working_days::{self, day_kind};
use super::{audit, recompute, Actor, ServiceError, ServiceResult};
use crate::domain::{Calendar, DayKind};
use crate::store::calendars::{DayRow, YearRow};
use crate::store::{self, AnyConnection};

/// Calendars shipped in the binary: (code, name, TOML facts in the format of config/calendars/vn.toml).
const BUILTIN: &[(&str, &str, &str)] = &[(
    "vn",
    "Lịch làm việc cơ quan nhà nước Việt Nam (Vietnamese public-service working days)",
    include_str!("../../config/calendars/vn.toml"),
)];

/// Loads the working-day calendars: the ones built into the binary, each replaced by
/// `<dir>/calendars/<code>.toml` when that file exists, plus any other calendar file there (`HANBAO_CONFIG_DIR`).
/// A calendar the database lacks is created. One it has gains the years it lacks (next year's holidays, published
/// after installation, arrive with a new release or a file); a year it holds as incomplete gains the days it
/// lacks and becomes complete when the file says so, except days somebody set or removed through the API; a
/// year it holds as complete is never changed here. Open deadlines follow any change.
pub fn ensure_builtin(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    dir: Option<&Path>,
) -> ServiceResult<()> {
    for (code, name, text) in sources(dir)? {
        let calendar = Calendar::from_toml(&text)
            .map_err(|e| ServiceError::data(format!("calendar `{code}`: {e}")))?;
        store::transaction(conn, |conn| -> ServiceResult<()> {
            let (id, stored): (i64, Vec<YearRow>) = match store::calendars::find(conn, &code)? {
                Some(row) => (row.id, store::calendars::years(conn, row.id)?),
                None => (
                    store::calendars::insert(conn, &code, &name, now.into())?,
                    Vec::new(),
                ),
            };
            let complete: HashSet<i32> = stored
                .iter()
                .filter(|y| y.complete)
                .map(|y| y.year)
                .collect();
            let partial: HashSet<i32> = stored
                .iter()
                .filter(|y| !y.complete)
                .map(|y| y.year)
                .collect();
            // Days of a year stored as incomplete may still arrive (additions only), except those somebody set
            // through the API; a year stored complete is never touched.
            let (existing, edited): (HashSet<NaiveDate>, HashSet<NaiveDate>) = if partial.is_empty()
            {
                Default::default()
            } else {
                (
                    store::calendars::days(conn, id)?
                        .into_iter()
                        .map(|d| d.day)
                        .collect(),
                    store::calendars::edited_days(conn, &code)?
                        .into_iter()
                        .collect(),
                )
            };
            let days: Vec<DayRow> = calendar
                .days()
                .filter(|(day, _)| {
                    let year = day.year();
                    !complete.contains(&year)
                        && (!partial.contains(&year)
                            || !(existing.contains(day) || edited.contains(day)))
                })
                .map(|(day, kind)| DayRow {
                    calendar_id: id,
                    day,
                    kind: kind.as_str().into(),
                    name: calendar.name(day).map(str::to_owned),
                })
                .collect();
            let new_years: Vec<YearRow> = calendar
                .years()
                .filter(|(year, _)| !complete.contains(year) && !partial.contains(year))
                .map(|(year, complete)| YearRow {
                    calendar_id: id,
                    year,
                    complete,
                })
                .collect();
            let completed: Vec<i32> = calendar
                .years()
                .filter(|(year, done)| *done && partial.contains(year))
                .map(|(year, _)| year)
                .collect();
            if !stored.is_empty() {
                let names: Vec<(NaiveDate, &str)> = calendar
                    .days()
                    .filter_map(|(day, _)| calendar.name(day).map(|n| (day, n)))
                    .collect();
                store::calendars::fill_names(conn, id, &names)?;
            }
            if days.is_empty() && new_years.is_empty() && completed.is_empty() {
                return Ok(());
            }
            store::calendars::insert_days(conn, &days)?;
            store::calendars::insert_years(conn, &new_years)?;
            for year in &completed {
                store::calendars::set_year_complete(conn, id, *year)?;
            }
            if !stored.is_empty() {
                let moved = recompute::for_calendar(conn, now, &code)?;
                tracing::info!(calendar = %code, days = days.len(), years = new_years.len(),
                               completed = completed.len(), deadlines_rescheduled = moved, "calendar updated");
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// (code, name, TOML) of every calendar to load: the built-in ones, replaced or joined by files in `dir`.
fn sources(dir: Option<&Path>) -> ServiceResult<Vec<(String, String, String)>> {
    let mut sources: Vec<(String, String, String)> = BUILTIN
        .iter()
        .map(|(code, name, text)| ((*code).into(), (*name).into(), (*text).into()))
        .collect();
    let Some(folder) = dir.map(|d| d.join("calendars")).filter(|d| d.is_dir()) else {
        return Ok(sources);
    };
    let unreadable = |path: &Path, e: std::io::Error| {
        ServiceError::data(format!("cannot read {}: {e}", path.display()))
    };
    let mut files: Vec<_> = std::fs::read_dir(&folder)
        .map_err(|e| unreadable(&folder, e))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    for path in files {
        let code = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(&path).map_err(|e| unreadable(&path, e))?;
        match sources.iter_mut().find(|(c, _, _)| *c == code) {
            Some(builtin) => builtin.2 = text,
            None => sources.push((code.clone(), code, text)),
        }
    }
    Ok(sources)
}

/// One day that differs from the weekly pattern.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarDay {
    pub date: NaiveDate,
    /// `holiday` (a weekday off) or `working_day` (a weekend day worked, làm bù).
    #[schema(value_type = String)]
    pub kind: DayKind,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CalendarYear {
    pub year: i32,
    /// Whether the official schedule of this year is published and entered. When false, only weekends and the
    /// fixed solar holidays (1/1, 30/4, 1/5, 2/9) are known and deadlines may still move.
    pub calendar_complete: bool,
}

/// `GET /api/v1/calendars/{code}/days`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CalendarDays {
    pub code: String,
    pub name: String,
    /// The years asked about (the `year` parameter, or every year with data).
    pub years: Vec<CalendarYear>,
    pub days: Vec<CalendarDay>,
}

/// The answer to a day edit.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DayEdit {
    pub day: CalendarDay,
    /// Open deadlines whose last day moved because of the edit.
    pub deadlines_rescheduled: usize,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DaysQuery {
    /// Only this year's days (and its `calendar_complete`).
    pub year: Option<i32>,
}

pub fn days(
    conn: &mut AnyConnection,
    code: &str,
    query: &DaysQuery,
) -> ServiceResult<CalendarDays> {
    let row = store::calendars::find(conn, code)?
        .ok_or_else(|| ServiceError::not_found("calendar", code))?;
    let stored_years = store::calendars::years(conn, row.id)?;
    let years = match query.year {
        Some(year) => vec![CalendarYear {
            year,
            calendar_complete: stored_years.iter().any(|y| y.year == year && y.complete),
        }],
        None => stored_years
            .iter()
            .map(|y| CalendarYear {
                year: y.year,
                calendar_complete: y.complete,
            })
            .collect(),
    };
    let days = store::calendars::days(conn, row.id)?
        .into_iter()
        .filter(|d| query.year.is_none_or(|y| d.day.year() == y))
        .map(|d| {
            Ok(CalendarDay {
                date: d.day,
                kind: day_kind(&d.kind)?,
                name: d.name,
            })
        })
        .collect::<ServiceResult<_>>()?;
    Ok(CalendarDays {
        code: row.code,
        name: row.name,
        years,
        days,
    })
}

/// Adds (or replaces) a day and recomputes every open deadline of the obligations using this calendar.
pub fn put_day(
    conn: &mut AnyConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    code: &str,
    day: CalendarDay,
) -> ServiceResult<DayEdit> {
    actor.require_admin()?;
    store::transaction(conn, |conn| {
        let row = store::calendars::find(conn, code)?
            .ok_or_else(|| ServiceError::not_found("calendar", code))?;
        if let Some(error) = crate::domain::check_date("/date", day.date) {
            return Err(ServiceError::Validation(vec![error]));
        }
        let mut calendar = working_days::load(conn, code)?.unwrap_or_default();
        calendar
            .set_day(day.date, day.kind)
            .map_err(|e| ServiceError::invalid("/kind", e.to_string()))?;
        let name = day
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned);
        store::calendars::put_day(
            conn,
            &DayRow {
                calendar_id: row.id,
                day: day.date,
                kind: day.kind.as_str().into(),
                name: name.clone(),
            },
        )?;
        let day = CalendarDay { name, ..day };
        let rescheduled = recompute::for_calendar(conn, now, code)?;
        audit::<CalendarDay, CalendarDay>(
            conn,
            actor,
            now,
            "calendar.day_put",
            &format!("{code}/{}", day.date),
            None,
            Some(&day),
        )?;
        Ok(DayEdit {
            day,
            deadlines_rescheduled: rescheduled,
        })
    })
}

/// Removes a day's override and recomputes open deadlines.
pub fn delete_day(
    conn: &mut AnyConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    code: &str,
    date: NaiveDate,
) -> ServiceResult<usize> {
    actor.require_admin()?;
    store::transaction(conn, |conn| {
        let row = store::calendars::find(conn, code)?
            .ok_or_else(|| ServiceError::not_found("calendar", code))?;
        let before = store::calendars::days(conn, row.id)?
            .into_iter()
            .find(|d| d.day == date);
        let Some(before) = before else {
            return Err(ServiceError::not_found(
                "calendar day",
                format!("{code}/{date}"),
            ));
        };
        store::calendars::delete_day(conn, row.id, date)?;
        let rescheduled = recompute::for_calendar(conn, now, code)?;
        let before = CalendarDay {
            date,
            kind: day_kind(&before.kind)?,
            name: before.name,
        };
        audit::<CalendarDay, CalendarDay>(
            conn,
            actor,
            now,
            "calendar.day_delete",
            &format!("{code}/{date}"),
            Some(&before),
            None,
        )?;
        Ok(rescheduled)
    })
}
