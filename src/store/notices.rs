//! Claims: one row per unit of periodic work (a reminder, an escalation step, a digest slot). Whoever inserts
//! the row does the work; everyone else sees it exists — so any number of instances never send twice.

use std::collections::HashSet;

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

/// Claims many (job, slot) pairs in one INSERT … ON CONFLICT DO NOTHING and returns those this caller got. No
/// savepoint is needed: a conflict is not an error. Rows go in sorted order, so that instances racing for the
/// same slots on PostgreSQL wait for each other instead of deadlocking.
pub fn claim_many(
    conn: &mut AnyConnection,
    claims: &[(&str, String)],
    now: UtcDateTime,
) -> Result<HashSet<(String, String)>, StoreError> {
    let mut sorted: Vec<&(&str, String)> = claims.iter().collect();
    sorted.sort();
    let mut won = HashSet::new();
    for chunk in sorted.chunks(CLAIMS_PER_INSERT) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|(job, slot)| {
                (
                    job_claims::job.eq(*job),
                    job_claims::slot.eq(slot.as_str()),
                    job_claims::claimed_at.eq(now),
                )
            })
            .collect();
        let got: Vec<(String, String)> = with_conn!(conn, c => diesel::insert_into(job_claims::table)
            .values(&rows)
            .on_conflict_do_nothing()
            .returning((job_claims::job, job_claims::slot))
            .get_results(c))?;
        won.extend(got);
    }
    Ok(won)
}

/// The claims among `wanted` (job, slot) pairs that exist, with when they were made.
pub fn claims_of(
    conn: &mut AnyConnection,
    wanted: &[(&str, String)],
) -> Result<Vec<(String, String, UtcDateTime)>, StoreError> {
    let mut jobs: Vec<&str> = wanted.iter().map(|(job, _)| *job).collect();
    jobs.sort_unstable();
    jobs.dedup();
    let wanted_set: HashSet<(&str, &str)> = wanted.iter().map(|(j, s)| (*j, s.as_str())).collect();
    let mut found = Vec::new();
    for chunk in wanted.chunks(CLAIMS_PER_INSERT) {
        let slots: Vec<&str> = chunk.iter().map(|(_, slot)| slot.as_str()).collect();
        let rows: Vec<(String, String, UtcDateTime)> = with_conn!(conn, c => job_claims::table
            .filter(job_claims::job.eq_any(&jobs))
            .filter(job_claims::slot.eq_any(&slots))
            .select((job_claims::job, job_claims::slot, job_claims::claimed_at))
            .load(c))?;
        found.extend(
            rows.into_iter()
                .filter(|(job, slot, _)| wanted_set.contains(&(job.as_str(), slot.as_str()))),
        );
    }
    found.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    found.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    Ok(found)
}

/// Rows per claim INSERT (3 parameters each).
const CLAIMS_PER_INSERT: usize = 1000;

/// Claims made before `before`: counted, or removed when `remove`. Old claims guard nothing any more (their
/// deadlines' ladders are done, their digest slots long past).
pub fn prune_claims(
    conn: &mut AnyConnection,
    before: UtcDateTime,
    remove: bool,
) -> Result<usize, StoreError> {
    // The yearly calendar letter's claim (`calendar:<code>`, year) is looked at for two months: it is tiny and
    // kept, so a short retention never sends the letter twice. A failed email's report claim lives as long as
    // the failed email (never pruned), so it is never reported twice.
    let old = job_claims::claimed_at
        .lt(before)
        .and(job_claims::job.not_like("calendar:%"))
        .and(job_claims::job.ne(super::outbox::FAILED_REPORTED));
    let n = if remove {
        with_conn!(conn, c => diesel::delete(job_claims::table.filter(old)).execute(c))?
    } else {
        let n: i64 = with_conn!(conn, c => job_claims::table.filter(old).count().get_result(c))?;
        usize::try_from(n).unwrap_or(0)
    };
    Ok(n)
}
