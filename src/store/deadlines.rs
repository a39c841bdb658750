//! Queries on `deadlines`: bulk materialisation, the diff of a recomputation, and the filtered list.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::schema::{deadlines, obligations, plans, units};
use super::states::DeadlineState;
use super::{AnyConnection, StoreError, UtcDateTime};
use crate::with_conn;

/// Rows per INSERT: 9 parameters each stays far below PostgreSQL's 65,535 and SQLite's 32,766 bind limits.
const BATCH: usize = 1500;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = deadlines)]
pub struct DeadlineRow {
    pub id: i64,
    pub obligation_id: i64,
    pub unit_id: i64,
    pub period: String,
    pub event_id: Option<i64>,
    pub last_day: NaiveDate,
    pub due_at: UtcDateTime,
    pub state: DeadlineState,
    pub submitted_at: Option<UtcDateTime>,
    pub extended_reason: Option<String>,
    pub waived_reason: Option<String>,
    pub created_at: UtcDateTime,
    pub updated_at: UtcDateTime,
    pub next_notice_at: Option<UtcDateTime>,
    /// The arrival date of the first report, when it came on paper (or through the document system).
    pub submitted_on: Option<NaiveDate>,
    /// Reminders and escalations sent so far: the next email counts on from them.
    pub notices_sent: i32,
    /// The unit the report goes to: the obligation's recipient on the last day, followed through successions
    /// (or the office's choice); none while undecided.
    pub recipient_id: Option<i64>,
    /// How many times the last day moved (recomputation, extension): a calendar event's SEQUENCE.
    pub revision: i32,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = deadlines)]
pub struct NewDeadline {
    pub obligation_id: i64,
    pub unit_id: i64,
    pub period: String,
    pub event_id: Option<i64>,
    pub last_day: NaiveDate,
    pub due_at: UtcDateTime,
    pub created_at: UtcDateTime,
    pub updated_at: UtcDateTime,
    pub next_notice_at: Option<UtcDateTime>,
    pub recipient_id: Option<i64>,
}

/// Inserts in batches of [`BATCH`] rows (one multi-row INSERT each, on either backend).
pub fn insert_many(conn: &mut AnyConnection, rows: &[NewDeadline]) -> Result<usize, StoreError> {
    let mut inserted = 0;
    for chunk in rows.chunks(BATCH) {
        inserted +=
            with_conn!(conn, c => diesel::insert_into(deadlines::table).values(chunk).execute(c))?;
    }
    Ok(inserted)
}

/// Pending deadlines whose next notice moment has come, oldest first (an index range scan). On PostgreSQL the
/// rows stay locked until the caller's transaction ends and rows another tick holds are skipped: instances
/// racing at the same minute share the work instead of doing it twice, and a filing or an extension of one of
/// these deadlines waits for the tick instead of being overwritten by it. (SQLite has one writer at a time.)
pub fn due_for_notice(
    conn: &mut AnyConnection,
    now: UtcDateTime,
    limit: i64,
) -> Result<Vec<DeadlineRow>, StoreError> {
    macro_rules! due {
        () => {
            deadlines::table
                .filter(deadlines::next_notice_at.le(now))
                .filter(deadlines::state.eq(DeadlineState::Pending))
                .order((deadlines::next_notice_at, deadlines::id))
                .limit(limit)
                .select(DeadlineRow::as_select())
        };
    }
    let rows = match conn {
        AnyConnection::Pg(c) => due!().for_update().skip_locked().load(c)?,
        AnyConnection::Sqlite(c) => due!().load(c)?,
    };
    Ok(rows)
}

/// Overdue deadlines (pending, due before `now`) that the notice tick will not look at again: recorded as
/// history, or their ladder is done.
pub fn count_overdue_without_notice(
    conn: &mut AnyConnection,
    now: UtcDateTime,
) -> Result<i64, StoreError> {
    let n = with_conn!(conn, c => deadlines::table
        .filter(deadlines::state.eq(DeadlineState::Pending))
        .filter(deadlines::due_at.le(now))
        .filter(deadlines::next_notice_at.is_null())
        .count()
        .get_result(c))?;
    Ok(n)
}

/// The earliest moment after `now` at which some deadline needs the notice tick.
pub fn next_notice_after(
    conn: &mut AnyConnection,
    now: UtcDateTime,
) -> Result<Option<UtcDateTime>, StoreError> {
    let at = with_conn!(conn, c => deadlines::table
        .filter(deadlines::next_notice_at.gt(now))
        .order(deadlines::next_notice_at)
        .select(deadlines::next_notice_at)
        .first::<Option<UtcDateTime>>(c)
        .optional())?;
    Ok(at.flatten())
}

