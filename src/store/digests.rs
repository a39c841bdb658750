//! Queries of the digest: what a recipient unit is owed (overdue), what is due soon, and what it received.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::schema::{deadlines, job_claims, obligations, submissions, units};
use super::states::DeadlineState;
use super::units::UnitRow;
use super::{AnyConnection, StoreError, UtcDateTime};
use crate::with_conn;

/// The claim job of a unit's digests, `digest:<unit id>`; its slots are the slot instants. One job per unit keeps
/// "this unit's latest digest" a range of the primary key.
pub fn job(unit_id: i64) -> String {
    format!("digest:{unit_id}")
}

/// A pending deadline as a digest lists it.
#[derive(Debug, Clone, Queryable)]
pub struct OpenLine {
    pub unit_code: String,
    pub unit_name: String,
    pub obligation: String,
    pub period: String,
    pub last_day: NaiveDate,
    pub due_at: UtcDateTime,
}

/// A received submission as a digest lists it.
#[derive(Debug, Clone, Queryable)]
pub struct ReceivedLine {
    pub unit_code: String,
    pub unit_name: String,
    pub obligation: String,
    pub period: String,
    pub version: i32,
    pub received_at: UtcDateTime,
    pub on_time: bool,
}

/// Units that receive at least one obligation's reports: the ones that get digests. That is the recipients
/// obligations name, those an office chose, and their successors (the reports of later periods go to them).
pub fn recipients(conn: &mut AnyConnection) -> Result<Vec<UnitRow>, StoreError> {
    use super::schema::{obligation_recipients as chosen, unit_successions as links};
    let rows = with_conn!(conn, c => units::table
        .filter(
            units::id
                .eq_any(obligations::table.select(obligations::recipient_id))
                .or(units::id.eq_any(chosen::table.select(chosen::recipient_id)))
                .or(units::id.eq_any(
                    links::table
                        .filter(links::predecessor_id.eq_any(obligations::table.select(obligations::recipient_id)))
                        .select(links::successor_id),
                )),
        )
        .order(units::id)
        .select(UnitRow::as_select())
        .load(c))?;
    Ok(rows)
}

/// Deadlines in `state` reported to `recipient` with `from <= due_at < before` (each bound optional): how many, and the first `limit`
/// in due order.
pub fn in_state(
    conn: &mut AnyConnection,
    recipient: i64,
    state: DeadlineState,
    from: Option<UtcDateTime>,
    before: Option<UtcDateTime>,
    limit: i64,
) -> Result<(i64, Vec<OpenLine>), StoreError> {
    macro_rules! query {
        () => {{
            let mut q = deadlines::table
                .inner_join(obligations::table)
                .inner_join(units::table)
                .filter(deadlines::recipient_id.eq(recipient))
                .filter(deadlines::state.eq(state))
                .into_boxed();
            if let Some(before) = before {
                q = q.filter(deadlines::due_at.lt(before));
            }
            if let Some(from) = from {
                q = q.filter(deadlines::due_at.ge(from));
            }
            q
        }};
    }
    let count: i64 = with_conn!(conn, c => query!().count().get_result(c))?;
    let lines = with_conn!(conn, c => query!()
        .order((deadlines::due_at, deadlines::id))
        .limit(limit)
        .select((units::code, units::name, obligations::title, deadlines::period, deadlines::last_day,
                 deadlines::due_at))
        .load::<OpenLine>(c))?;
    Ok((count, lines))
}

/// Submissions to `recipient` received in `(after, until]`: how many, and the first `limit` in arrival order.
pub fn received(
    conn: &mut AnyConnection,
    recipient: i64,
    after: UtcDateTime,
    until: UtcDateTime,
    limit: i64,
) -> Result<(i64, Vec<ReceivedLine>), StoreError> {
    macro_rules! query {
        () => {
            submissions::table
                .inner_join(deadlines::table.inner_join(obligations::table))
                .inner_join(units::table.on(units::id.eq(submissions::unit_id)))
                .filter(deadlines::recipient_id.eq(recipient))
                .filter(submissions::received_at.gt(after))
                .filter(submissions::received_at.le(until))
        };
    }
    let count: i64 = with_conn!(conn, c => query!().count().get_result(c))?;
    let lines = with_conn!(conn, c => query!()
        .order((submissions::received_at, submissions::id))
        .limit(limit)
        .select((units::code, units::name, obligations::title, deadlines::period, submissions::version,
                 submissions::received_at, submissions::on_time))
        .load::<ReceivedLine>(c))?;
    Ok((count, lines))
}

/// When the unit's latest digest was made (claimed), if it ever had one.
pub fn last_made(
    conn: &mut AnyConnection,
    unit_id: i64,
) -> Result<Option<UtcDateTime>, StoreError> {
    let at = with_conn!(conn, c => job_claims::table
        .filter(job_claims::job.eq(job(unit_id)))
        .order(job_claims::claimed_at.desc())
        .select(job_claims::claimed_at)
        .first::<UtcDateTime>(c)
        .optional())?;
    Ok(at)
}
