//! The office's overview ("Tổng quan"): each plan the actor may see, and for each of its obligations the
//! current period — the next one due, else the last — with its counts and rates from the compliance use case.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::compliance::{ComplianceQuery, Rates};
use super::{Actor, PageParams, ServiceResult};
use crate::store::{self, AnyConnection};

/// One obligation's current period.
#[derive(Debug, Clone, Serialize)]
pub struct ObligationSummary {
    pub id: i64,
    pub title: String,
    pub period: String,
    /// The last day of the period's first deadline (units in other zones may differ by a day).
    pub last_day: Option<NaiveDate>,
    /// Whether the period's deadlines are still ahead (rates are then provisional).
    pub upcoming: bool,
    pub totals: Rates,
    /// The on-time rates of the last periods already due (up to [`HISTORY`]), oldest first: the chart.
    pub history: Vec<(String, Option<f64>)>,
}

/// How many past periods the overview's chart shows.
pub const HISTORY: usize = 6;

#[derive(Debug, Clone, Serialize)]
pub struct PlanSummary {
    pub id: i64,
    pub number: String,
    pub title: String,
    pub obligations: Vec<ObligationSummary>,
    /// Overdue deadlines of the current periods: the plans needing attention come first.
    pub overdue: i64,
    pub returned: i64,
}

/// The plans `actor` may see (through the obligations it may see), problems first.
pub fn overview(
    conn: &mut AnyConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    zone: Tz,
) -> ServiceResult<Vec<PlanSummary>> {
    let obligations = super::obligations::list_all(
        conn,
        actor,
        &Default::default(),
        &PageParams {
            limit: Some(super::MAX_LIMIT),
            cursor: None,
        },
    )?
    .items;
    let mut plans: Vec<PlanSummary> = Vec::new();
    for obligation in obligations {
        let periods = store::deadlines::period_dues(conn, obligation.id)?;
        let current = periods
            .iter()
            .find(|(_, due, _)| due.0 > now)
            .or(periods.last())
            .cloned();
        let Some((period, due, last_day)) = current else {
            continue;
        };
        let query = ComplianceQuery {
            obligation: Some(obligation.id),
            period: Some(period.clone()),
            ..ComplianceQuery::default()
        };
        let question = super::compliance::question(
            conn,
            actor,
            now,
            zone,
            &query,
            &PageParams {
                limit: Some(1),
                cursor: None,
            },
        )?;
        let totals = super::compliance::totals(conn, &question)?;
        let past: Vec<&String> = periods
            .iter()
            .filter(|(_, due, _)| due.0 <= now)
            .map(|(p, _, _)| p)
            .collect();
        let history = match (
            past.len()
                .checked_sub(HISTORY)
                .map_or(past.first(), |i| past.get(i)),
            past.last(),
        ) {
            (Some(first), Some(last)) => {
                let query = ComplianceQuery {
                    obligation: Some(obligation.id),
                    from_period: Some((*first).clone()),
                    to_period: Some((*last).clone()),
                    ..ComplianceQuery::default()
                };
                // One-off and event periods have no range: no chart for them.
                match super::compliance::question(
                    conn,
                    actor,
                    now,
                    zone,
                    &query,
                    &PageParams::default(),
                ) {
                    Ok(q) => super::compliance::period_rates(conn, &q)?
                        .into_iter()
                        .map(|(p, r)| (p, r.on_time_rate))
                        .collect(),
                    Err(super::ServiceError::Validation(_)) => Vec::new(),
                    Err(e) => return Err(e),
                }
            }
            _ => Vec::new(),
        };
        let summary = ObligationSummary {
            id: obligation.id,
            title: obligation.title.clone(),
            period,
            last_day: Some(last_day),
            upcoming: due.0 > now,
            totals,
            history,
        };
        match plans.iter_mut().find(|p| p.id == obligation.plan_id) {
            Some(plan) => plan.obligations.push(summary),
            None => {
                let Some(row) = store::plans::find(conn, obligation.plan_id)? else {
                    continue;
                };
                plans.push(PlanSummary {
                    id: row.id,
                    number: row.number,
                    title: row.title,
                    obligations: vec![summary],
                    overdue: 0,
                    returned: 0,
                });
            }
        }
    }
    for plan in &mut plans {
        plan.overdue = plan.obligations.iter().map(|o| o.totals.overdue).sum();
        plan.returned = plan.obligations.iter().map(|o| o.totals.returned).sum();
    }
    plans.sort_by_key(|p| (-(p.overdue + p.returned), p.id));
    Ok(plans)
}