/// Gives these deadlines another recipient (the recipient changed by succession or by the office's choice).
pub fn set_recipient_many(
    conn: &mut AnyConnection,
    ids: &[i64],
    recipient_id: Option<i64>,
    now: UtcDateTime,
) -> Result<(), StoreError> {
    for chunk in ids.chunks(BATCH) {
        with_conn!(conn, c => diesel::update(deadlines::table.filter(deadlines::id.eq_any(chunk)))
            .set((deadlines::recipient_id.eq(recipient_id), deadlines::updated_at.eq(now)))
            .execute(c))?;
    }
    Ok(())
}

/// Counts one more reminder or escalation sent for each of these deadlines.
pub fn count_notice_many(conn: &mut AnyConnection, ids: &[i64]) -> Result<(), StoreError> {
    for chunk in ids.chunks(BATCH) {
        with_conn!(conn, c => diesel::update(deadlines::table.filter(deadlines::id.eq_any(chunk)))
            .set(deadlines::notices_sent.eq(deadlines::notices_sent + 1))
            .execute(c))?;
    }
    Ok(())
}

/// Sets the next notice moment of many deadlines at once.
pub fn set_next_notice_many(
    conn: &mut AnyConnection,
    ids: &[i64],
    at: Option<UtcDateTime>,
) -> Result<(), StoreError> {
    for chunk in ids.chunks(BATCH) {
        with_conn!(conn, c => diesel::update(deadlines::table.filter(deadlines::id.eq_any(chunk)))
            .set(deadlines::next_notice_at.eq(at))
            .execute(c))?;
    }
    Ok(())
}

/// Refreshes the planner's statistics after a bulk insert, so the first lists afterwards use the indexes
/// instead of plans made for the empty table.
pub fn analyze(conn: &mut AnyConnection) -> Result<(), StoreError> {
    use diesel::connection::SimpleConnection;
    with_conn!(conn, c => c.batch_execute("ANALYZE deadlines"))?;
    Ok(())
}

/// Every deadline of an obligation (optionally of one period), for diffing a recomputation.
pub fn of_obligation(
    conn: &mut AnyConnection,
    obligation_id: i64,
    period: Option<&str>,
) -> Result<Vec<DeadlineRow>, StoreError> {
    let rows = with_conn!(conn, c => {
        let mut q = deadlines::table
            .filter(deadlines::obligation_id.eq(obligation_id))
            .select(DeadlineRow::as_select())
            .into_boxed();
        if let Some(period) = period {
            q = q.filter(deadlines::period.eq(period));
        }
        q.load(c)
    })?;
    Ok(rows)
}

/// Finds the deadline of (obligation, unit, period) and takes its row lock for the rest of the transaction, in
/// one statement: concurrent filings for one deadline queue here.
pub fn lock_one(
    conn: &mut AnyConnection,
    obligation_id: i64,
    unit_id: i64,
    period: &str,
) -> Result<Option<DeadlineRow>, StoreError> {
    macro_rules! one {
        () => {
            deadlines::table
                .filter(deadlines::obligation_id.eq(obligation_id))
                .filter(deadlines::unit_id.eq(unit_id))
                .filter(deadlines::period.eq(period))
                .select(DeadlineRow::as_select())
        };
    }
    // PostgreSQL: a row lock, no new row version. SQLite: the write transaction (BEGIN IMMEDIATE) already holds
    // the database's one write lock, so a plain read is the row as every later writer will see it.
    let row = match conn {
        AnyConnection::Pg(c) => one!().for_update().first(c).optional()?,
        AnyConnection::Sqlite(c) => one!().first(c).optional()?,
    };
    Ok(row)
}

/// Takes the row lock of a deadline for the rest of the transaction (an UPDATE, so it is portable: SQLite
/// write transactions are serialised anyway) and returns the row as committed by whoever held it before.
pub fn lock(
    conn: &mut AnyConnection,
    id: i64,
    now: UtcDateTime,
) -> Result<Option<DeadlineRow>, StoreError> {
    with_conn!(conn, c => diesel::update(deadlines::table.find(id)).set(deadlines::updated_at.eq(now)).execute(c))?;
    let row = with_conn!(conn, c => deadlines::table.find(id).select(DeadlineRow::as_select()).first(c).optional())?;
    Ok(row)
}

