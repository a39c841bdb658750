//! An obligation's rules: who reports (a unit list or a group), the escalation ladder, the window its deadlines
//! cover, and the stored row decoded with its plan and calendar. Shared by the obligation use cases,
//! recomputation and the notice tick.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{ServiceError, ServiceResult};
use crate::domain::unit::UnitKind;
use crate::domain::{Calendar, Schedule};
use crate::store::obligations::ObligationRow;
use crate::store::{self, AnyConnection};

/// Who reports: a list of units, or every unit of some kinds below a parent that exists in the period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Reporters {
    /// Unit codes, e.g. `["HN-BADINH", "HN-HOANKIEM"]`.
    Units(Vec<String>),
    Group(ReporterGroup),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReporterGroup {
    /// Code of the unit whose descendants report.
    pub parent: String,
    /// Kinds of the descendants that report, e.g. `["district"]`.
    pub kinds: Vec<UnitKind>,
}

/// Whom an escalation step writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// The late unit's reporters.
    Reporters,
    /// The late unit's heads.
    Heads,
    /// The recipient unit's contacts.
    Recipient,
}

/// One rung of the escalation ladder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalationStep {
    /// ISO 8601 duration past `due_at + grace`, e.g. `P3D`.
    pub after: String,
    pub to: Vec<Audience>,
    #[serde(default)]
    pub cc: Vec<Audience>,
}

#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct Window {
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

/// An obligation's stored documents, decoded.
pub(super) struct Parsed {
    pub row: ObligationRow,
    pub reporters: Reporters,
    pub schedule: Schedule,
    pub plan: store::plans::PlanRow,
    /// The working-day calendar the schedule names (empty when it does not exist).
    pub calendar: Calendar,
}

impl Parsed {
    pub fn load(conn: &mut AnyConnection, row: ObligationRow) -> ServiceResult<Self> {
        let plan = store::plans::find(conn, row.plan_id)?
            .ok_or_else(|| ServiceError::data(format!("obligation {} has no plan", row.id)))?;
        let schedule: Schedule = store::from_json("obligations.schedule", &row.schedule)?;
        let calendar = super::working_days::load(conn, &schedule.calendar)?.unwrap_or_default();
        Ok(Self {
            reporters: store::from_json("obligations.reporters", &row.reporters)?,
            schedule,
            row,
            plan,
            calendar,
        })
    }

    pub fn window(&self) -> Window {
        Window {
            starts_on: self.schedule.starts_on.unwrap_or(self.plan.starts_on),
            ends_on: self.schedule.ends_on.unwrap_or(self.plan.ends_on),
        }
    }
}
