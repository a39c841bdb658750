//! Queries on `submissions`, `idempotency_keys` and `outbox`.

use diesel::prelude::*;

use super::schema::{deadlines, idempotency_keys, outbox, submissions};
use super::{AnyConnection, StoreError, UtcDateTime};
use crate::with_conn;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = submissions)]
pub struct SubmissionRow {
    pub id: i64,
    pub deadline_id: i64,
    pub unit_id: i64,
    pub version: i32,
    pub payload: String,
    pub note: Option<String>,
    pub received_at: UtcDateTime,
    pub on_time: bool,
    pub filed_by: String,
    pub on_behalf: bool,
    pub review_decision: Option<String>,
    pub review_comment: Option<String>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<UtcDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = submissions)]
pub struct NewSubmission<'a> {
    pub deadline_id: i64,
    pub unit_id: i64,
    pub version: i32,
    pub payload: &'a str,
    pub note: Option<&'a str>,
    pub received_at: UtcDateTime,
    pub on_time: bool,
    pub filed_by: &'a str,
    pub on_behalf: bool,
}

/// Inserts a submission and returns the stored row (one round trip: INSERT … RETURNING).
pub fn insert(
    conn: &mut AnyConnection,
    row: &NewSubmission<'_>,
) -> Result<SubmissionRow, StoreError> {
    let stored = with_conn!(conn, c => diesel::insert_into(submissions::table)
        .values(row)
        .returning(SubmissionRow::as_returning())
        .get_result(c))?;
    Ok(stored)
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

/// How many versions a deadline has (the next one's number is this plus one); an index-only count, where
/// reading the versions would read every payload.
pub fn count_of_deadline(conn: &mut AnyConnection, deadline_id: i64) -> Result<i64, StoreError> {
    let n = with_conn!(conn, c => submissions::table
        .filter(submissions::deadline_id.eq(deadline_id))
        .count()
        .get_result(c))?;
    Ok(n)
}

pub fn review(
    conn: &mut AnyConnection,
    id: i64,
    decision: &str,
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

/// Sets a deadline's stored state (and its first submission time, when given). None of these states gets
/// reminders or escalations, so the deadline leaves the notice tick's index.
pub fn set_deadline_state(
    conn: &mut AnyConnection,
    deadline_id: i64,
    state: &str,
    submitted_at: Option<UtcDateTime>,
    now: UtcDateTime,
) -> Result<(), StoreError> {
    with_conn!(conn, c => {
        let target = diesel::update(deadlines::table.find(deadline_id));
        match submitted_at {
            Some(at) => target
                .set((
                    deadlines::state.eq(state),
                    deadlines::submitted_at.eq(at),
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
    pub response_body: String,
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

/// An email to send, written in the transaction of the change that caused it.
#[derive(Debug, Insertable)]
#[diesel(table_name = outbox)]
pub struct NewEmail<'a> {
    pub dedupe_key: &'a str,
    pub message_id: &'a str,
    pub recipients: &'a str,
    pub subject: &'a str,
    pub text_body: &'a str,
    pub html_body: &'a str,
    pub next_attempt_at: UtcDateTime,
    pub created_at: UtcDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub struct EmailRow {
    pub id: i64,
    pub dedupe_key: String,
    pub message_id: String,
    pub recipients: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: UtcDateTime,
    pub lease_until: Option<UtcDateTime>,
    pub last_error: Option<String>,
    pub created_at: UtcDateTime,
    pub sent_at: Option<UtcDateTime>,
}

pub fn insert_email(conn: &mut AnyConnection, email: &NewEmail<'_>) -> Result<(), StoreError> {
    with_conn!(conn, c => diesel::insert_into(outbox::table).values(email).execute(c))?;
    Ok(())
}

/// Inserts many emails in multi-row INSERTs; a dedupe key already queued is skipped. Returns how many went in.
pub fn insert_emails(
    conn: &mut AnyConnection,
    emails: &[NewEmail<'_>],
) -> Result<usize, StoreError> {
    let mut inserted = 0;
    // 8 parameters a row.
    for chunk in emails.chunks(1000) {
        // diesel has no multi-row ON CONFLICT for SQLite; INSERT OR IGNORE is the same thing there.
        inserted += match conn {
            AnyConnection::Pg(c) => diesel::insert_into(outbox::table)
                .values(chunk)
                .on_conflict_do_nothing()
                .execute(c)?,
            AnyConnection::Sqlite(c) => diesel::insert_or_ignore_into(outbox::table)
                .values(chunk)
                .execute(c)?,
        };
    }
    Ok(inserted)
}

pub fn emails(
    conn: &mut AnyConnection,
    status: Option<&str>,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<EmailRow>, StoreError> {
    let rows = with_conn!(conn, c => {
        let mut q = outbox::table.select(EmailRow::as_select()).order(outbox::id).limit(limit).into_boxed();
        if let Some(status) = status {
            q = q.filter(outbox::status.eq(status));
        }
        if let Some(after) = after {
            q = q.filter(outbox::id.gt(after));
        }
        q.load(c)
    })?;
    Ok(rows)
}

/// Claims up to `limit` due emails (pending, next attempt due at `now`, no lease running at `clock`), oldest
/// first, for sending until `lease_until`, and counts the attempt. The UPDATE repeats the conditions, so of several workers racing for a
/// row exactly one gets it back (PostgreSQL re-checks them on the locked row; SQLite writes one at a time).
pub fn claim_due_emails(
    conn: &mut AnyConnection,
    now: UtcDateTime,
    clock: UtcDateTime,
    lease_until: UtcDateTime,
    limit: i64,
) -> Result<Vec<EmailRow>, StoreError> {
    let ids: Vec<i64> = with_conn!(conn, c => outbox::table
        .filter(outbox::status.eq("pending"))
        .filter(outbox::next_attempt_at.le(now))
        .filter(outbox::lease_until.is_null().or(outbox::lease_until.lt(clock)))
        .order((outbox::next_attempt_at, outbox::id))
        .limit(limit)
        .select(outbox::id)
        .load(c))?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows: Vec<EmailRow> = with_conn!(conn, c => diesel::update(
            outbox::table
                .filter(outbox::id.eq_any(&ids))
                .filter(outbox::status.eq("pending"))
                .filter(outbox::next_attempt_at.le(now))
                .filter(outbox::lease_until.is_null().or(outbox::lease_until.lt(clock))),
        )
        .set((outbox::lease_until.eq(lease_until), outbox::attempts.eq(outbox::attempts + 1)))
        .returning(EmailRow::as_returning())
        .get_results(c))?;
    rows.sort_by_key(|r| r.id);
    Ok(rows)
}

/// Marks emails sent.
pub fn mark_sent(
    conn: &mut AnyConnection,
    ids: &[i64],
    now: UtcDateTime,
) -> Result<(), StoreError> {
    with_conn!(conn, c => diesel::update(outbox::table.filter(outbox::id.eq_any(ids)))
        .set((
            outbox::status.eq("sent"),
            outbox::sent_at.eq(now),
            outbox::lease_until.eq(None::<UtcDateTime>),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(c))?;
    Ok(())
}

/// A failed attempt: retried at `retry_at`, or given up (`failed`) when `retry_at` is `None`.
pub fn mark_failed(
    conn: &mut AnyConnection,
    id: i64,
    error: &str,
    retry_at: Option<UtcDateTime>,
) -> Result<(), StoreError> {
    with_conn!(conn, c => {
        let target = diesel::update(outbox::table.find(id));
        match retry_at {
            Some(at) => target
                .set((
                    outbox::next_attempt_at.eq(at),
                    outbox::lease_until.eq(None::<UtcDateTime>),
                    outbox::last_error.eq(error),
                ))
                .execute(c),
            None => target
                .set((
                    outbox::status.eq("failed"),
                    outbox::lease_until.eq(None::<UtcDateTime>),
                    outbox::last_error.eq(error),
                ))
                .execute(c),
        }
    })?;
    Ok(())
}

/// How many outbox rows wait (`pending`) or were refused for good (`failed`), for the `/metrics` gauges; sent
/// rows, which only grow, are not counted.
pub fn email_counts(conn: &mut AnyConnection) -> Result<Vec<(String, i64)>, StoreError> {
    let rows = with_conn!(conn, c => outbox::table
        .filter(outbox::status.eq_any(["pending", "failed"]))
        .group_by(outbox::status)
        .select((outbox::status, diesel::dsl::count_star()))
        .load::<(String, i64)>(c))?;
    Ok(rows)
}