/// The obligations that have deadlines whose reports go to a unit.
pub fn obligations_received_by(
    conn: &mut AnyConnection,
    unit_id: i64,
) -> Result<Vec<i64>, StoreError> {
    let ids = with_conn!(conn, c => deadlines::table
        .filter(deadlines::recipient_id.eq(unit_id))
        .select(deadlines::obligation_id)
        .distinct()
        .load(c))?;
    Ok(ids)
}

/// The obligations that have deadlines for a unit.
pub fn obligations_of_unit(conn: &mut AnyConnection, unit_id: i64) -> Result<Vec<i64>, StoreError> {
    let ids = with_conn!(conn, c => deadlines::table
        .filter(deadlines::unit_id.eq(unit_id))
        .select(deadlines::obligation_id)
        .distinct()
        .load(c))?;
    Ok(ids)
}

pub fn count_of_obligation(
    conn: &mut AnyConnection,
    obligation_id: i64,
) -> Result<i64, StoreError> {
    let n = with_conn!(conn, c => deadlines::table
        .filter(deadlines::obligation_id.eq(obligation_id))
        .count()
        .get_result(c))?;
    Ok(n)
}

/// Moves a pending deadline to a new last day (a recomputation after a calendar or schedule change).
pub fn reschedule(
    conn: &mut AnyConnection,
    id: i64,
    last_day: NaiveDate,
    due_at: UtcDateTime,
    now: UtcDateTime,
) -> Result<(), StoreError> {
    with_conn!(conn, c => diesel::update(
            deadlines::table
                .find(id)
                .filter(deadlines::state.eq(DeadlineState::Pending))
                .filter(deadlines::extended_reason.is_null()),
        )
        .set((
            deadlines::last_day.eq(last_day),
            deadlines::due_at.eq(due_at),
            deadlines::revision.eq(deadlines::revision + 1),
            deadlines::updated_at.eq(now),
            // The notice tick works out the new moments on its next pass.
            deadlines::next_notice_at.eq(Some(UtcDateTime::NEXT_LOOK)),
        ))
        .execute(c))?;
    Ok(())
}

/// Gives a pending or returned deadline a new last day; it stays (or becomes again) pending.
pub fn extend(
    conn: &mut AnyConnection,
    id: i64,
    last_day: NaiveDate,
    due_at: UtcDateTime,
    reason: &str,
    now: UtcDateTime,
) -> Result<(), StoreError> {
    with_conn!(conn, c => diesel::update(deadlines::table.find(id))
        .set((
            deadlines::last_day.eq(last_day),
            deadlines::due_at.eq(due_at),
            deadlines::extended_reason.eq(reason),
            deadlines::revision.eq(deadlines::revision + 1),
            deadlines::updated_at.eq(now),
            deadlines::next_notice_at.eq(Some(UtcDateTime::NEXT_LOOK)),
            deadlines::extended_at.eq(now),
            // SET reads the row as it was: the due instant before the first extension is kept.
            deadlines::first_due_at.eq(diesel::dsl::sql::<
                diesel::sql_types::Nullable<super::types::UtcTimestamp>,
            >("COALESCE(first_due_at, due_at)")),
        ))
        .execute(c))?;
    Ok(())
}

pub fn waive(
    conn: &mut AnyConnection,
    id: i64,
    reason: &str,
    now: UtcDateTime,
) -> Result<(), StoreError> {
    with_conn!(conn, c => diesel::update(deadlines::table.find(id))
        .set((
            deadlines::state.eq(DeadlineState::Waived),
            deadlines::waived_reason.eq(reason),
            deadlines::updated_at.eq(now),
            deadlines::next_notice_at.eq(None::<UtcDateTime>),
            deadlines::waived_at.eq(now),
        ))
        .execute(c))?;
    Ok(())
}

/// Deletes deadlines that are still pending and not extended (never one with a submission, which is not pending).
pub fn delete_pending(conn: &mut AnyConnection, ids: &[i64]) -> Result<usize, StoreError> {
    let mut deleted = 0;
    for chunk in ids.chunks(BATCH) {
        deleted += with_conn!(conn, c => diesel::delete(
            deadlines::table
                .filter(deadlines::id.eq_any(chunk))
                .filter(deadlines::state.eq(DeadlineState::Pending))
                .filter(deadlines::extended_reason.is_null()),
        )
        .execute(c))?;
    }
    Ok(deleted)
}

