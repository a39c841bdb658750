//! Claims: one row per unit of periodic work (a reminder, an escalation step, a digest slot). Whoever inserts
//! the row does the work; everyone else sees it exists — so any number of instances never send twice.

use diesel::prelude::*;

use super::schema::job_claims;
use super::{AnyConnection, StoreError, UtcDateTime};
use crate::with_conn;

/// Whether somebody has claimed (job, slot).
pub fn is_claimed(conn: &mut AnyConnection, job: &str, slot: &str) -> Result<bool, StoreError> {
    let existing: i64 = with_conn!(conn, c => job_claims::table
        .filter(job_claims::job.eq(job))
        .filter(job_claims::slot.eq(slot))
        .count()
        .get_result(c))?;
    Ok(existing > 0)
}

/// Claims (job, slot); false when somebody already has. Runs in a savepoint, so losing a race on PostgreSQL
/// does not abort the caller's transaction.
pub fn claim(
    conn: &mut AnyConnection,
    job: &str,
    slot: &str,
    now: UtcDateTime,
) -> Result<bool, StoreError> {
    if is_claimed(conn, job, slot)? {
        return Ok(false);
    }
    let inserted = super::transaction(conn, |conn| -> Result<(), StoreError> {
        with_conn!(conn, c => diesel::insert_into(job_claims::table)
            .values((job_claims::job.eq(job), job_claims::slot.eq(slot), job_claims::claimed_at.eq(now)))
            .execute(c))?;
        Ok(())
    });
    match inserted {
        Ok(()) => Ok(true),
        Err(e) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(e),
    }
}
