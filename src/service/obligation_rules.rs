//! An obligation's rules: who reports (a unit list or a group), the escalation ladder, the window its deadlines
//! cover, and the stored row decoded with its plan and calendar. Shared by the obligation use cases,
//! recomputation and the notice tick.

use chrono::NaiveDate;
use serde::Serialize;

use super::{ServiceError, ServiceResult};
pub use crate::domain::obligation::{Audience, EscalationStep, ReporterGroup, Reporters};
use crate::domain::{Calendar, Schedule};
use crate::store::obligations::ObligationRow;
use crate::store::{self, AnyConnection};

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
        let schedule = row.schedule.0.clone();
        let calendar = super::working_days::load(conn, &schedule.calendar)?.unwrap_or_default();
        Ok(Self {
            reporters: row.reporters.0.clone(),
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
