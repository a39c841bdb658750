//! Submissions (báo cáo): filing with receipts, versions, review, and the extensions and waivers of deadlines.
//!
//! Timeliness is judged on the first submission of a deadline; later versions keep that judgement. Filing is
//! [`filing`] (with [`idempotency`] and the compiled [`form`]s), review is [`review`], extensions and waivers are
//! [`decisions`]; this file holds the types the API shows and the views of stored submissions.

mod decisions;
mod filing;
mod form;
mod idempotency;
mod review;

pub use decisions::{extend, waive};
pub use filing::submit;
pub use idempotency::StoredResponse;
pub use review::review;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::service::deadlines::{self as deadline_views};
use crate::service::{ensure_valid, Actor, Page, PageParams, ServiceError, ServiceResult};
use crate::store::deadlines::DeadlineRow;
pub use crate::store::states::ReviewDecision;
use crate::store::submissions::SubmissionRow;
use crate::store::units::UnitRow;
use crate::store::{self, AnyConnection};

/// Body of `POST /api/v1/submissions`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubmissionInput {
    pub obligation_id: i64,
    /// Period id, e.g. `2024`, `202409`, `once`, `E12`.
    pub period: String,
    /// The unit reported for. A reporter's token decides it; an admin or coordinator must name it
    /// (the submission is then recorded as filed on the unit's behalf).
    #[serde(default)]
    pub unit: Option<String>,
    /// The report, checked against the obligation's form (JSON Schema) when it has one.
    #[schema(value_type = Object)]
    pub payload: Value,
    #[serde(default)]
    pub note: Option<String>,
    /// For a report that arrived on paper or through the document system, filed by the office on the unit's
    /// behalf (admins and coordinators only): the day it arrived. Timeliness is judged on it: on time when it
    /// is on or before the last day. Not in the future, not before the period starts.
    #[serde(default)]
    pub received_on: Option<NaiveDate>,
    /// The incoming document's number ("số đến"), with `received_on`. At most 100 characters.
    #[serde(default)]
    pub document_ref: Option<String>,
}

/// What a filing answers: the receipt.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Receipt {
    pub id: i64,
    pub deadline_id: i64,
    pub unit: String,
    pub period: String,
    /// Server time of receipt, with the unit's offset (like `due_at`).
    #[schema(value_type = String, format = DateTime)]
    pub received_at: DateTime<FixedOffset>,
    /// Judged on the deadline's first submission.
    pub on_time: bool,
    /// How late the first submission was (ISO 8601 duration), when late.
    pub lateness: Option<String>,
    pub version: i32,
    /// True when an admin or coordinator filed for the unit.
    pub on_behalf: bool,
    pub filed_by: String,
    /// The day a report filed on the unit's behalf arrived on paper, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_on: Option<NaiveDate>,
    /// The incoming document's number, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_ref: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Review {
    /// `accept` or `return`.
    #[schema(value_type = String)]
    pub decision: ReviewDecision,
    pub comment: Option<String>,
    pub reviewed_by: String,
    pub reviewed_at: DateTime<Utc>,
}

/// A submission with its payload and review.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Submission {
    #[serde(flatten)]
    pub receipt: Receipt,
    /// The reporting unit's name (`unit` is its code).
    pub unit_name: String,
    pub obligation_id: i64,
    #[schema(value_type = Object)]
    pub payload: Value,
    pub note: Option<String>,
    pub review: Option<Review>,
}

/// Body of `POST /api/v1/submissions/{id}/review`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    pub decision: ReviewDecision,
    #[serde(default)]
    pub comment: Option<String>,
}

/// Body of `POST /api/v1/deadlines/{id}/extension`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionInput {
    /// The new last day (later than the current one).
    pub last_day: NaiveDate,
    pub reason: String,
}

/// Body of `POST /api/v1/deadlines/{id}/waiver`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WaiverInput {
    pub reason: String,
}

