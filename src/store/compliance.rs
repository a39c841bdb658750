//! The compliance matrix: every deadline of a filter as it stood at an instant `as_of`, one page of (unit,
//! obligation) rows at a time, and the totals per period counted by the database (GROUP BY), never a query per
//! unit. The status of a cell is derived in SQL from the facts and the moments they became true (a waiver's
//! `waived_at`, an extension's `extended_at` and `first_due_at`, the first report's `submitted_at`, a review's
//! `reviewed_at`), so that `as_of` tells the truth of an earlier moment; docs/compliance.md has the rules.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Date, Integer, Nullable, Text};

use super::states::{DeadlineState, ReviewDecision};
use super::types::UtcTimestamp;
use super::{AnyConnection, StoreError, UtcDateTime};
use crate::domain::CellStatus;

/// Which deadlines a compliance question is about; every filter narrows.
#[derive(Debug, Clone)]
pub struct ComplianceFilter {
    pub as_of: UtcDateTime,
    /// `as_of` is now: the stored state already says which reports are returned, and the totals need not
    /// read the history of versions.
    pub current: bool,
    pub plan_id: Option<i64>,
    pub obligation_id: Option<i64>,
    /// The unit the reports go to (the deadline's own recipient, else the obligation's).
    pub recipient_id: Option<i64>,
    pub unit_id: Option<i64>,
    /// A unit and everything under it.
    pub parent_id: Option<i64>,
    /// A coordinator's scope: the plans it coordinates.
    pub coordinator_id: Option<i64>,
    pub period: Option<String>,
    /// `from ≤ period ≤ to`, among the period ids of one shape (see [`PeriodShape`]).
    pub period_range: Option<(String, String, PeriodShape)>,
    /// Only rows with at least one cell in this status.
    pub status: Option<CellStatus>,
}

impl ComplianceFilter {
    /// The joins of `d` (deadlines) to `o` (obligations) and `p` (plans) that the filter's conditions need: none
    /// for a question about one obligation, which spares a join of every deadline (200,000 for a national
    /// monthly obligation over five years).
    fn joins(&self) -> &'static str {
        if self.coordinator_id.is_some() || self.plan_id.is_some() || self.recipient_id.is_some() {
            "JOIN obligations o ON o.id = d.obligation_id JOIN plans p ON p.id = o.plan_id"
        } else {
            ""
        }
    }
}

/// Period ids of one type compare in time order as text only among themselves (`2024Q3` sorts after `202412`):
/// a range keeps to the shape of its ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodShape {
    Year,
    Half,
    Quarter,
    Month,
    Week,
}

impl PeriodShape {
    fn condition(self) -> &'static str {
        match self {
            Self::Year => "LENGTH(d.period) = 4",
            Self::Half => "d.period LIKE '____S_'",
            Self::Quarter => "d.period LIKE '____Q_'",
            Self::Month => {
                "LENGTH(d.period) = 6 AND d.period NOT LIKE '____S_' AND d.period NOT LIKE '____Q_'"
            }
            Self::Week => "d.period LIKE '____W__'",
        }
    }
}

