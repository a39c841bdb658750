//! What an obligation says besides its schedule: who reports (a list of units, or a group of kinds below a
//! parent) and whom each rung of the escalation ladder writes to.

use serde::{Deserialize, Serialize};

use super::unit::UnitKind;

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
