//! Prometheus metrics, served at `/metrics`: what operators watch and alert on — request rates, errors and
//! latency per route, notices decided per kind, tick failures and duration, emails sent, retried and failed.
//!
//! One registry per process (`http` and `jobs` both report into it). Values that belong to the database, such as
//! how many emails wait in the outbox, are read at scrape time by the handler, not kept here.

use std::sync::OnceLock;

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry,
    TextEncoder,
};

/// The process's metrics.
pub struct Metrics {
    registry: Registry,
    /// Requests by method, route pattern (`/api/v1/units/{code}`) and status.
    pub http_requests: IntCounterVec,
    /// Request latency by route pattern.
    pub http_seconds: HistogramVec,
    /// Notices queued by ticks, by kind (`reminder`, `escalation`, `digest`).
    pub notices: IntCounterVec,
    /// Notices not sent, by reason (`unit_closed`, `unusable_data`).
    pub notices_skipped: IntCounterVec,
    /// Ticks by outcome (`ok`, `failed`).
    pub ticks: IntCounterVec,
    pub tick_seconds: Histogram,
    /// Delivery attempts by outcome (`sent`, `retried`, `failed`).
    pub emails: IntCounterVec,
    /// Recipients left out of sent emails because the mailer cannot address them.
    pub dropped_recipients: IntCounter,
}

/// The metrics of this process.
pub fn get() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(|| Metrics::new().expect("metric definitions are valid"))
}

impl Metrics {
    fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let http_requests = IntCounterVec::new(
            Opts::new("hanbao_http_requests_total", "HTTP requests served"),
            &["method", "route", "status"],
        )?;
        let http_seconds = HistogramVec::new(
            HistogramOpts::new(
                "hanbao_http_request_duration_seconds",
                "Time to answer an HTTP request",
            )
            .buckets(vec![
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["route"],
        )?;
        let notices = IntCounterVec::new(
            Opts::new(
                "hanbao_notices_total",
                "Reminders, escalations and digests queued by ticks",
            ),
            &["kind"],
        )?;
        let notices_skipped = IntCounterVec::new(
            Opts::new(
                "hanbao_notices_skipped_total",
                "Notices not sent: the unit had closed, or its data or template could not be used",
            ),
            &["reason"],
        )?;
        let ticks = IntCounterVec::new(
            Opts::new("hanbao_ticks_total", "Notice ticks run, by outcome"),
            &["outcome"],
        )?;
        let tick_seconds = Histogram::with_opts(
            HistogramOpts::new("hanbao_tick_duration_seconds", "Time one notice tick took")
                .buckets(vec![0.01, 0.05, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0]),
        )?;
        let emails = IntCounterVec::new(
            Opts::new(
                "hanbao_email_deliveries_total",
                "Email delivery attempts, by outcome",
            ),
            &["outcome"],
        )?;
        let dropped_recipients = IntCounter::new(
            "hanbao_email_recipients_dropped_total",
            "Recipients left out of sent emails: the mailer cannot parse their address",
        )?;
        registry.register(Box::new(dropped_recipients.clone()))?;
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_seconds.clone()))?;
        registry.register(Box::new(notices.clone()))?;
        registry.register(Box::new(notices_skipped.clone()))?;
        registry.register(Box::new(ticks.clone()))?;
        registry.register(Box::new(tick_seconds.clone()))?;
        registry.register(Box::new(emails.clone()))?;
        Ok(Self {
            registry,
            http_requests,
            http_seconds,
            notices,
            notices_skipped,
            ticks,
            tick_seconds,
            emails,
            dropped_recipients,
        })
    }

    /// The registry in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Encoding gathered families into a Vec cannot fail.
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("text encoding into memory");
        String::from_utf8(out).expect("the text format is UTF-8")
    }
}

/// One gauge family in the text format, for values read from the database at scrape time.
pub fn gauge(name: &str, help: &str, label: &str, values: &[(&str, i64)]) -> String {
    let mut out = format!("# HELP {name} {help}\n# TYPE {name} gauge\n");
    for (value_label, value) in values {
        out.push_str(&format!("{name}{{{label}=\"{value_label}\"}} {value}\n"));
    }
    out
}
