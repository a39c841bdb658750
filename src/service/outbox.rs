//! The outbox: the emails hanbao has decided to send, what became of them, and the delivery worker's claims.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ensure_valid, Actor, Page, PageParams, ServiceError, ServiceResult};
use crate::domain::FieldError;
pub use crate::store::outbox::EmailRow;
use crate::store::outbox::Recipients;
use crate::store::states::OutboxStatus;
use crate::store::{self, AnyConnection};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Email {
    pub id: i64,
    /// One email per reason, e.g. `receipt:12`.
    pub dedupe_key: String,
    pub message_id: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: String,
    /// `pending`, `sent` or `failed`.
    #[schema(value_type = String)]
    pub status: OutboxStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    /// The mail server's answer to the last failed attempt.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// `pending`, `sent` or `failed`.
    pub status: Option<String>,
}

pub fn list(
    conn: &mut AnyConnection,
    actor: &Actor,
    query: &OutboxQuery,
    page: &PageParams,
) -> ServiceResult<Page<Email>> {
    actor.require_admin()?;
    let mut errors = Vec::new();
    let (limit, after) = page.resolve(&mut errors);
    let status = query.status.as_deref().and_then(|s| {
        let status = OutboxStatus::parse(s);
        if status.is_none() {
            errors.push(FieldError::new(
                "/status",
                format!("must be {}", OutboxStatus::choices()),
            ));
        }
        status
    });
    ensure_valid(errors)?;
    let rows = store::outbox::emails(conn, status, after, limit + 1)?;
    Page::from_rows(rows, limit, |r| r.id, render)
}

fn render(row: EmailRow) -> ServiceResult<Email> {
    let recipients = Recipients::from_stored(&row.recipients)
        .map_err(|e| ServiceError::data(format!("outbox.recipients of email {}: {e}", row.id)))?;
    Ok(Email {
        id: row.id,
        dedupe_key: row.dedupe_key,
        message_id: row.message_id,
        to: recipients.to,
        cc: recipients.cc,
        subject: row.subject,
        status: row.status,
        attempts: row.attempts,
        next_attempt_at: row.next_attempt_at.into(),
        last_error: row.last_error,
        created_at: row.created_at.into(),
        sent_at: row.sent_at.map(Into::into),
    })
}

/// Claims up to `limit` emails due at `now` for the delivery worker, leased until `lease_until` (see
/// [`store::outbox::claim_due_emails`]).
pub fn claim_due(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    clock: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> ServiceResult<Vec<EmailRow>> {
    Ok(store::outbox::claim_due_emails(
        conn,
        now.into(),
        clock.into(),
        lease_until.into(),
        limit,
    )?)
}

/// Records that the mail server accepted an email; `note` says which recipients it went without (kept in
/// `last_error`, shown by `GET /outbox`).
pub fn mark_sent(
    conn: &mut AnyConnection,
    id: i64,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    Ok(store::outbox::mark_sent(conn, id, note, now.into())?)
}

/// Extends the lease of rows this worker is still sending (claimed with `lease`) to `renewed`.
pub fn renew(
    conn: &mut AnyConnection,
    ids: &[i64],
    lease: DateTime<Utc>,
    renewed: DateTime<Utc>,
) -> ServiceResult<()> {
    Ok(store::outbox::renew(
        conn,
        ids,
        lease.into(),
        renewed.into(),
    )?)
}

/// Gives back rows this worker claimed (with `lease`) but never tried: due again at once, for any instance,
/// their attempt not counted.
pub fn release(conn: &mut AnyConnection, ids: &[i64], lease: DateTime<Utc>) -> ServiceResult<()> {
    Ok(store::outbox::release(conn, ids, lease.into())?)
}

/// Records a failed attempt: tried again at `retry_at`, or given up for good when it is `None`.
pub fn mark_failed(
    conn: &mut AnyConnection,
    id: i64,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> ServiceResult<()> {
    Ok(store::outbox::mark_failed(
        conn,
        id,
        error,
        retry_at.map(Into::into),
    )?)
}

/// How many emails wait to be sent and how many were refused for good (the `/metrics` gauges), in that order.
pub fn waiting(conn: &mut AnyConnection) -> ServiceResult<[(OutboxStatus, i64); 2]> {
    let counts = store::outbox::email_counts(conn)?;
    let count = |status| {
        counts
            .iter()
            .find(|(s, _)| *s == status)
            .map_or(0, |(_, n)| *n)
    };
    Ok([
        (OutboxStatus::Pending, count(OutboxStatus::Pending)),
        (OutboxStatus::Failed, count(OutboxStatus::Failed)),
    ])
}
