//! Reading the outbox: the emails hanbao has decided to send, and what became of them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ensure_valid, Actor, Page, PageParams, ServiceResult};
use crate::domain::FieldError;
use crate::store::submissions::EmailRow;
use crate::store::{self, AnyConnection, StoreError};

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
    pub status: String,
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

#[derive(Deserialize)]
struct Recipients {
    to: Vec<String>,
    cc: Vec<String>,
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
    if let Some(status) = &query.status {
        if !["pending", "sent", "failed"].contains(&status.as_str()) {
            errors.push(FieldError::new(
                "/status",
                "must be pending, sent or failed",
            ));
        }
    }
    ensure_valid(errors)?;
    let rows = store::submissions::emails(conn, query.status.as_deref(), after, limit + 1)?;
    Ok(Page::from_rows(rows, limit, |r| r.id, render)?)
}

fn render(row: EmailRow) -> Result<Email, StoreError> {
    let recipients: Recipients = store::from_json("outbox.recipients", &row.recipients)?;
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