/// One cell: a deadline as it stood at `as_of`.
#[derive(Debug, Clone, QueryableByName)]
pub struct CellRow {
    #[diesel(sql_type = BigInt)]
    pub deadline_id: i64,
    #[diesel(sql_type = BigInt)]
    pub unit_id: i64,
    #[diesel(sql_type = Text)]
    pub unit_code: String,
    #[diesel(sql_type = Text)]
    pub unit_name: String,
    #[diesel(sql_type = Text)]
    pub time_zone: String,
    #[diesel(sql_type = Nullable<Date>)]
    pub valid_from: Option<chrono::NaiveDate>,
    #[diesel(sql_type = Nullable<Date>)]
    pub valid_until: Option<chrono::NaiveDate>,
    #[diesel(sql_type = BigInt)]
    pub obligation_id: i64,
    #[diesel(sql_type = Text)]
    pub obligation_title: String,
    #[diesel(sql_type = Text)]
    pub period: String,
    /// The last day as stored (after any extension).
    #[diesel(sql_type = Date)]
    pub last_day: chrono::NaiveDate,
    /// The due instant as stored (after any extension).
    #[diesel(sql_type = UtcTimestamp)]
    pub due_now: UtcDateTime,
    /// The due instant at `as_of`.
    #[diesel(sql_type = UtcTimestamp)]
    pub due_at: UtcDateTime,
    /// When the first report arrived, if it had by `as_of`.
    #[diesel(sql_type = Nullable<UtcTimestamp>)]
    pub received_at: Option<UtcDateTime>,
    /// The latest version received by `as_of`.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub submission_id: Option<i64>,
    #[diesel(sql_type = Nullable<Integer>)]
    pub version: Option<i32>,
    /// Its review decision, if made by `as_of`.
    #[diesel(sql_type = Nullable<Text>)]
    pub decision: Option<String>,
    #[diesel(sql_type = Text)]
    pub status: String,
    /// An extension had been granted by `as_of`.
    #[diesel(sql_type = Bool)]
    pub extended: bool,
}

/// How many deadlines of one period were in each status at `as_of`.
#[derive(Debug, Clone, Default, QueryableByName)]
pub struct PeriodTotal {
    #[diesel(sql_type = Text)]
    pub period: String,
    #[diesel(sql_type = BigInt)]
    pub on_time: i64,
    #[diesel(sql_type = BigInt)]
    pub late: i64,
    #[diesel(sql_type = BigInt)]
    pub overdue: i64,
    #[diesel(sql_type = BigInt)]
    pub open: i64,
    #[diesel(sql_type = BigInt)]
    pub returned: i64,
    #[diesel(sql_type = BigInt)]
    pub extended: i64,
    #[diesel(sql_type = BigInt)]
    pub waived: i64,
}

/// A value bound to a numbered placeholder.
enum Bind {
    Int(i64),
    Text(String),
    At(UtcDateTime),
}

/// SQL text with numbered placeholders (`$1` on PostgreSQL, `?1` on SQLite: both may repeat one) and their
/// values.
struct Sql {
    pg: bool,
    text: String,
    binds: Vec<Bind>,
}

impl Sql {
    fn new(conn: &AnyConnection) -> Self {
        Self {
            pg: matches!(conn, AnyConnection::Pg(_)),
            text: String::new(),
            binds: Vec::new(),
        }
    }

    /// A placeholder for `value`.
    fn param(&mut self, value: Bind) -> String {
        self.binds.push(value);
        let n = self.binds.len();
        if self.pg {
            format!("${n}")
        } else {
            format!("?{n}")
        }
    }

    fn load<T>(self, conn: &mut AnyConnection) -> Result<Vec<T>, StoreError>
    where
        T: QueryableByName<diesel::pg::Pg> + QueryableByName<diesel::sqlite::Sqlite> + 'static,
    {
        macro_rules! run {
            ($c:expr, $db:ty) => {{
                let mut q = diesel::sql_query(self.text).into_boxed::<$db>();
                for bind in self.binds {
                    q = match bind {
                        Bind::Int(v) => q.bind::<BigInt, _>(v),
                        Bind::Text(v) => q.bind::<Text, _>(v),
                        Bind::At(v) => q.bind::<UtcTimestamp, _>(v),
                    };
                }
                q.load::<T>($c)?
            }};
        }
        Ok(match conn {
            AnyConnection::Pg(c) => run!(c, diesel::pg::Pg),
            AnyConnection::Sqlite(c) => run!(c, diesel::sqlite::Sqlite),
        })
    }
}

/// The recursive unit tree (when the filter has a parent, else empty) and the conditions on `d` (deadlines),
/// `o` (obligations) and `p` (plans) of a filter.
type Where = (String, Vec<String>);