/// How the list is narrowed; the status filter is already translated to stored state and a due_at bound.
#[derive(Debug, Default, Clone)]
pub struct DeadlineFilter {
    pub obligation_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub period: Option<String>,
    pub state: Option<DeadlineState>,
    /// Only deadlines of obligations whose plan this unit coordinates.
    pub coordinator_id: Option<i64>,
    /// due_at strictly before.
    pub due_before: Option<UtcDateTime>,
    /// due_at at or after.
    pub due_from: Option<UtcDateTime>,
    /// Keyset position: (due_at, id) of the last row of the previous page.
    pub after: Option<(UtcDateTime, i64)>,
    pub limit: i64,
    /// Only deadlines of units that exist on this day (not closed, already opened).
    pub units_existing_on: Option<NaiveDate>,
}

/// A deadline with the code and time zone of its unit.
pub type ListedDeadline = (DeadlineRow, String, String);

/// Deadlines in (due_at, id) order, the order of the `(state, due_at)` and `(unit_id, due_at)` indexes.
pub fn list(
    conn: &mut AnyConnection,
    f: &DeadlineFilter,
) -> Result<Vec<ListedDeadline>, StoreError> {
    let rows = with_conn!(conn, c => {
        let mut q = deadlines::table
            .inner_join(units::table)
            .select((DeadlineRow::as_select(), units::code, units::time_zone))
            .order((deadlines::due_at, deadlines::id))
            .limit(f.limit)
            .into_boxed();
        if let Some(id) = f.obligation_id {
            q = q.filter(deadlines::obligation_id.eq(id));
        }
        if let Some(id) = f.unit_id {
            q = q.filter(deadlines::unit_id.eq(id));
        }
        if let Some(period) = &f.period {
            q = q.filter(deadlines::period.eq(period.as_str()));
        }
        if let Some(state) = f.state {
            q = q.filter(deadlines::state.eq(state));
        }
        if let Some(unit) = f.coordinator_id {
            let coordinated = obligations::table
                .inner_join(plans::table)
                .filter(plans::coordinator_id.eq(unit))
                .select(obligations::id);
            q = q.filter(deadlines::obligation_id.eq_any(coordinated));
        }
        if let Some(t) = f.due_before {
            q = q.filter(deadlines::due_at.lt(t));
        }
        if let Some(t) = f.due_from {
            q = q.filter(deadlines::due_at.ge(t));
        }
        if let Some(day) = f.units_existing_on {
            q = q
                .filter(units::valid_until.is_null().or(units::valid_until.ge(day)))
                .filter(units::valid_from.is_null().or(units::valid_from.le(day)));
        }
        if let Some((due, id)) = f.after {
            // `due_at >= x` bounds the index range; the OR only filters rows at the boundary.
            q = q
                .filter(deadlines::due_at.ge(due))
                .filter(deadlines::due_at.gt(due).or(deadlines::id.gt(id)));
        }
        q.load(c)
    })?;
    Ok(rows)
}

pub fn find(conn: &mut AnyConnection, id: i64) -> Result<Option<ListedDeadline>, StoreError> {
    let row = with_conn!(conn, c => deadlines::table
        .inner_join(units::table)
        .filter(deadlines::id.eq(id))
        .select((DeadlineRow::as_select(), units::code, units::time_zone))
        .first(c)
        .optional())?;
    Ok(row)
}

/// The periods of an obligation with their earliest due instant and last day, in due order (one GROUP BY).
pub fn period_dues(
    conn: &mut AnyConnection,
    obligation_id: i64,
) -> Result<Vec<(String, UtcDateTime, NaiveDate)>, StoreError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        period: String,
        #[diesel(sql_type = super::types::UtcTimestamp)]
        due_at: UtcDateTime,
        #[diesel(sql_type = diesel::sql_types::Date)]
        last_day: NaiveDate,
    }
    const SQL: &str =
        "SELECT period, MIN(due_at) AS due_at, MIN(last_day) AS last_day FROM deadlines \
                       WHERE obligation_id = {p} GROUP BY period ORDER BY MIN(due_at), period";
    let rows: Vec<Row> = match conn {
        AnyConnection::Pg(c) => diesel::sql_query(SQL.replace("{p}", "$1"))
            .bind::<diesel::sql_types::BigInt, _>(obligation_id)
            .load(c)?,
        AnyConnection::Sqlite(c) => diesel::sql_query(SQL.replace("{p}", "?"))
            .bind::<diesel::sql_types::BigInt, _>(obligation_id)
            .load(c)?,
    };
    Ok(rows
        .into_iter()
        .map(|r| (r.period, r.due_at, r.last_day))
        .collect())
}
