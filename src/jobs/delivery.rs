//! The delivery worker: claims due outbox rows with a lease, sends them with no transaction open, and records
//! the outcome. Any number of workers (instances) may run: each row is claimed by exactly one.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::mail::transport::{SendError, Sender, Sent, Transport};
use crate::service::outbox::EmailRow;
use crate::service::{self, ServiceError, ServiceResult};
use crate::store::{AnyConnection, Pool};

/// How long a claimed row is left to its worker before another may take it (a crash mid-send). Short, so that
/// after a crash the emails under way wait a minute, not a quarter of an hour; renewed every [`RENEW_EVERY`]
/// while they are still being sent, so that a slow server (lettre waits up to a minute per command) never sees
/// a second worker send the same email.
const LEASE: chrono::Duration = chrono::Duration::seconds(60);
const RENEW_EVERY: Duration = Duration::from_secs(20);

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    /// Recipients left out of emails that were sent (addresses the mailer cannot parse).
    pub dropped_recipients: usize,
}

impl DeliveryReport {
    fn add(&mut self, other: Self) {
        self.sent += other.sent;
        self.retried += other.retried;
        self.failed += other.failed;
        self.dropped_recipients += other.dropped_recipients;
    }
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

/// Sends one wave of the emails due at `now`: claims as many rows as may be in flight at once
/// (`smtp_connections`: one SMTP connection carries only a few dozen messages a second, see
/// docs/performance.md), with a short lease renewed while they are being sent, and records each outcome as soon
/// as it is known: an email the server accepted is marked sent at once, so a crash re-sends at most the emails
/// whose acceptance was not yet recorded (docs/deployment.md, "Delivery").
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
    // Microseconds, as both databases store it: renewing and releasing find this claim's rows by the lease.
    let lease_from = move || (now.max(Utc::now()) + LEASE).trunc_subsecs(6);
    let mut lease = lease_from();
    let clock = now.max(Utc::now());
    let rows = i64::try_from(transport.concurrency()).unwrap_or(i64::MAX);
    let claimed = db(pool, move |c| {
        service::outbox::claim_due(c, now, clock, lease, rows)
    })
    .await?;
    let mut in_flight: HashSet<i64> = claimed.iter().map(|e| e.id).collect();
    let mut outcomes = futures_util::stream::iter(claimed)
        .take_while(|_| std::future::ready(!stop.is_cancelled()))
        .map(|email| async move {
            let outcome = transport.send(&email, from).await;
            let id = email.id;
            record(pool, from, now, &email, outcome)
                .await
                .map(|report| (id, report))
        })
        .buffer_unordered(transport.concurrency());
    let mut renew =
        tokio::time::interval_at(tokio::time::Instant::now() + RENEW_EVERY, RENEW_EVERY);
    let mut report = DeliveryReport::default();
    loop {
        tokio::select! {
            outcome = outcomes.next() => match outcome {
                Some(outcome) => {
                    let (id, one) = outcome?;
                    in_flight.remove(&id);
                    report.add(one);
                }
                None => break,
            },
            _ = renew.tick() => {
                let (ids, renewed) = (in_flight.iter().copied().collect::<Vec<_>>(), lease_from());
                db(pool, move |c| service::outbox::renew(c, &ids, lease, renewed)).await?;
                lease = renewed;
            }
        }
    }
    if !in_flight.is_empty() {
        let ids: Vec<i64> = in_flight.into_iter().collect();
        tracing::info!(
            emails = ids.len(),
            "stopping: releasing emails not yet sent"
        );
        db(pool, move |c| service::outbox::release(c, &ids, lease)).await?;
    }
    Ok(report)
}

/// Records the outcome of one send, at once.
async fn record(
    pool: &Pool,
    from: &Sender,
    now: DateTime<Utc>,
    email: &EmailRow,
    outcome: Result<Sent, SendError>,
) -> ServiceResult<DeliveryReport> {
    let (id, attempts, created_at) = (email.id, email.attempts, email.created_at.0);
    let mut report = DeliveryReport::default();
    match outcome {
        Ok(delivered) => {
            let note = (!delivered.dropped.is_empty())
                .then(|| format!("sent without: {}", delivered.dropped.join("; ")));
            if let Some(note) = &note {
                tracing::warn!(id, %note, "email sent without some recipients");
            }
            report.sent = 1;
            report.dropped_recipients = delivered.dropped.len();
            db(pool, move |c| {
                service::outbox::mark_sent(c, id, note.as_deref(), now)
            })
            .await?;
        }
        // Retries end: after `give_up_after` of transient failures the email is failed, with the server's last
        // answer, and shows among the failed ones (outbox, /metrics, the admins' daily letter).
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
            report.failed = 1;
        }
        Err(SendError::Transient(why)) => {
            // `attempts` already counts this one.
            let retry = now + backoff(attempts);
            tracing::warn!(id, %why, retry_at = %retry, "email not sent, will retry");
            db(pool, move |c| {
                service::outbox::mark_failed(c, id, &why, Some(retry))
            })
            .await?;
            report.retried = 1;
        }
        Err(SendError::Permanent(why)) => {
            tracing::error!(id, %why, "email refused permanently");
            db(pool, move |c| {
                service::outbox::mark_failed(c, id, &why, None)
            })
            .await?;
            report.failed = 1;
        }
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
        total.add(round);
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
