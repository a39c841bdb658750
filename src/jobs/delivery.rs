//! The delivery worker: claims due outbox rows with a lease, sends them with no transaction open, and records
//! the outcome. Any number of workers (instances) may run: each row is claimed by exactly one.

use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::mail::transport::{SendError, Sender, Transport};
use crate::service::{self, ServiceError, ServiceResult};
use crate::store::{AnyConnection, Pool};

/// How long a claimed row is left to its worker before another may retry it (a crash mid-send).
const LEASE: chrono::Duration = chrono::Duration::minutes(15);

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    /// Recipients left out of emails that were sent (addresses the mailer cannot parse).
    pub dropped_recipients: usize,
}

/// Waits before the next attempt after `attempts` failed ones: 30 s, 1 min, 2 min … capped at one hour.
pub fn backoff(attempts: i32) -> chrono::Duration {
    let exponent = u32::try_from(attempts.clamp(1, 8) - 1).unwrap_or(0);
    chrono::Duration::seconds(30 * 2_i64.pow(exponent)).min(chrono::Duration::hours(1))
}

async fn db<T: Send + 'static>(
    pool: &Pool,
    f: impl FnOnce(&mut AnyConnection) -> ServiceResult<T> + Send + 'static,
) -> ServiceResult<T> {
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || f(&mut *pool.get()?))
        .await
        .map_err(|e| ServiceError::Task(e.to_string()))?
}

/// Sends one round of the emails due at `now`: claims two waves' worth of rows with a lease, sends several at a
/// time (`smtp_connections`: one SMTP connection carries only a few dozen messages a second, see
/// docs/performance.md), and records the outcomes as they come in. Two waves of sends, even at the SMTP
/// timeout, end well inside the lease, so no other worker can take a row this one is still sending.
///
/// `now` decides what is due and when a failed email is retried (`tick --at` travels in time); leases run on the
/// later of `now` and the real clock, so that a `tick --at` in the past never hands out a lease that has already
/// run out while `hanbao serve` is delivering too.
pub async fn deliver_due(
    pool: &Pool,
    transport: &Transport,
    from: &Sender,
    now: DateTime<Utc>,
) -> ServiceResult<DeliveryReport> {
    deliver_due_until(pool, transport, from, now, &CancellationToken::new()).await
}

/// [`deliver_due`] that starts no new send once `stop` is cancelled (a shutdown): the sends under way finish and
/// are recorded, and the rows claimed but not started are released at once for another instance or the next
/// start, instead of waiting out their lease.
#[tracing::instrument(name = "delivery_round", skip_all, fields(%now))]
pub async fn deliver_due_until(
    pool: &Pool,
    transport: &Transport,
    from: &Sender,
    now: DateTime<Utc>,
    stop: &CancellationToken,
) -> ServiceResult<DeliveryReport> {
    if stop.is_cancelled() {
        return Ok(DeliveryReport::default());
    }
    let clock = now.max(Utc::now());
    let mut report = DeliveryReport::default();
    // Microseconds, as both databases store it: `release` finds this claim's rows by the lease.
    let lease = (clock + LEASE).trunc_subsecs(6);
    let rows = i64::try_from(2 * transport.concurrency()).unwrap_or(i64::MAX);
    let claimed = db(pool, move |c| {
        service::outbox::claim_due(c, now, clock, lease, rows)
    })
    .await?;
    let mut unstarted: std::collections::HashSet<i64> = claimed.iter().map(|e| e.id).collect();
    let mut outcomes = futures_util::stream::iter(claimed)
        .take_while(|_| std::future::ready(!stop.is_cancelled()))
        .map(|email| async move {
            let outcome = transport.send(&email, from).await;
            (email.id, email.attempts, email.created_at.0, outcome)
        })
        .buffer_unordered(transport.concurrency())
        .ready_chunks(transport.concurrency());
    while let Some(chunk) = outcomes.next().await {
        let mut sent = Vec::new();
        let mut notes = Vec::new();
        for (id, attempts, created_at, outcome) in chunk {
            unstarted.remove(&id);
            match outcome {
                Ok(delivered) => {
                    sent.push(id);
                    if !delivered.dropped.is_empty() {
                        let note = format!("sent without: {}", delivered.dropped.join("; "));
                        tracing::warn!(id, %note, "email sent without some recipients");
                        report.dropped_recipients += delivered.dropped.len();
                        notes.push((id, note));
                    }
                }
                // Retries end: after `give_up_after` of transient failures the email is failed, with the
                // server's last answer, and shows among the failed ones (outbox, /metrics).
                Err(SendError::Transient(why)) if now - created_at >= from.give_up_after => {
                    let why = format!(
                        "given up after {} hours of failures; last: {why}",
                        from.give_up_after.num_hours()
                    );
                    tracing::error!(id, %why, "email given up");
                    db(pool, move |c| {
                        service::outbox::mark_failed(c, id, &why, None)
                    })
                    .await?;
                    report.failed += 1;
                }
                Err(SendError::Transient(why)) => {
                    // `attempts` already counts this one.
                    let retry = now + backoff(attempts);
                    tracing::warn!(id, %why, retry_at = %retry, "email not sent, will retry");
                    db(pool, move |c| {
                        service::outbox::mark_failed(c, id, &why, Some(retry))
                    })
                    .await?;
                    report.retried += 1;
                }
                Err(SendError::Permanent(why)) => {
                    tracing::error!(id, %why, "email refused permanently");
                    db(pool, move |c| {
                        service::outbox::mark_failed(c, id, &why, None)
                    })
                    .await?;
                    report.failed += 1;
                }
            }
        }
        if !sent.is_empty() {
            report.sent += sent.len();
            db(pool, move |c| {
                service::outbox::mark_sent(c, &sent, &notes, now)
            })
            .await?;
        }
    }
    if !unstarted.is_empty() {
        let ids: Vec<i64> = unstarted.into_iter().collect();
        tracing::info!(
            emails = ids.len(),
            "stopping: releasing emails not yet sent"
        );
        db(pool, move |c| service::outbox::release(c, &ids, lease)).await?;
    }
    Ok(report)
}

