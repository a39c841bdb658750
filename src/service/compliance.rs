//! Compliance for the coordinating office: who reported, for which periods, on time or not, with DHIS2's rates
//! (`../shared/UX.md` §3) — as things stand now or stood at any earlier instant (`as_of`). docs/compliance.md
//! says how every number is computed.

use chrono::{DateTime, FixedOffset, NaiveDate, SubsecRound, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::{ensure_valid, Actor, PageParams, ServiceError, ServiceResult};
use crate::domain::{CellStatus, FieldError, Period, PeriodType};
use crate::store::compliance::{CellRow, ComplianceFilter, PeriodShape, PeriodTotal};
use crate::store::{self, AnyConnection, UtcDateTime};

/// Query of `GET /api/v1/compliance`. Every filter narrows; none is needed.
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ComplianceQuery {
    /// Only this plan's obligations (plan id).
    pub plan: Option<i64>,
    /// Only this obligation.
    pub obligation: Option<i64>,
    /// Only reports that go to this unit (code).
    pub recipient: Option<String>,
    /// Only this period id (`2024`, `202409`, `2024Q3`, …).
    pub period: Option<String>,
    /// Periods from this one on (with `to_period`, or alone), of the same type.
    pub from_period: Option<String>,
    /// Periods up to this one, of the same type as `from_period`.
    pub to_period: Option<String>,
    /// Only this unit (code).
    pub unit: Option<String>,
    /// This unit (code) and every unit under it.
    pub parent: Option<String>,
    /// Only rows with at least one cell in this status: on_time, late, overdue, open, returned, extended,
    /// waived.
    pub status: Option<String>,
    /// How things stood at this instant (RFC 3339) or at the start of this day (YYYY-MM-DD, in the office's time
    /// zone); default now.
    pub as_of: Option<String>,
}

/// The counts and rates of a set of deadlines, as DHIS2 defines them: `expected` leaves out waived deadlines,
/// `received` counts reports received (and not returned for revision), `on_time` those received before their
/// due instant. Rates are fractions (0.937 is 93.7 %), absent when nothing is expected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Rates {
    pub expected: i64,
    pub received: i64,
    pub on_time: i64,
    pub late: i64,
    pub overdue: i64,
    pub open: i64,
    pub returned: i64,
    pub extended: i64,
    pub waived: i64,
    /// received / expected.
    pub reporting_rate: Option<f64>,
    /// on_time / expected (DHIS2: the denominator is expected, not received).
    pub on_time_rate: Option<f64>,
}

impl Rates {
    fn count(&mut self, status: CellStatus) {
        match status {
            CellStatus::OnTime => self.on_time += 1,
            CellStatus::Late => self.late += 1,
            CellStatus::Overdue => self.overdue += 1,
            CellStatus::Open => self.open += 1,
            CellStatus::Returned => self.returned += 1,
            CellStatus::Extended => self.extended += 1,
            CellStatus::Waived => self.waived += 1,
            CellStatus::NotExpected => {}
        }
    }

    fn add(&mut self, other: &Rates) {
        self.on_time += other.on_time;
        self.late += other.late;
        self.overdue += other.overdue;
        self.open += other.open;
        self.returned += other.returned;
        self.extended += other.extended;
        self.waived += other.waived;
    }

    /// Fills in expected, received and the rates from the counts.
    fn finish(mut self) -> Self {
        self.expected =
            self.on_time + self.late + self.overdue + self.open + self.returned + self.extended;
        self.received = self.on_time + self.late;
        let rate = |n: i64| (self.expected > 0).then(|| n as f64 / self.expected as f64);
        self.reporting_rate = rate(self.received);
        self.on_time_rate = rate(self.on_time);
        self
    }
}

impl From<&PeriodTotal> for Rates {
    fn from(t: &PeriodTotal) -> Self {
        Rates {
            on_time: t.on_time,
            late: t.late,
            overdue: t.overdue,
            open: t.open,
            returned: t.returned,
            extended: t.extended,
            waived: t.waived,
            ..Rates::default()
        }
        .finish()
    }
}

/// One unit's standing for one period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Cell {
    pub period: String,
    pub status: CellStatus,
    /// The last day at `as_of` (an extension granted later is not yet counted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_day: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<FixedOffset>>,
    /// When the first report arrived.
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_at: Option<DateTime<FixedOffset>>,
    /// How late the first report came, or how long an overdue deadline has been due (ISO 8601 duration).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lateness: Option<String>,
    /// Days after the last day on which the report arrived, or, overdue, of `as_of` ("quá hạn 5 ngày").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_late: Option<i64>,
    /// The latest version received by `as_of`, and its review decision then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    /// The last day had been extended by `as_of`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub extended: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submission_id: Option<i64>,
}

