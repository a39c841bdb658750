//! Queries on `submissions` and `idempotency_keys`.

use diesel::prelude::*;

use super::schema::{deadlines, idempotency_keys, submissions};
use super::states::{DeadlineState, ReviewDecision};
use super::{AnyConnection, StoreError, TextJson, UtcDateTime};
use crate::with_conn;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = submissions)]
pub struct SubmissionRow {
    pub id: i64,
    pub deadline_id: i64,
    pub unit_id: i64,
    pub version: i32,
    pub payload: TextJson<serde_json::Value>,
    pub note: Option<String>,
    pub received_at: UtcDateTime,
    pub on_time: bool,
    pub filed_by: String,
    pub on_behalf: bool,
    pub review_decision: Option<ReviewDecision>,
    pub review_comment: Option<String>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<UtcDateTime>,
    /// When the office files a report that arrived on paper: the day it arrived, and its incoming number.
    pub received_on: Option<chrono::NaiveDate>,
    pub document_ref: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = submissions)]
pub struct NewSubmission<'a> {
    pub deadline_id: i64,
    pub unit_id: i64,
    pub payload: TextJson<&'a serde_json::Value>,
    pub note: Option<&'a str>,
    pub received_at: UtcDateTime,
    pub on_time: bool,
    pub filed_by: &'a str,
    pub on_behalf: bool,
    pub received_on: Option<chrono::NaiveDate>,
    pub document_ref: Option<&'a str>,
}

/// Inserts a submission as the next version of its deadline and returns the stored row: one round trip, the
/// version counted by the INSERT itself (the caller holds the deadline's row lock, so versions never clash).
pub fn insert(
    conn: &mut AnyConnection,
    row: &NewSubmission<'_>,
) -> Result<SubmissionRow, StoreError> {
    let next_version = diesel::dsl::sql::<diesel::sql_types::Integer>(
        "(SELECT COALESCE(MAX(s.version), 0) + 1 FROM submissions s WHERE s.deadline_id = ",
    )
    .bind::<diesel::sql_types::BigInt, _>(row.deadline_id)
    .sql(")");
    let stored = with_conn!(conn, c => diesel::insert_into(submissions::table)
        .values((row, submissions::version.eq(next_version.clone())))
        .returning(SubmissionRow::as_returning())
        .get_result(c))?;
    Ok(stored)
}

/// The latest version of every deadline of (obligation, period) that has one.
pub fn latest_of_period(
    conn: &mut AnyConnection,
    obligation_id: i64,
    period: &str,
) -> Result<Vec<SubmissionRow>, StoreError> {
    let rows: Vec<SubmissionRow> = with_conn!(conn, c => submissions::table
        .inner_join(deadlines::table)
        .filter(deadlines::obligation_id.eq(obligation_id))
        .filter(deadlines::period.eq(period))
        .order((submissions::deadline_id, submissions::version.desc()))
        .select(SubmissionRow::as_select())
        .load(c))?;
    let mut latest: Vec<SubmissionRow> = Vec::new();
    for row in rows {
        if latest
            .last()
            .is_none_or(|l| l.deadline_id != row.deadline_id)
        {
            latest.push(row);
        }
    }
    Ok(latest)
}

/// Which submissions a list shows; every filter narrows.
#[derive(Debug, Clone, Default)]
pub struct SubmissionFilter {
    pub obligation_id: Option<i64>,
    pub period: Option<String>,
    pub unit_id: Option<i64>,
    /// Received at or after this instant.
    pub since: Option<UtcDateTime>,
    pub on_behalf: Option<bool>,
    /// `Some(None)`: not reviewed yet.
    pub decision: Option<Option<ReviewDecision>>,
    /// A coordinator's scope: the plans it coordinates.
    pub coordinator_id: Option<i64>,
    pub after: Option<i64>,
    pub limit: i64,
}

/// Submissions in id order (the order they were received in).
pub fn list(
    conn: &mut AnyConnection,
    f: &SubmissionFilter,
) -> Result<Vec<SubmissionRow>, StoreError> {
    use super::schema::{obligations, plans};
    let rows = with_conn!(conn, c => {
        let mut q = submissions::table
            .inner_join(deadlines::table)
            .select(SubmissionRow::as_select())
            .order(submissions::id)
            .limit(f.limit)
            .into_boxed();
        if let Some(id) = f.obligation_id {
            q = q.filter(deadlines::obligation_id.eq(id));
        }
        if let Some(period) = &f.period {
            q = q.filter(deadlines::period.eq(period.clone()));
        }
        if let Some(unit) = f.unit_id {
            q = q.filter(submissions::unit_id.eq(unit));
        }
        if let Some(since) = f.since {
            q = q.filter(submissions::received_at.ge(since));
        }
        if let Some(on_behalf) = f.on_behalf {
            q = q.filter(submissions::on_behalf.eq(on_behalf));
        }
        match f.decision {
            Some(Some(decision)) => q = q.filter(submissions::review_decision.eq(decision)),
            Some(None) => q = q.filter(submissions::review_decision.is_null()),
            None => {}
        }
        if let Some(coordinator) = f.coordinator_id {
            q = q.filter(
                deadlines::obligation_id.eq_any(
                    obligations::table
                        .inner_join(plans::table)
                        .filter(plans::coordinator_id.eq(coordinator))
                        .select(obligations::id),
                ),
            );
        }
        if let Some(after) = f.after {
            q = q.filter(submissions::id.gt(after));
        }
        q.load(c)
    })?;
    Ok(rows)
}