/// `PT3H12M`, `P2DT1H`: how late, to the second.
pub fn iso_duration(seconds: i64) -> String {
    let s = seconds.max(0);
    let (days, hours, minutes, secs) = (s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
    let mut out = String::from("P");
    if days > 0 {
        out.push_str(&format!("{days}D"));
    }
    if hours + minutes + secs > 0 || days == 0 {
        out.push('T');
        if hours > 0 {
            out.push_str(&format!("{hours}H"));
        }
        if minutes > 0 {
            out.push_str(&format!("{minutes}M"));
        }
        if secs > 0 || (hours == 0 && minutes == 0) {
            out.push_str(&format!("{secs}S"));
        }
    }
    out
}

/// The seconds of a duration [`iso_duration`] wrote; `None` for anything else.
pub fn iso_seconds(text: &str) -> Option<i64> {
    let rest = text.strip_prefix('P')?;
    let (days, time) = match rest.split_once('T') {
        Some((days, time)) => (days, time),
        None => (rest, ""),
    };
    let mut total = 0i64;
    if !days.is_empty() {
        total += days.strip_suffix('D')?.parse::<i64>().ok()? * 86_400;
    }
    let mut number = String::new();
    for c in time.chars() {
        match c {
            '0'..='9' => number.push(c),
            'H' | 'M' | 'S' => {
                let n: i64 = std::mem::take(&mut number).parse().ok()?;
                total += n * match c {
                    'H' => 3_600,
                    'M' => 60,
                    _ => 1,
                };
            }
            _ => return None,
        }
    }
    number.is_empty().then_some(total)
}

fn load(conn: &mut AnyConnection, id: i64) -> ServiceResult<SubmissionRow> {
    store::submissions::find(conn, id)?
        .ok_or_else(|| ServiceError::data(format!("submission {id} vanished")))
}

fn receipt(row: SubmissionRow, deadline: &DeadlineRow, unit: &UnitRow) -> ServiceResult<Receipt> {
    let tz: Tz = unit.time_zone.parse().map_err(|_| {
        ServiceError::data(format!("unit {} time zone `{}`", unit.code, unit.time_zone))
    })?;
    let lateness = (!row.on_time).then(|| match deadline.submitted_on.or(row.received_on) {
        // On paper only the day is known: late by the days after the last day ("nộp muộn 3 ngày").
        Some(arrived) => format!("P{}D", (arrived - deadline.last_day).num_days().max(1)),
        None => {
            let first = deadline.submitted_at.map_or(row.received_at.0, |t| t.0);
            iso_duration((first.min(row.received_at.0) - deadline.due_at.0).num_seconds())
        }
    });
    Ok(Receipt {
        id: row.id,
        deadline_id: row.deadline_id,
        unit: unit.code.clone(),
        period: deadline.period.clone(),
        received_at: row.received_at.0.with_timezone(&tz).fixed_offset(),
        on_time: row.on_time,
        lateness,
        version: row.version,
        on_behalf: row.on_behalf,
        filed_by: row.filed_by,
        received_on: row.received_on,
        document_ref: row.document_ref,
    })
}

/// The deadline, unit and plan of a submission, after checking the actor may see it.
fn visible(
    conn: &mut AnyConnection,
    actor: &Actor,
    row: &SubmissionRow,
) -> ServiceResult<(DeadlineRow, UnitRow, store::plans::PlanRow)> {
    let (deadline, _, _) = store::deadlines::find(conn, row.deadline_id)?
        .ok_or_else(|| ServiceError::data(format!("submission {} has no deadline", row.id)))?;
    let unit = store::units::find(conn, row.unit_id)?
        .ok_or_else(|| ServiceError::data(format!("unit {}", row.unit_id)))?;
    let obligation = store::obligations::find(conn, deadline.obligation_id)?
        .ok_or_else(|| ServiceError::data(format!("deadline {} has no obligation", deadline.id)))?;
    let plan =
        store::plans::find(conn, obligation.plan_id)?.ok_or_else(|| ServiceError::data("plan"))?;
    if !actor.may_see(unit.id, plan.coordinator_id) {
        return Err(ServiceError::not_found("submission", row.id));
    }
    Ok((deadline, unit, plan))
}

fn view(conn: &mut AnyConnection, actor: &Actor, row: SubmissionRow) -> ServiceResult<Submission> {
    let (deadline, unit, _) = visible(conn, actor, &row)?;
    let review = match (&row.review_decision, &row.reviewed_by, row.reviewed_at) {
        (Some(decision), Some(by), Some(at)) => Some(Review {
            decision: *decision,
            comment: row.review_comment.clone(),
            reviewed_by: by.clone(),
            reviewed_at: at.into(),
        }),
        _ => None,
    };
    let payload = row.payload.0.clone();
    let note = row.note.clone();
    Ok(Submission {
        unit_name: unit.name.clone(),
        obligation_id: deadline.obligation_id,
        receipt: receipt(row, &deadline, &unit)?,
        payload,
        note,
        review,
    })
}

pub fn get(conn: &mut AnyConnection, actor: &Actor, id: i64) -> ServiceResult<Submission> {
    let row = store::submissions::find(conn, id)?
        .ok_or_else(|| ServiceError::not_found("submission", id))?;
    view(conn, actor, row)
}

/// The versions filed for a deadline, oldest first, a page at a time like every list.
pub fn of_deadline(
    conn: &mut AnyConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    deadline_id: i64,
    page: &PageParams,
) -> ServiceResult<Page<Submission>> {
    let mut errors = Vec::new();
    let (limit, after) = page.resolve(&mut errors);
    ensure_valid(errors)?;
    deadline_views::get(conn, actor, now, deadline_id)?;
    let rows = store::submissions::of_deadline_page(conn, deadline_id, after, limit + 1)?;
    Page::from_rows(rows, limit, |r| r.id, |row| view(conn, actor, row))
}

/// Query of `GET /api/v1/submissions`. Every filter narrows.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubmissionQuery {
    /// Only this obligation's.
    pub obligation: Option<i64>,
    /// Only this period id's.
    pub period: Option<String>,
    /// Only this unit's (code).
    pub unit: Option<String>,
    /// Received at or after this instant (RFC 3339) or day (YYYY-MM-DD, in the office's time zone).
    pub since: Option<String>,
    /// Only those the office filed on a unit's behalf (`true`) or the unit itself (`false`).
    pub on_behalf: Option<bool>,
    /// accept, return, or none (not reviewed yet).
    pub decision: Option<String>,
}

