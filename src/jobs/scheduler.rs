//! The schedule of `hanbao serve`: the notice tick every minute (tokio-cron-scheduler), which also sends the
//! digests whose slot has come: each recipient unit's digest cron is read in that unit's own time zone, which one
//! scheduler job in one zone could not do. Every instance may run it: the
//! tick claims each notice and each digest slot through a unique row, so nothing is sent twice.

use chrono::Utc;
use chrono_tz::Tz;
use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};

use crate::domain::notify::Timing;
use crate::service::tick::{self, TickReport};
use crate::service::ServiceResult;
use crate::store::Pool;

/// Starts the scheduler; keep the returned handle alive as long as the jobs should run.
pub async fn start(
    pool: Pool,
    timing: Timing,
    tz: Tz,
    retention: chrono::Duration,
) -> Result<JobScheduler, JobSchedulerError> {
    let scheduler = JobScheduler::new().await?;
    // Nightly, at 02:30 in the office's zone: prune what a long-running server need not keep. Several instances
    // may all run it: deleting what is already gone changes nothing.
    let prune_pool = pool.clone();
    let prune = Job::new_async_tz("0 30 2 * * *", tz, move |_id, _scheduler| {
        let pool = prune_pool.clone();
        Box::pin(async move {
            let outcome = tokio::task::spawn_blocking(move || -> ServiceResult<_> {
                crate::service::prune::run(&mut *pool.get()?, Utc::now(), retention, false)
            })
            .await;
            match outcome {
                Ok(Ok(report)) => tracing::info!(?report, "pruned"),
                Ok(Err(e)) => tracing::error!("pruning failed: {e}"),
                Err(e) => tracing::error!("pruning panicked: {e}"),
            }
        })
    })?;
    scheduler.add(prune).await?;
    let tick = Job::new_async_tz("0 * * * * *", tz, move |_id, _scheduler| {
        let (pool, timing) = (pool.clone(), timing.clone());
        Box::pin(async move {
            let now = Utc::now();
            let metrics = crate::metrics::get();
            let timer = metrics.tick_seconds.start_timer();
            let outcome = tokio::task::spawn_blocking(move || -> ServiceResult<TickReport> {
                tick::tick(&mut *pool.get()?, now, &timing, false)
            })
            .await;
            timer.observe_duration();
            let ok = matches!(outcome, Ok(Ok(_)));
            metrics
                .ticks
                .with_label_values(&[if ok { "ok" } else { "failed" }])
                .inc();
            if let Ok(Ok(report)) = &outcome {
                for notice in &report.notices {
                    metrics.notices.with_label_values(&[notice.kind]).inc();
                }
                let skipped = &metrics.notices_skipped;
                skipped
                    .with_label_values(&["unit_closed"])
                    .inc_by(report.closed_units as u64);
                skipped
                    .with_label_values(&["unusable_data"])
                    .inc_by(report.skipped as u64);
            }
            match outcome {
                Ok(Ok(report)) if !report.notices.is_empty() => {
                    tracing::info!(
                        notices = report.notices.len(),
                        looked_at = report.deadlines_looked_at,
                        "notice tick"
                    )
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::error!("notice tick failed: {e}"),
                Err(e) => tracing::error!("notice tick panicked: {e}"),
            }
        })
    })?;
    scheduler.add(tick).await?;
    scheduler.start().await?;
    Ok(scheduler)
}