pub fn find(conn: &mut AnyConnection, id: i64) -> Result<Option<SubmissionRow>, StoreError> {
    let row = with_conn!(conn, c => submissions::table.find(id).select(SubmissionRow::as_select()).first(c).optional())?;
    Ok(row)
}

/// Every version filed for a deadline, oldest first.
pub fn of_deadline(
    conn: &mut AnyConnection,
    deadline_id: i64,
) -> Result<Vec<SubmissionRow>, StoreError> {
    let rows = with_conn!(conn, c => submissions::table
        .filter(submissions::deadline_id.eq(deadline_id))
        .order(submissions::version)
        .select(SubmissionRow::as_select())
        .load(c))?;
    Ok(rows)
}

/// A page of a deadline's versions, oldest first (ids grow with versions), after the submission id `after`.
pub fn of_deadline_page(
    conn: &mut AnyConnection,
    deadline_id: i64,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<SubmissionRow>, StoreError> {
    let rows = with_conn!(conn, c => submissions::table
        .filter(submissions::deadline_id.eq(deadline_id))
        .filter(submissions::id.gt(after.unwrap_or(0)))
        .order(submissions::id)
        .limit(limit)
        .select(SubmissionRow::as_select())
        .load(c))?;
    Ok(rows)
}

pub fn review(
    conn: &mut AnyConnection,
    id: i64,
    decision: ReviewDecision,
    comment: Option<&str>,
    by: &str,
    at: UtcDateTime,
) -> Result<(), StoreError> {
    with_conn!(conn, c => diesel::update(submissions::table.find(id))
        .set((
            submissions::review_decision.eq(decision),
            submissions::review_comment.eq(comment),
            submissions::reviewed_by.eq(by),
            submissions::reviewed_at.eq(at),
        ))
        .execute(c))?;
    Ok(())
}

/// The first report of a deadline: when it counts as received, and the day it arrived when it came on paper.
#[derive(Debug, Clone, Copy)]
pub struct FirstReport {
    pub at: UtcDateTime,
    pub on: Option<chrono::NaiveDate>,
}

/// Sets a deadline's stored state (and its first report, when given). None of these states gets reminders or
/// escalations, so the deadline leaves the notice tick's index.
pub fn set_deadline_state(
    conn: &mut AnyConnection,
    deadline_id: i64,
    state: DeadlineState,
    first: Option<FirstReport>,
    now: UtcDateTime,
) -> Result<(), StoreError> {
    with_conn!(conn, c => {
        let target = diesel::update(deadlines::table.find(deadline_id));
        match first {
            Some(first) => target
                .set((
                    deadlines::state.eq(state),
                    deadlines::submitted_at.eq(first.at),
                    deadlines::submitted_on.eq(first.on),
                    deadlines::updated_at.eq(now),
                    deadlines::next_notice_at.eq(None::<UtcDateTime>),
                ))
                .execute(c),
            None => target
                .set((
                    deadlines::state.eq(state),
                    deadlines::updated_at.eq(now),
                    deadlines::next_notice_at.eq(None::<UtcDateTime>),
                ))
                .execute(c),
        }
    })?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
pub struct IdempotencyRow {
    pub actor: String,
    pub key: String,
    pub request_hash: String,
    pub response_status: i32,
    pub response_body: TextJson<serde_json::Value>,
    pub created_at: UtcDateTime,
}

pub fn find_idempotency(
    conn: &mut AnyConnection,
    actor: &str,
    key: &str,
) -> Result<Option<IdempotencyRow>, StoreError> {
    let row = with_conn!(conn, c => idempotency_keys::table
        .filter(idempotency_keys::actor.eq(actor))
        .filter(idempotency_keys::key.eq(key))
        .select(IdempotencyRow::as_select())
        .first(c)
        .optional())?;
    Ok(row)
}

pub fn insert_idempotency(
    conn: &mut AnyConnection,
    row: &IdempotencyRow,
) -> Result<(), StoreError> {
    with_conn!(conn, c => diesel::insert_into(idempotency_keys::table).values(row).execute(c))?;
    Ok(())
}

/// Idempotency keys stored before `before`: counted, or removed when `remove` (a retry comes within minutes, not
/// a week later).
pub fn prune_idempotency(
    conn: &mut AnyConnection,
    before: UtcDateTime,
    remove: bool,
) -> Result<usize, StoreError> {
    let old = idempotency_keys::created_at.lt(before);
    let n = if remove {
        with_conn!(conn, c => diesel::delete(idempotency_keys::table.filter(old)).execute(c))?
    } else {
        let n: i64 =
            with_conn!(conn, c => idempotency_keys::table.filter(old).count().get_result(c))?;
        usize::try_from(n).unwrap_or(0)
    };
    Ok(n)
}