/// A unit's row for one obligation: a cell per period of the answer, and the row's own totals.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ComplianceRow {
    /// Unit code.
    pub unit: String,
    pub unit_name: String,
    /// The unit closed after this day (merged or dissolved): it counts only for the periods it owned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_valid_until: Option<NaiveDate>,
    pub obligation_id: i64,
    pub obligation: String,
    /// One per entry of `periods`, in that order.
    pub cells: Vec<Cell>,
    pub totals: Rates,
}

/// The totals of one period, over every row the filters select (not only this page's).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PeriodRates {
    pub period: String,
    #[serde(flatten)]
    pub rates: Rates,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Totals {
    pub overall: Rates,
    pub per_period: Vec<PeriodRates>,
}

/// `GET /api/v1/compliance`: one page of rows, and the totals of the whole selection.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Compliance {
    /// The instant the answer describes, in the office's time zone.
    #[schema(value_type = String, format = DateTime)]
    pub as_of: DateTime<FixedOffset>,
    /// The periods of the selection, in order: the columns of the matrix.
    pub periods: Vec<String>,
    pub items: Vec<ComplianceRow>,
    pub totals: Totals,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// The checked question: the store's filter, the page, and the office's zone for `as_of`.
pub struct Question {
    pub filter: ComplianceFilter,
    pub limit: i64,
    pub after: Option<(String, i64)>,
    pub zone: Tz,
}

/// Checks a query and scopes it to what `actor` may see: a reporter its own unit, a coordinator the plans it
/// coordinates.
pub fn question(
    conn: &mut AnyConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    zone: Tz,
    query: &ComplianceQuery,
    page: &PageParams,
) -> ServiceResult<Question> {
    let mut errors = Vec::new();
    let limit = page.checked_limit(&mut errors);
    let after = page.cursor(&mut errors, position);
    let as_of = match query.as_of.as_deref() {
        Some(v) => super::deadlines::parse_instant("as_of", v, zone, &mut errors),
        // Microseconds, as the database keeps instants: what happened up to now is seen.
        None => Some(UtcDateTime(now.trunc_subsecs(6))),
    };
    let mut unit = |name: &str,
                    code: Option<&str>,
                    errors: &mut Vec<FieldError>|
     -> ServiceResult<Option<i64>> {
        match code {
            None => Ok(None),
            Some(code) => Ok(match store::units::find_by_code(conn, code)? {
                Some(unit) => Some(unit.id),
                None => {
                    errors.push(FieldError::new(
                        format!("/{name}"),
                        format!("unit `{code}` does not exist"),
                    ));
                    None
                }
            }),
        }
    };
    let recipient_id = unit("recipient", query.recipient.as_deref(), &mut errors)?;
    let unit_id = unit("unit", query.unit.as_deref(), &mut errors)?;
    let parent_id = unit("parent", query.parent.as_deref(), &mut errors)?;
    if let Some(id) = query.plan {
        if store::plans::find(conn, id)?.is_none() {
            errors.push(FieldError::new(
                "/plan",
                format!("plan {id} does not exist"),
            ));
        }
    }
    if let Some(id) = query.obligation {
        if store::obligations::find(conn, id)?.is_none() {
            errors.push(FieldError::new(
                "/obligation",
                format!("obligation {id} does not exist"),
            ));
        }
    }
    let status = match query.status.as_deref() {
        None => None,
        Some(word) => match CellStatus::parse(word).filter(|s| *s != CellStatus::NotExpected) {
            Some(s) => Some(s),
            None => {
                errors.push(FieldError::new(
                    "/status",
                    format!(
                        "`{word}` is not one of on_time, late, overdue, open, returned, extended, waived"
                    ),
                ));
                None
            }
        },
    };
    let period = query.period.as_deref().and_then(|p| {
        let parsed = period_id("period", p, &mut errors)?;
        Some(parsed.to_string())
    });
    let period_range = period_range(query, &mut errors);
    if period.is_some() && period_range.is_some() {
        errors.push(FieldError::new(
            "/period",
            "give either one period or a range (from_period, to_period), not both",
        ));
    }
    ensure_valid(errors)?;
    let scope = actor.scope(unit_id, "compliance")?;
    let (unit_id, coordinator_id) = (scope.unit_id, scope.coordinator_id);
    Ok(Question {
        filter: ComplianceFilter {
            as_of: as_of.unwrap_or(UtcDateTime(now)),
            current: query.as_of.is_none(),
            plan_id: query.plan,
            obligation_id: query.obligation,
            recipient_id,
            unit_id,
            parent_id,
            coordinator_id,
            period,
            period_range,
            status,
        },
        limit,
        after,
        zone,
    })
}