fn filter_where(sql: &mut Sql, f: &ComplianceFilter) -> Where {
    let mut filters = vec!["1 = 1".to_owned()];
    let mut tree = String::new();
    if let Some(parent) = f.parent_id {
        let p = sql.param(Bind::Int(parent));
        tree = format!(
            "RECURSIVE tree(id) AS (SELECT id FROM units WHERE id = {p} \
             UNION ALL SELECT u.id FROM units u JOIN tree ON u.parent_id = tree.id), "
        );
        filters.push("d.unit_id IN (SELECT id FROM tree)".into());
    }
    let mut eq = |column: &str, value: Option<i64>, sql: &mut Sql| {
        if let Some(v) = value {
            let p = sql.param(Bind::Int(v));
            filters.push(format!("{column} = {p}"));
        }
    };
    eq("p.coordinator_id", f.coordinator_id, sql);
    eq("o.plan_id", f.plan_id, sql);
    eq("d.obligation_id", f.obligation_id, sql);
    eq(
        "COALESCE(d.recipient_id, o.recipient_id)",
        f.recipient_id,
        sql,
    );
    eq("d.unit_id", f.unit_id, sql);
    if let Some(period) = &f.period {
        let p = sql.param(Bind::Text(period.clone()));
        filters.push(format!("d.period = {p}"));
    }
    if let Some((from, to, shape)) = &f.period_range {
        let (a, b) = (
            sql.param(Bind::Text(from.clone())),
            sql.param(Bind::Text(to.clone())),
        );
        filters.push(format!(
            "d.period >= {a} AND d.period <= {b} AND {}",
            shape.condition()
        ));
    }
    (tree, filters)
}

/// `WITH [RECURSIVE tree …,] [before,] c AS (…)`: the filtered deadlines with their state at `as_of`; `before`
/// are common table expressions of the caller's (they may use the tree), `restrict` a join of `d` that narrows
/// it further.
fn cells_cte(
    sql: &mut Sql,
    f: &ComplianceFilter,
    versions: bool,
    (tree, conditions): &Where,
    before: &str,
    restrict: &str,
) {
    let t = sql.param(Bind::At(f.as_of));
    // Returned at `as_of`: its latest version then was returned by then; now, simply the stored state.
    let (returned_when, version_columns, version_join) = if versions {
        let returned = sql.param(Bind::Text(ReviewDecision::Return.as_str().to_owned()));
        (
            format!("s.review_decision = {returned} AND s.reviewed_at <= {t}"),
            format!(
                "s.id AS submission_id, s.version, CASE WHEN s.reviewed_at <= {t} THEN s.review_decision END AS decision"
            ),
            format!(
                "LEFT JOIN submissions s ON s.deadline_id = d.id AND s.version = (
            SELECT MAX(s2.version) FROM submissions s2 WHERE s2.deadline_id = d.id AND s2.received_at <= {t})"
            ),
        )
    } else {
        let returned = sql.param(Bind::Text(DeadlineState::Returned.as_str().to_owned()));
        (
            format!("d.state = {returned}"),
            "NULL AS submission_id, NULL AS version, NULL AS decision".to_owned(),
            String::new(),
        )
    };
    // The due instant at `as_of`: before an extension decided later, the one it replaced.
    let due = format!(
        "CASE WHEN d.first_due_at IS NOT NULL AND d.extended_at > {t} THEN d.first_due_at ELSE d.due_at END"
    );
    let extended = format!(
        "(d.extended_reason IS NOT NULL AND (d.extended_at IS NULL OR d.extended_at <= {t}))"
    );
    sql.text.push_str(&format!(
        "WITH {tree}{before}c AS (
          SELECT d.id AS deadline_id, d.unit_id, d.obligation_id, d.period, d.last_day,
                 d.due_at AS due_now, {due} AS due_at,
                 CASE WHEN d.submitted_at <= {t} THEN d.submitted_at END AS received_at,
                 {version_columns},
                 CASE
                   WHEN d.waived_reason IS NOT NULL AND (d.waived_at IS NULL OR d.waived_at <= {t}) THEN '{waived}'
                   WHEN {returned_when} THEN '{returned_word}'
                   WHEN d.submitted_at <= {t} AND d.submitted_at < {due} THEN '{on_time}'
                   WHEN d.submitted_at <= {t} THEN '{late}'
                   WHEN {due} <= {t} THEN '{overdue}'
                   WHEN {extended} THEN '{extended_word}'
                   ELSE '{open}'
                 END AS status,
                 {extended} AS extended
          FROM deadlines d
          {restrict}
          {joins}
          {version_join}
          WHERE {}
        )",
        conditions.join(" AND "),
        joins = f.joins(),
        waived = CellStatus::Waived.as_str(),
        returned_word = CellStatus::Returned.as_str(),
        on_time = CellStatus::OnTime.as_str(),
        late = CellStatus::Late.as_str(),
        overdue = CellStatus::Overdue.as_str(),
        extended_word = CellStatus::Extended.as_str(),
        open = CellStatus::Open.as_str(),
    ));
}

