//! Queries on `outbox`: the emails hanbao decided to send, the delivery worker's leases, and what became of them.

use diesel::prelude::*;

use super::schema::outbox;
use super::states::OutboxStatus;
use super::{AnyConnection, StoreError, TextJson, UtcDateTime};
use crate::with_conn;

/// Whom an email goes to (`outbox.recipients`, a JSON document).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Recipients {
    pub to: Vec<String>,
    pub cc: Vec<String>,
}

impl Recipients {
    /// Reads `EmailRow::recipients`. That column loads as text, not `TextJson`, on purpose: one unreadable row
    /// must fail alone (the delivery worker marks it failed), not the claim of every row beside it.
    pub fn from_stored(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// An email to send, written in the transaction of the change that caused it.
#[derive(Debug, Insertable)]
#[diesel(table_name = outbox)]
pub struct NewEmail<'a> {
    pub dedupe_key: &'a str,
    pub message_id: &'a str,
    pub recipients: TextJson<&'a Recipients>,
    pub subject: &'a str,
    pub text_body: &'a str,
    pub html_body: &'a str,
    pub next_attempt_at: UtcDateTime,
    pub created_at: UtcDateTime,
    /// The sender's display name (the coordinating office); the address is `mail_from`'s.
    pub sender_name: Option<&'a str>,
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
    pub status: OutboxStatus,
    pub attempts: i32,
    pub next_attempt_at: UtcDateTime,
    pub lease_until: Option<UtcDateTime>,
    pub last_error: Option<String>,
    pub created_at: UtcDateTime,
    pub sent_at: Option<UtcDateTime>,
    pub sender_name: Option<String>,
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
    status: Option<OutboxStatus>,
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
        .filter(outbox::status.eq(OutboxStatus::Pending))
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
                .filter(outbox::status.eq(OutboxStatus::Pending))
                .filter(outbox::next_attempt_at.le(now))
                .filter(outbox::lease_until.is_null().or(outbox::lease_until.lt(clock))),
        )
        .set((outbox::lease_until.eq(lease_until), outbox::attempts.eq(outbox::attempts + 1)))
        .returning(EmailRow::as_returning())
        .get_results(c))?;
    rows.sort_by_key(|r| r.id);
    Ok(rows)
}

/// Marks an email sent, with a note on what it went without (kept where failures keep theirs).
pub fn mark_sent(
    conn: &mut AnyConnection,
    id: i64,
    note: Option<&str>,
    now: UtcDateTime,
) -> Result<(), StoreError> {
    with_conn!(conn, c => diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq(OutboxStatus::Sent),
            outbox::sent_at.eq(now),
            outbox::lease_until.eq(None::<UtcDateTime>),
            outbox::last_error.eq(note),
        ))
        .execute(c))?;
    Ok(())
}

/// Extends the lease of claimed rows still pending under `lease` to `renewed`.
pub fn renew(
    conn: &mut AnyConnection,
    ids: &[i64],
    lease: UtcDateTime,
    renewed: UtcDateTime,
) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    with_conn!(conn, c => diesel::update(
            outbox::table
                .filter(outbox::id.eq_any(ids))
                .filter(outbox::status.eq(OutboxStatus::Pending))
                .filter(outbox::lease_until.eq(lease)),
        )
        .set(outbox::lease_until.eq(renewed))
        .execute(c))?;
    Ok(())
}

/// Releases claimed rows still pending under `lease` (only this claim's: another worker's later lease differs).
pub fn release(
    conn: &mut AnyConnection,
    ids: &[i64],
    lease: UtcDateTime,
) -> Result<(), StoreError> {
    with_conn!(conn, c => diesel::update(
            outbox::table
                .filter(outbox::id.eq_any(ids))
                .filter(outbox::status.eq(OutboxStatus::Pending))
                .filter(outbox::lease_until.eq(lease)),
        )
        .set((
            outbox::lease_until.eq(None::<UtcDateTime>),
            outbox::attempts.eq(outbox::attempts - 1),
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
                    outbox::status.eq(OutboxStatus::Failed),
                    outbox::lease_until.eq(None::<UtcDateTime>),
                    outbox::last_error.eq(error),
                ))
                .execute(c),
        }
    })?;
    Ok(())
}

/// The claim job under which a failed email is reported to the operators, once (slot: the email's id).
pub const FAILED_REPORTED: &str = "failed-email";

/// Failed emails not yet reported to the operators (no `FAILED_REPORTED` claim), oldest first, at most `limit`.
pub fn failed_unreported(
    conn: &mut AnyConnection,
    limit: i64,
) -> Result<Vec<EmailRow>, StoreError> {
    // CAST … AS TEXT reads the same on both backends; the claim's slot is the id in decimal.
    let unreported = diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
        "NOT EXISTS (SELECT 1 FROM job_claims WHERE job_claims.job = '{FAILED_REPORTED}' \
         AND job_claims.slot = CAST(outbox.id AS TEXT))"
    ));
    let rows = with_conn!(conn, c => outbox::table
        .filter(outbox::status.eq(OutboxStatus::Failed))
        .filter(unreported)
        .order(outbox::id)
        .limit(limit)
        .select(EmailRow::as_select())
        .load(c))?;
    Ok(rows)
}

/// How many outbox rows wait (`pending`) or were refused for good (`failed`), for the `/metrics` gauges; sent
/// rows, which only grow, are not counted.
pub fn email_counts(conn: &mut AnyConnection) -> Result<Vec<(OutboxStatus, i64)>, StoreError> {
    let rows = with_conn!(conn, c => outbox::table
        .filter(outbox::status.eq_any([OutboxStatus::Pending, OutboxStatus::Failed]))
        .group_by(outbox::status)
        .select((outbox::status, diesel::dsl::count_star()))
        .load::<(OutboxStatus, i64)>(c))?;
    Ok(rows)
}

/// Emails sent before `before`: counted, or removed when `remove`. Pending and failed ones are never pruned.
pub fn prune_sent(
    conn: &mut AnyConnection,
    before: UtcDateTime,
    remove: bool,
) -> Result<usize, StoreError> {
    macro_rules! old {
        () => {
            outbox::table
                .filter(outbox::status.eq(OutboxStatus::Sent))
                .filter(outbox::sent_at.lt(before))
        };
    }
    let n = if remove {
        with_conn!(conn, c => diesel::delete(old!()).execute(c))?
    } else {
        let n: i64 = with_conn!(conn, c => old!().count().get_result(c))?;
        usize::try_from(n).unwrap_or(0)
    };
    Ok(n)
}
