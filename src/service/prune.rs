//! Pruning: what a server running for years need not keep. Sent emails and the claims of notices older than the
//! retention (a reporting year and a margin by default), idempotency keys after a week, expired web sessions, and letters' filing links a month after they expired. Never submissions,
//! deadlines or audit entries: those are the compliance record.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::ServiceResult;
use crate::store::{self, AnyConnection};

/// How long idempotency keys are kept: a retry comes within minutes.
const IDEMPOTENCY_DAYS: i64 = 7;

/// What a prune removed (or, in a dry run, would remove).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PruneReport {
    pub sent_emails: usize,
    pub claims: usize,
    pub idempotency_keys: usize,
    /// Web sessions past their expiry (they are refused anyway; this only tidies).
    pub sessions: usize,
    /// Filing links of letters, expired for more than 30 days (they are refused anyway).
    pub filing_links: usize,
}

/// Prunes as of `now`, keeping `retention` of sent emails and claims; a dry run only counts.
#[tracing::instrument(name = "prune", skip(conn, retention), fields(retention_days = retention.num_days()))]
pub fn run(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    retention: Duration,
    dry_run: bool,
) -> ServiceResult<PruneReport> {
    let remove = !dry_run;
    let old = (now - retention).into();
    store::transaction(conn, |conn| {
        Ok(PruneReport {
            sent_emails: store::outbox::prune_sent(conn, old, remove)?,
            claims: store::notices::prune_claims(conn, old, remove)?,
            idempotency_keys: store::submissions::prune_idempotency(
                conn,
                (now - Duration::days(IDEMPOTENCY_DAYS)).into(),
                remove,
            )?,
            sessions: store::sessions::prune(
                conn,
                now.into(),
                (now - super::sessions::IDLE).into(),
                remove,
            )?,
            filing_links: store::tokens::prune_expired(
                conn,
                (now - Duration::days(super::tokens::FILING_LINK_DAYS)).into(),
                remove,
            )?,
        })
    })
}