/// `c` narrowed to the rows (unit, obligation) that have a cell in the filter's status.
fn with_status(sql: &mut Sql, f: &ComplianceFilter) -> String {
    match f.status {
        Some(status) => {
            let s = sql.param(Bind::Text(status.as_str().to_owned()));
            format!(
                "(SELECT * FROM c WHERE EXISTS (SELECT 1 FROM c c2 WHERE c2.unit_id = c.unit_id \
                 AND c2.obligation_id = c.obligation_id AND c2.status = {s}))"
            )
        }
        None => "c".into(),
    }
}

/// The cells of up to `limit` rows (unit, obligation) after the keyset position `after` (unit code, obligation
/// id), in unit code, obligation and period order.
///
/// Without a status filter the page's rows are chosen first, from the deadlines the filter selects (no status
/// needed for that), and only their cells get a status and a version: one page of 1,000 communes out of 3,321
/// works out 12,000 statuses, not 40,000. With a status filter every cell's status is needed to choose rows.
pub fn cells(
    conn: &mut AnyConnection,
    f: &ComplianceFilter,
    after: Option<(String, i64)>,
    limit: i64,
) -> Result<Vec<CellRow>, StoreError> {
    cells_sql(conn, f, after, limit).load(conn)
}

fn cells_sql(
    conn: &AnyConnection,
    f: &ComplianceFilter,
    after: Option<(String, i64)>,
    limit: i64,
) -> Sql {
    let mut sql = Sql::new(conn);
    let filter = filter_where(&mut sql, f);
    let keyset = |sql: &mut Sql, obligation_column: &str| match &after {
        Some((code, obligation)) => {
            let (a, b) = (
                sql.param(Bind::Text(code.clone())),
                sql.param(Bind::Int(*obligation)),
            );
            format!("(u.code > {a} OR (u.code = {a} AND {obligation_column} > {b}))")
        }
        None => "1 = 1".to_owned(),
    };
    let n = sql.param(Bind::Int(limit));
    if let (None, Some(obligation)) = (f.status, f.obligation_id) {
        // One obligation: its rows are units, walked in code order (the `code` index) and kept when they have a
        // deadline in the filter — a thousand index probes instead of sorting every deadline of the selection.
        let ob = sql.param(Bind::Int(obligation));
        let after = keyset(&mut sql, &ob);
        let page = format!(
            "page AS (
              SELECT u.id AS unit_id, {ob} AS obligation_id, u.code
              FROM units u
              WHERE {after} AND EXISTS (
                SELECT 1 FROM deadlines d {} WHERE d.unit_id = u.id AND {})
              ORDER BY u.code LIMIT {n}
            ), ",
            f.joins(),
            filter.1.join(" AND ")
        );
        cells_cte(
            &mut sql,
            f,
            true,
            &filter,
            &page,
            "JOIN page ON page.unit_id = d.unit_id AND page.obligation_id = d.obligation_id",
        );
    } else if f.status.is_none() {
        let after = keyset(&mut sql, "d.obligation_id");
        let page = format!(
            "page AS (
              SELECT DISTINCT d.unit_id, d.obligation_id, u.code
              FROM deadlines d
              {}
              JOIN units u ON u.id = d.unit_id
              WHERE {} AND {after}
              ORDER BY u.code, d.obligation_id LIMIT {n}
            ), ",
            f.joins(),
            filter.1.join(" AND ")
        );
        // A join, not `EXISTS`: PostgreSQL guesses one row for a CTE and would scan it once per deadline.
        cells_cte(
            &mut sql,
            f,
            true,
            &filter,
            &page,
            "JOIN page ON page.unit_id = d.unit_id AND page.obligation_id = d.obligation_id",
        );
    } else {
        cells_cte(&mut sql, f, true, &filter, "", "");
        let rows = with_status(&mut sql, f);
        let after = keyset(&mut sql, "r.obligation_id");
        sql.text.push_str(&format!(
            ", page AS (
              SELECT DISTINCT r.unit_id, r.obligation_id, u.code FROM {rows} r JOIN units u ON u.id = r.unit_id
              WHERE {after}
              ORDER BY u.code, r.obligation_id LIMIT {n}
            )"
        ));
    }
    // Without a status filter `c` holds only the page's rows already.
    let page_join = if f.status.is_some() {
        "JOIN page ON page.unit_id = c.unit_id AND page.obligation_id = c.obligation_id"
    } else {
        ""
    };
    sql.text.push_str(&format!(
        "
        SELECT c.deadline_id, c.unit_id, u.code AS unit_code, u.name AS unit_name, u.time_zone, u.valid_from,
               u.valid_until, c.obligation_id, o.title AS obligation_title, c.period, c.last_day, c.due_now,
               c.due_at, c.received_at, c.submission_id, c.version, c.decision, c.status, c.extended
        FROM c
        {page_join}
        JOIN units u ON u.id = c.unit_id
        JOIN obligations o ON o.id = c.obligation_id
        ORDER BY u.code, c.obligation_id, c.period"
    ));
    sql
}

