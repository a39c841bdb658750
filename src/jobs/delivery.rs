//! The delivery worker: claims due outbox rows with a lease, sends them with no transaction open, and records
//! the outcome. Any number of workers (instances) may run: each row is claimed by exactly one.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::mail::transport::{SendError, Transport};
use crate::store::{self, Pool, StoreError, UtcDateTime};

/// How long a claimed row is left to its worker before another may retry it (a crash mid-send).
const LEASE: chrono::Duration = chrono::Duration::minutes(5);
/// Rows per round.
const BATCH: i64 = 200;

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
}

/// Waits before the next attempt after `attempts` failed ones: 30 s, 1 min, 2 min … capped at one hour.
pub fn backoff(attempts: i32) -> chrono::Duration {
    let exponent = u32::try_from(attempts.clamp(1, 8) - 1).unwrap_or(0);
    chrono::Duration::seconds(30 * 2_i64.pow(exponent)).min(chrono::Duration::hours(1))
}

async fn db<T: Send + 'static>(
    pool: &Pool,
    f: impl FnOnce(&mut store::AnyConnection) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || f(&mut *pool.get()?))
        .await
        .map_err(|e| StoreError::Corrupt(format!("blocking task failed: {e}")))?
}

/// Sends every email due at `now` (one batch).
pub async fn deliver_due(
    pool: &Pool,
    transport: &Transport,
    from: &str,
    now: DateTime<Utc>,
) -> Result<DeliveryReport, StoreError> {
    let mut report = DeliveryReport::default();
    let at = UtcDateTime(now);
    let due = db(pool, move |c| store::submissions::due_emails(c, at, BATCH)).await?;
    for email in due {
        let id = email.id;
        let lease = UtcDateTime(now + LEASE);
        if !db(pool, move |c| {
            store::submissions::claim_email(c, id, at, lease)
        })
        .await?
        {
            continue; // another worker has it
        }
        match transport.send(&email, from).await {
            Ok(()) => {
                db(pool, move |c| store::submissions::mark_sent(c, id, at)).await?;
                report.sent += 1;
            }
            Err(SendError::Transient(why)) => {
                let retry = UtcDateTime(now + backoff(email.attempts + 1));
                tracing::warn!(id, %why, retry_at = %retry, "email not sent, will retry");
                db(pool, move |c| {
                    store::submissions::mark_failed(c, id, &why, Some(retry))
                })
                .await?;
                report.retried += 1;
            }
            Err(SendError::Permanent(why)) => {
                tracing::error!(id, %why, "email refused permanently");
                db(pool, move |c| {
                    store::submissions::mark_failed(c, id, &why, None)
                })
                .await?;
                report.failed += 1;
            }
        }
    }
    Ok(report)
}

/// Delivers forever, every `every`; errors are logged and the loop goes on.
pub async fn run(pool: Pool, transport: Transport, from: String, every: Duration) {
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        match deliver_due(&pool, &transport, &from, Utc::now()).await {
            Ok(r) if r != DeliveryReport::default() => tracing::info!(?r, "outbox delivery"),
            Ok(_) => {}
            Err(e) => tracing::error!("outbox delivery failed: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let secs: Vec<i64> = [1, 2, 3, 8, 20]
            .iter()
            .map(|a| backoff(*a).num_seconds())
            .collect();
        assert_eq!(secs, [30, 60, 120, 3600, 3600]);
    }
}