/// Sends batches until nothing is due at `now` any more (each email is tried at most once: a failed one waits
/// for its backoff).
pub async fn deliver_all(
    pool: &Pool,
    transport: &Transport,
    from: &Sender,
    now: DateTime<Utc>,
) -> ServiceResult<DeliveryReport> {
    deliver_all_until(pool, transport, from, now, &CancellationToken::new()).await
}

/// [`deliver_all`] that stops early, as [`deliver_due_until`] does, once `stop` is cancelled.
pub async fn deliver_all_until(
    pool: &Pool,
    transport: &Transport,
    from: &Sender,
    now: DateTime<Utc>,
    stop: &CancellationToken,
) -> ServiceResult<DeliveryReport> {
    let mut total = DeliveryReport::default();
    let started = std::time::Instant::now();
    loop {
        // A long drain moves its instant on with the real time it took: backoffs count from the failure.
        let elapsed = chrono::Duration::from_std(started.elapsed()).unwrap_or_default();
        let round = deliver_due_until(pool, transport, from, now + elapsed, stop).await?;
        if round == DeliveryReport::default() {
            return Ok(total);
        }
        total.sent += round.sent;
        total.retried += round.retried;
        total.failed += round.failed;
        total.dropped_recipients += round.dropped_recipients;
    }
}

/// Delivers every `every` until `stop` is cancelled; errors are logged and the loop goes on. A round under way
/// when `stop` comes finishes its sends under way and releases the rest (`hanbao serve`'s graceful shutdown).
pub async fn run(
    pool: Pool,
    transport: Transport,
    from: Sender,
    every: Duration,
    stop: CancellationToken,
) {
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            () = stop.cancelled() => return,
        }
        match deliver_all_until(&pool, &transport, &from, Utc::now(), &stop).await {
            Ok(r) if r != DeliveryReport::default() => {
                let emails = &crate::metrics::get().emails;
                emails.with_label_values(&["sent"]).inc_by(r.sent as u64);
                emails
                    .with_label_values(&["retried"])
                    .inc_by(r.retried as u64);
                emails
                    .with_label_values(&["failed"])
                    .inc_by(r.failed as u64);
                crate::metrics::get()
                    .dropped_recipients
                    .inc_by(r.dropped_recipients as u64);
                tracing::info!(?r, "outbox delivery")
            }
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