fn period_id(name: &str, value: &str, errors: &mut Vec<FieldError>) -> Option<Period> {
    match value.parse::<Period>() {
        Ok(p) => Some(p),
        Err(_) => {
            errors.push(FieldError::new(
                format!("/{name}"),
                format!(
                    "`{value}` is not a period id such as 2024, 2024S1, 2024Q3, 202409 or 2024W07"
                ),
            ));
            None
        }
    }
}

/// `from_period` … `to_period` (either may be left out: open at that end), both of one period type.
fn period_range(
    query: &ComplianceQuery,
    errors: &mut Vec<FieldError>,
) -> Option<(String, String, PeriodShape)> {
    let from = query
        .from_period
        .as_deref()
        .map(|p| period_id("from_period", p, errors));
    let to = query
        .to_period
        .as_deref()
        .map(|p| period_id("to_period", p, errors));
    let (from, to) = match (from, to) {
        (None, None) => return None,
        (Some(None), _) | (_, Some(None)) => return None,
        (from, to) => (from.flatten(), to.flatten()),
    };
    let shape = |p: &Period| match p.period_type() {
        PeriodType::Yearly => Some(PeriodShape::Year),
        PeriodType::SixMonthly => Some(PeriodShape::Half),
        PeriodType::Quarterly => Some(PeriodShape::Quarter),
        PeriodType::Monthly => Some(PeriodShape::Month),
        PeriodType::Weekly => Some(PeriodShape::Week),
        PeriodType::Once | PeriodType::Event => None,
    };
    let (pointer, one) = match (&from, &to) {
        (Some(f), _) => ("/from_period", f),
        (None, Some(t)) => ("/to_period", t),
        (None, None) => return None,
    };
    let Some(kind) = shape(one) else {
        errors.push(FieldError::new(
            pointer,
            "a range needs yearly, half-yearly, quarterly, monthly or weekly periods",
        ));
        return None;
    };
    if let (Some(f), Some(t)) = (&from, &to) {
        if shape(t) != Some(kind) {
            errors.push(FieldError::new(
                "/to_period",
                format!("`{t}` is not the same kind of period as `{f}`"),
            ));
            return None;
        }
        if t.to_string() < f.to_string() {
            errors.push(FieldError::new(
                "/to_period",
                format!("`{t}` comes before from_period `{f}`"),
            ));
            return None;
        }
    }
    // An open end: the smallest or largest id of the shape ("0000", "9999…").
    let low = from.map_or_else(|| "0".to_owned(), |p| p.to_string());
    let high = to.map_or_else(|| "9999W99".to_owned(), |p| p.to_string());
    Some((low, high, kind))
}

/// The answer to a checked question: one page of rows, and the totals of the whole selection.
pub fn compliance(conn: &mut AnyConnection, q: &Question) -> ServiceResult<Compliance> {
    let totals = store::compliance::period_totals(conn, &q.filter)?;
    let cells = store::compliance::cells(conn, &q.filter, q.after.clone(), q.limit + 1)?;
    let periods: Vec<String> = totals.iter().map(|t| t.period.clone()).collect();
    let mut items = rows(cells, &periods, q.filter.as_of.0)?;
    let next_cursor = if items.len() as i64 > q.limit {
        items.truncate(q.limit as usize);
        items
            .last()
            .map(|r| format!("{}.{}", r.obligation_id, r.unit))
    } else {
        None
    };
    let per_period: Vec<PeriodRates> = totals
        .iter()
        .map(|t| PeriodRates {
            period: t.period.clone(),
            rates: t.into(),
        })
        .collect();
    let mut overall = Rates::default();
    for p in &per_period {
        overall.add(&p.rates);
    }
    Ok(Compliance {
        as_of: q.filter.as_of.0.with_timezone(&q.zone).fixed_offset(),
        periods,
        items,
        totals: Totals {
            overall: overall.finish(),
            per_period,
        },
        next_cursor,
    })
}

/// Groups the cells (ordered by unit, obligation, period) into rows with a cell for every period.
fn rows(
    cells: Vec<CellRow>,
    periods: &[String],
    as_of: DateTime<Utc>,
) -> ServiceResult<Vec<ComplianceRow>> {
    let mut out: Vec<(ComplianceRow, Vec<CellRow>)> = Vec::new();
    for cell in cells {
        match out.last_mut() {
            Some((row, group))
                if row.unit == cell.unit_code && row.obligation_id == cell.obligation_id =>
            {
                group.push(cell)
            }
            _ => out.push((
                ComplianceRow {
                    unit: cell.unit_code.clone(),
                    unit_name: cell.unit_name.clone(),
                    unit_valid_until: cell.valid_until,
                    obligation_id: cell.obligation_id,
                    obligation: cell.obligation_title.clone(),
                    cells: Vec::new(),
                    totals: Rates::default(),
                },
                vec![cell],
            )),
        }
    }
    out.into_iter()
        .map(|(mut row, group)| {
            let mut totals = Rates::default();
            for period in periods {
                let cell = match group.iter().find(|c| &c.period == period) {
                    Some(c) => self::cell(c, as_of)?,
                    None => not_expected(period),
                };
                totals.count(cell.status);
                row.cells.push(cell);
            }
            row.totals = totals.finish();
            Ok(row)
        })
        .collect()
}

