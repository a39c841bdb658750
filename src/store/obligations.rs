//! Queries on `obligations` and `events`.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::schema::{events, obligations};
use super::{AnyConnection, StoreError, TextJson, UtcDateTime};
use crate::domain::obligation::{EscalationStep, Reporters};
use crate::domain::Schedule;
use crate::with_conn;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = obligations)]
pub struct ObligationRow {
    pub id: i64,
    pub plan_id: i64,
    pub title: String,
    pub recipient_id: i64,
    pub reporters: TextJson<Reporters>,
    pub schedule: TextJson<Schedule>,
    pub grace: String,
    pub reminders: TextJson<Vec<String>>,
    pub escalation: TextJson<Vec<EscalationStep>>,
    pub form: Option<TextJson<serde_json::Value>>,
    pub created_at: UtcDateTime,
    pub updated_at: UtcDateTime,
    /// The plan's own words of the obligation ("Trước ngày 01 tháng 12 hàng năm, báo cáo kết quả …").
    pub wording: Option<String>,
    /// The office's notes on the obligation: how it was read, what is assumed.
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = obligations, treat_none_as_null = true)]
pub struct ObligationValues<'a> {
    pub title: &'a str,
    pub recipient_id: i64,
    pub reporters: TextJson<&'a Reporters>,
    pub schedule: TextJson<&'a Schedule>,
    pub grace: &'a str,
    pub reminders: TextJson<&'a Vec<String>>,
    pub escalation: TextJson<&'a Vec<EscalationStep>>,
    pub form: Option<TextJson<&'a serde_json::Value>>,
    pub wording: Option<&'a str>,
    pub notes: Option<&'a str>,
    pub updated_at: UtcDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = obligations)]
struct NewObligation<'a> {
    plan_id: i64,
    created_at: UtcDateTime,
    #[diesel(embed)]
    values: ObligationValues<'a>,
}

/// The office's choices of recipient for an obligation: (from this last day on, this unit), in day order.
pub fn recipient_choices(
    conn: &mut AnyConnection,
    obligation_id: i64,
) -> Result<Vec<(NaiveDate, i64)>, StoreError> {
    use super::schema::obligation_recipients as r;
    let rows = with_conn!(conn, c => r::table
        .filter(r::obligation_id.eq(obligation_id))
        .order(r::from_day)
        .select((r::from_day, r::recipient_id))
        .load(c))?;
    Ok(rows)
}

/// Records that the reports of periods whose last day is `from_day` or later go to `recipient_id`; a choice made
/// earlier for later days gives way to this one.
pub fn choose_recipient(
    conn: &mut AnyConnection,
    obligation_id: i64,
    from_day: NaiveDate,
    recipient_id: i64,
) -> Result<(), StoreError> {
    use super::schema::obligation_recipients as r;
    with_conn!(conn, c => diesel::delete(
            r::table
                .filter(r::obligation_id.eq(obligation_id))
                .filter(r::from_day.ge(from_day)),
        )
        .execute(c))?;
    with_conn!(conn, c => diesel::insert_into(r::table)
        .values((r::obligation_id.eq(obligation_id), r::from_day.eq(from_day), r::recipient_id.eq(recipient_id)))
        .execute(c))?;
    Ok(())
}