/// Submissions, newest last, scoped like every list: a reporter sees its own unit's, a coordinator those of the
/// plans it coordinates.
pub fn list(
    conn: &mut AnyConnection,
    actor: &Actor,
    zone: chrono_tz::Tz,
    query: &SubmissionQuery,
    page: &PageParams,
) -> ServiceResult<Page<Submission>> {
    use crate::domain::FieldError;
    let mut errors = Vec::new();
    let (limit, after) = page.resolve(&mut errors);
    let mut filter = store::submissions::SubmissionFilter {
        obligation_id: query.obligation,
        on_behalf: query.on_behalf,
        after,
        limit: limit + 1,
        ..Default::default()
    };
    if let Some(period) = &query.period {
        match period.parse::<crate::domain::Period>() {
            Ok(p) => filter.period = Some(p.to_string()),
            Err(_) => errors.push(FieldError::new(
                "/period",
                format!("`{period}` is not a period id such as 2024, 2024Q3 or 202409"),
            )),
        }
    }
    if let Some(code) = &query.unit {
        match store::units::find_by_code(conn, code)? {
            Some(unit) => filter.unit_id = Some(unit.id),
            None => errors.push(FieldError::new(
                "/unit",
                format!("unit `{code}` does not exist"),
            )),
        }
    }
    if let Some(since) = &query.since {
        filter.since = deadline_views::parse_instant("since", since, zone, &mut errors);
    }
    if let Some(word) = &query.decision {
        match (word.as_str(), ReviewDecision::parse(word)) {
            ("none", _) => filter.decision = Some(None),
            (_, Some(d)) => filter.decision = Some(Some(d)),
            (_, None) => errors.push(FieldError::new(
                "/decision",
                format!("`{word}` is not one of accept, return, none"),
            )),
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
    ensure_valid(errors)?;
    let scope = actor.scope(filter.unit_id, "submissions")?;
    (filter.unit_id, filter.coordinator_id) = (scope.unit_id, scope.coordinator_id);
    let rows = store::submissions::list(conn, &filter)?;
    Page::from_rows(rows, limit, |r| r.id, |row| view(conn, actor, row))
}

#[cfg(test)]
mod tests {
    use super::{iso_duration, iso_seconds};

    #[test]
    fn iso_durations_read_back() {
        for seconds in [
            0,
            1,
            59,
            60,
            3599,
            3600,
            86_399,
            86_400,
            2 * 86_400 + 3601,
            400 * 86_400 + 61,
        ] {
            assert_eq!(
                iso_seconds(&iso_duration(seconds)),
                Some(seconds),
                "{seconds}"
            );
        }
        assert_eq!(iso_seconds("PT"), Some(0));
        assert_eq!(iso_seconds("P1W"), None);
        assert_eq!(iso_seconds("PT5"), None);
        assert_eq!(iso_seconds("5S"), None);
    }

    #[test]
    fn iso_durations() {
        assert_eq!(iso_duration(0), "PT0S");
        assert_eq!(iso_duration(59), "PT59S");
        assert_eq!(iso_duration(3 * 3600 + 12 * 60), "PT3H12M");
        assert_eq!(iso_duration(2 * 86400), "P2D");
        assert_eq!(iso_duration(2 * 86400 + 3600 + 1), "P2DT1H1S");
    }
}