fn not_expected(period: &str) -> Cell {
    Cell {
        period: period.to_owned(),
        status: CellStatus::NotExpected,
        last_day: None,
        due_at: None,
        received_at: None,
        lateness: None,
        days_late: None,
        version: None,
        decision: None,
        extended: false,
        deadline_id: None,
        submission_id: None,
    }
}

fn cell(c: &CellRow, as_of: DateTime<Utc>) -> ServiceResult<Cell> {
    let tz: Tz = c
        .time_zone
        .parse()
        .map_err(|_| ServiceError::data(format!("unit {} time zone", c.unit_code)))?;
    let status = CellStatus::parse(&c.status)
        .ok_or_else(|| ServiceError::data(format!("compliance status `{}`", c.status)))?;
    let due = c.due_at.0;
    // The last day at `as_of`: the stored one, or, before a later extension, the day before the earlier due.
    let last_day = if c.due_at == c.due_now {
        c.last_day
    } else {
        let local = due.with_timezone(&tz).date_naive();
        local.pred_opt().unwrap_or(local)
    };
    let late_until = match status {
        CellStatus::Late => c.received_at.map(|t| t.0),
        CellStatus::Overdue => Some(as_of),
        _ => None,
    };
    Ok(Cell {
        period: c.period.clone(),
        status,
        last_day: Some(last_day),
        due_at: Some(due.with_timezone(&tz).fixed_offset()),
        received_at: c.received_at.map(|t| t.0.with_timezone(&tz).fixed_offset()),
        lateness: late_until.map(|t| super::submissions::iso_duration((t - due).num_seconds())),
        days_late: late_until.map(|t| (t.with_timezone(&tz).date_naive() - last_day).num_days()),
        version: c.version,
        decision: c.decision.clone(),
        extended: c.extended,
        deadline_id: Some(c.deadline_id),
        submission_id: c.submission_id,
    })
}

/// The keyset position a `next_cursor` names: (unit code, obligation id), written `<obligation>.<code>`.
pub fn position(cursor: &str) -> Option<(String, i64)> {
    let (obligation, code) = cursor.split_once('.')?;
    Some((code.to_owned(), obligation.parse().ok()?))
}

/// Every page of a question at once (for a workbook, which is written whole).
pub fn all(conn: &mut AnyConnection, mut q: Question) -> ServiceResult<Compliance> {
    q.limit = super::MAX_LIMIT;
    q.after = None;
    let mut answer = compliance(conn, &q)?;
    while let Some(cursor) = answer.next_cursor.take() {
        q.after = position(&cursor);
        let next = compliance(conn, &q)?;
        answer.items.extend(next.items);
        answer.next_cursor = next.next_cursor;
    }
    Ok(answer)
}

/// The number of the plan a question is about, when it names one (by plan or obligation): for a file's title.
pub fn plan_of(conn: &mut AnyConnection, q: &Question) -> ServiceResult<Option<String>> {
    let plan_id = match (q.filter.plan_id, q.filter.obligation_id) {
        (Some(id), _) => Some(id),
        (None, Some(obligation)) => store::obligations::find(conn, obligation)?.map(|o| o.plan_id),
        (None, None) => None,
    };
    Ok(match plan_id {
        Some(id) => store::plans::find(conn, id)?.map(|p| p.number),
        None => None,
    })
}

/// The totals of each period of a question (no rows), in period order.
pub fn period_rates(conn: &mut AnyConnection, q: &Question) -> ServiceResult<Vec<(String, Rates)>> {
    Ok(store::compliance::period_totals(conn, &q.filter)?
        .iter()
        .map(|t| {
            let mut rates = Rates::default();
            rates.add(&Rates::from(t));
            (t.period.clone(), rates.finish())
        })
        .collect())
}

/// The overall totals of a question only (no rows).
pub fn totals(conn: &mut AnyConnection, q: &Question) -> ServiceResult<Rates> {
    let mut overall = Rates::default();
    for t in store::compliance::period_totals(conn, &q.filter)? {
        overall.add(&Rates::from(&t));
    }
    Ok(overall.finish())
}