/// How many deadlines were in each status at `as_of`, per period, over every row the filter selects.
pub fn period_totals(
    conn: &mut AnyConnection,
    f: &ComplianceFilter,
) -> Result<Vec<PeriodTotal>, StoreError> {
    totals_sql(conn, f).load(conn)
}

fn totals_sql(conn: &AnyConnection, f: &ComplianceFilter) -> Sql {
    let mut sql = Sql::new(conn);
    let filter = filter_where(&mut sql, f);
    cells_cte(&mut sql, f, !f.current, &filter, "", "");
    let rows = with_status(&mut sql, f);
    let counts: Vec<String> = CellStatus::ALL
        .iter()
        .filter(|s| **s != CellStatus::NotExpected)
        .map(|s| {
            let s = s.as_str();
            format!("SUM(CASE WHEN r.status = '{s}' THEN 1 ELSE 0 END) AS {s}")
        })
        .collect();
    sql.text.push_str(&format!(
        " SELECT r.period, {} FROM {rows} r GROUP BY r.period ORDER BY r.period",
        counts.join(", ")
    ));
    sql
}

/// A line of `EXPLAIN`.
#[derive(QueryableByName)]
struct PlanLine {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    line: String,
}

/// The database's plans of the two queries of an answer (the first page of `limit` rows, and the totals), as
/// executed (`EXPLAIN ANALYZE` on PostgreSQL, `EXPLAIN QUERY PLAN` on SQLite): for docs/performance.md.
pub fn explain(
    conn: &mut AnyConnection,
    f: &ComplianceFilter,
    limit: i64,
) -> Result<(String, String), StoreError> {
    let plan = |conn: &mut AnyConnection, mut sql: Sql| -> Result<String, StoreError> {
        let prefix = if sql.pg {
            "EXPLAIN (ANALYZE, BUFFERS) "
        } else {
            "EXPLAIN QUERY PLAN "
        };
        sql.text.insert_str(0, prefix);
        if sql.pg {
            let lines: Vec<PlanLine> = sql.load(conn)?;
            Ok(lines
                .into_iter()
                .map(|l| l.line)
                .collect::<Vec<_>>()
                .join("\n"))
        } else {
            Ok(String::new())
        }
    };
    let cells = cells_sql(conn, f, None, limit);
    let cells = plan(conn, cells)?;
    let totals = totals_sql(conn, f);
    let totals = plan(conn, totals)?;
    Ok((cells, totals))
}