/// The obligations whose recipient is, or was chosen to be, one of `units`.
pub fn receiving(conn: &mut AnyConnection, units: &[i64]) -> Result<Vec<i64>, StoreError> {
    use super::schema::obligation_recipients as r;
    let mut ids: Vec<i64> = with_conn!(conn, c => obligations::table
        .filter(obligations::recipient_id.eq_any(units))
        .select(obligations::id)
        .load(c))?;
    let chosen: Vec<i64> = with_conn!(conn, c => r::table
        .filter(r::recipient_id.eq_any(units))
        .select(r::obligation_id)
        .load(c))?;
    ids.extend(chosen);
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

pub fn insert(
    conn: &mut AnyConnection,
    plan_id: i64,
    values: ObligationValues<'_>,
) -> Result<i64, StoreError> {
    let row = NewObligation {
        plan_id,
        created_at: values.updated_at,
        values,
    };
    let id = with_conn!(conn, c => diesel::insert_into(obligations::table)
        .values(&row)
        .returning(obligations::id)
        .get_result(c))?;
    Ok(id)
}

pub fn update(
    conn: &mut AnyConnection,
    id: i64,
    values: ObligationValues<'_>,
) -> Result<(), StoreError> {
    with_conn!(conn, c => diesel::update(obligations::table.find(id)).set(&values).execute(c))?;
    Ok(())
}

/// Takes the obligation's row lock for the rest of the transaction, so recomputations of one obligation
/// (an update, an event, a calendar edit) run one after the other instead of inserting the same rows twice.
pub fn lock(conn: &mut AnyConnection, id: i64) -> Result<(), StoreError> {
    with_conn!(conn, c => diesel::update(obligations::table.find(id)).set(obligations::id.eq(obligations::id)).execute(c))?;
    Ok(())
}

pub fn find(conn: &mut AnyConnection, id: i64) -> Result<Option<ObligationRow>, StoreError> {
    let row = with_conn!(conn, c => obligations::table
        .find(id)
        .select(ObligationRow::as_select())
        .first(c)
        .optional())?;
    Ok(row)
}

/// An obligation with its plan, in one query.
pub fn find_with_plan(
    conn: &mut AnyConnection,
    id: i64,
) -> Result<Option<(ObligationRow, super::plans::PlanRow)>, StoreError> {
    use super::schema::plans;
    let row = with_conn!(conn, c => obligations::table
        .inner_join(plans::table)
        .filter(obligations::id.eq(id))
        .select((ObligationRow::as_select(), super::plans::PlanRow::as_select()))
        .first(c)
        .optional())?;
    Ok(row)
}

/// How a filing names its unit: a reporter token's own (by id), or the one an office names (by code).
#[derive(Debug, Clone, Copy)]
pub enum UnitKey<'a> {
    Id(i64),
    Code(&'a str),
}

/// An obligation, its plan and the unit a filing names, in one read (the filing path counts its statements):
/// `None` without the obligation, no unit when none has that id or code.
#[allow(clippy::type_complexity)]
pub fn find_for_filing(
    conn: &mut AnyConnection,
    id: i64,
    unit: UnitKey<'_>,
) -> Result<
    Option<(
        ObligationRow,
        super::plans::PlanRow,
        Option<super::units::UnitRow>,
    )>,
    StoreError,
> {
    use super::plans::PlanRow;
    use super::schema::{plans, units};
    use super::units::UnitRow;
    macro_rules! read {
        ($on:expr) => {
            with_conn!(conn, c => obligations::table
                .inner_join(plans::table)
                .left_join(units::table.on($on))
                .filter(obligations::id.eq(id))
                .select((ObligationRow::as_select(), PlanRow::as_select(), Option::<UnitRow>::as_select()))
                .first(c)
                .optional())
        };
    }
    let row = match unit {
        UnitKey::Id(unit_id) => read!(units::id.eq(unit_id))?,
        UnitKey::Code(code) => read!(units::code.eq(code))?,
    };
    Ok(row)
}

/// The obligations of a plan (or of every plan), in id order, after the cursor `after`.
pub fn list(
    conn: &mut AnyConnection,
    plan_id: Option<i64>,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<ObligationRow>, StoreError> {
    let rows = with_conn!(conn, c => {
        let mut q = obligations::table
            .select(ObligationRow::as_select())
            .order(obligations::id)
            .limit(limit)
            .into_boxed();
        if let Some(plan) = plan_id {
            q = q.filter(obligations::plan_id.eq(plan));
        }
        if let Some(after) = after {
            q = q.filter(obligations::id.gt(after));
        }
        q.load(c)
    })?;
    Ok(rows)
}

/// Which obligations a list across plans shows; every filter narrows.
#[derive(Debug, Clone, Default)]
pub struct ObligationFilter {
    pub plan_id: Option<i64>,
    /// Reports go to this unit: the obligation's recipient, or a deadline's own (after a succession).
    pub recipient_id: Option<i64>,
    /// This unit has deadlines of the obligation.
    pub reporter_id: Option<i64>,
    /// `yearly`, `monthly`, … as the schedule says.
    pub period_type: Option<&'static str>,
    /// A coordinator's scope: the plans it coordinates.
    pub coordinator_id: Option<i64>,
    pub after: Option<i64>,
    pub limit: i64,
}

/// Obligations across plans, in id order.
pub fn list_filtered(
    conn: &mut AnyConnection,
    f: &ObligationFilter,
) -> Result<Vec<ObligationRow>, StoreError> {
    use super::schema::{deadlines, plans};
    let rows = with_conn!(conn, c => {
        let mut q = obligations::table
            .select(ObligationRow::as_select())
            .order(obligations::id)
            .limit(f.limit)
            .into_boxed();
        if let Some(plan) = f.plan_id {
            q = q.filter(obligations::plan_id.eq(plan));
        }
        if let Some(unit) = f.recipient_id {
            q = q.filter(
                obligations::recipient_id.eq(unit).or(diesel::dsl::exists(
                    deadlines::table
                        .filter(deadlines::obligation_id.eq(obligations::id))
                        .filter(deadlines::recipient_id.eq(unit)),
                )),
            );
        }
        if let Some(unit) = f.reporter_id {
            q = q.filter(diesel::dsl::exists(
                deadlines::table
                    .filter(deadlines::obligation_id.eq(obligations::id))
                    .filter(deadlines::unit_id.eq(unit)),
            ));
        }
        if let Some(kind) = f.period_type {
            // The schedule is stored as serde writes it: `"period_type":"monthly"`.
            q = q.filter(obligations::schedule.like(format!("%\"period_type\":\"{kind}\"%")));
        }
        if let Some(coordinator) = f.coordinator_id {
            q = q.filter(
                obligations::plan_id.eq_any(
                    plans::table
                        .filter(plans::coordinator_id.eq(coordinator))
                        .select(plans::id),
                ),
            );
        }
        if let Some(after) = f.after {
            q = q.filter(obligations::id.gt(after));
        }
        q.load(c)
    })?;
    Ok(rows)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub id: i64,
    pub obligation_id: i64,
    pub name: String,
    pub ended_on: NaiveDate,
    pub units: Option<TextJson<Vec<String>>>,
    pub created_at: UtcDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = events)]
pub struct NewEvent<'a> {
    pub obligation_id: i64,
    pub name: &'a str,
    pub ended_on: NaiveDate,
    pub units: Option<TextJson<&'a Vec<String>>>,
    pub created_at: UtcDateTime,
}

pub fn insert_event(conn: &mut AnyConnection, event: &NewEvent<'_>) -> Result<i64, StoreError> {
    let id = with_conn!(conn, c => diesel::insert_into(events::table)
        .values(event)
        .returning(events::id)
        .get_result(c))?;
    Ok(id)
}

pub fn find_event(conn: &mut AnyConnection, id: i64) -> Result<Option<EventRow>, StoreError> {
    let row = with_conn!(conn, c => events::table
        .find(id)
        .select(EventRow::as_select())
        .first(c)
        .optional())?;
    Ok(row)
}

pub fn events(
    conn: &mut AnyConnection,
    obligation_id: Option<i64>,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<EventRow>, StoreError> {
    let rows = with_conn!(conn, c => {
        let mut q = events::table
            .select(EventRow::as_select())
            .order(events::id)
            .limit(limit)
            .into_boxed();
        if let Some(obligation) = obligation_id {
            q = q.filter(events::obligation_id.eq(obligation));
        }
        if let Some(after) = after {
            q = q.filter(events::id.gt(after));
        }
        q.load(c)
    })?;
    Ok(rows)
}
