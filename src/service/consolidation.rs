//! The consolidated report of one period ("tổng hợp chung"): each numeric field of the obligation's form
//! aggregated over the current version of every unit's report, the text fields listed per unit, and the units
//! whose report is missing — so that the office can write its own report upward, and never takes a partial sum
//! for a complete one (`../shared/UX.md` §2.1: the coverage is stated beside every total).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::{Actor, Role, ServiceError, ServiceResult};
use crate::domain::{status_at, DeadlineStatus, FieldError, Period};
use crate::store::deadlines::DeadlineFilter;
use crate::store::{self, AnyConnection};

/// How a numeric field is summed up: `x-aggregate` in the form, `sum` by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    Sum,
    Avg,
    Min,
    Max,
    Count,
}

impl Aggregate {
    fn parse(word: &str) -> Option<Self> {
        Some(match word {
            "sum" => Self::Sum,
            "avg" => Self::Avg,
            "min" => Self::Min,
            "max" => Self::Max,
            "count" => Self::Count,
            _ => return None,
        })
    }

    fn of(self, values: &[f64]) -> Option<f64> {
        if values.is_empty() {
            return (self == Self::Count).then_some(0.0);
        }
        Some(match self {
            Self::Sum => values.iter().sum(),
            Self::Avg => values.iter().sum::<f64>() / values.len() as f64,
            Self::Min => values.iter().copied().fold(f64::INFINITY, f64::min),
            Self::Max => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            Self::Count => values.len() as f64,
        })
    }
}

/// One numeric field's aggregate.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldTotal {
    /// The field's name in the report (`/payload/<name>`).
    pub field: String,
    /// Its title in the form, if it has one.
    pub title: Option<String>,
    pub aggregate: Aggregate,
    /// The aggregate over the units that gave a number; absent when none did (except `count`: 0).
    pub value: Option<f64>,
    /// How many of the included reports gave a number for it.
    pub units: usize,
}

/// One unit's answer to a text field.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UnitText {
    pub unit: String,
    pub unit_name: String,
    #[schema(value_type = Object)]
    pub value: Value,
}

/// A text field (or list of texts), listed per unit.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TextField {
    pub field: String,
    pub title: Option<String>,
    pub answers: Vec<UnitText>,
}

/// A unit whose report is not in the totals, and why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MissingUnit {
    pub unit: String,
    pub unit_name: String,
    /// open, overdue or returned (a returned report counts once it is filed again).
    #[schema(value_type = String)]
    pub status: DeadlineStatus,
}

/// `GET /api/v1/obligations/{id}/consolidation?period=`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Consolidation {
    pub obligation_id: i64,
    pub obligation: String,
    pub period: String,
    /// Units that must report for the period (waived ones left out).
    pub units_expected: usize,
    /// Units whose current report is in the totals.
    pub units_included: usize,
    pub fields: Vec<FieldTotal>,
    pub texts: Vec<TextField>,
    pub missing: Vec<MissingUnit>,
    /// Units exempted for the period.
    pub waived: usize,
}

/// The consolidated report of `period` of an obligation, for the office that coordinates its plan (admins and
/// viewers too); a reporter cannot see other units' reports.
pub fn consolidation(
    conn: &mut AnyConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    obligation_id: i64,
    period: &str,
) -> ServiceResult<Consolidation> {
    let period: Period = period.parse().map_err(|_| {
        ServiceError::Validation(vec![FieldError::new(
            "/period",
            format!("`{period}` is not a period id such as 2024, 2024Q3 or 202409"),
        )])
    })?;
    let (obligation, plan) = store::obligations::find_with_plan(conn, obligation_id)?
        .ok_or_else(|| ServiceError::not_found("obligation", obligation_id))?;
    match actor.role {
        Role::Reporter => {
            return Err(ServiceError::Forbidden(
                "a reporter token cannot read other units' reports".into(),
            ))
        }
        Role::Coordinator if actor.unit_id != Some(plan.coordinator_id) => {
            return Err(ServiceError::not_found("obligation", obligation_id))
        }
        _ => {}
    }
    let deadlines = store::deadlines::list(
        conn,
        &DeadlineFilter {
            obligation_id: Some(obligation_id),
            period: Some(period.to_string()),
            limit: i64::MAX,
            ..DeadlineFilter::default()
        },
    )?;
    let latest: HashMap<i64, store::submissions::SubmissionRow> =
        store::submissions::latest_of_period(conn, obligation_id, &period.to_string())?
            .into_iter()
            .map(|s| (s.deadline_id, s))
            .collect();
    let unit_ids: Vec<i64> = deadlines.iter().map(|(d, _, _)| d.unit_id).collect();
    let names: HashMap<i64, (String, String)> = store::units::find_many(conn, &unit_ids)?
        .into_iter()
        .map(|u| (u.id, (u.code, u.name)))
        .collect();
    let name_of = |id: i64| names.get(&id).cloned().unwrap_or_default();
    let mut included = Vec::new();
    let mut missing = Vec::new();
    let mut waived = 0;
    for (deadline, _, _) in &deadlines {
        let returned = deadline.state == store::states::DeadlineState::Returned;
        let status = status_at(
            deadline.due_at.0,
            deadline.submitted_at.map(|t| t.0),
            deadline.waived_reason.is_some(),
            returned,
            now,
        );
        match (status, latest.get(&deadline.id)) {
            (DeadlineStatus::Waived, _) => waived += 1,
            (DeadlineStatus::Submitted | DeadlineStatus::Late, Some(report)) => {
                included.push((deadline.unit_id, report))
            }
            (status, _) => {
                let (unit, unit_name) = name_of(deadline.unit_id);
                missing.push(MissingUnit {
                    unit,
                    unit_name,
                    status,
                });
            }
        }
    }
    included.sort_by_key(|(unit, _)| name_of(*unit).0);
    missing.sort_by(|a, b| a.unit.cmp(&b.unit));
    let form = obligation.form.as_ref().map(|f| f.0.clone());
    let mut fields = Vec::new();
    let mut texts = Vec::new();
    for (name, schema) in properties(form.as_ref()) {
        let title = schema
            .get("title")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let kind = schema.get("type").and_then(Value::as_str).unwrap_or("");
        let answers = included
            .iter()
            .filter_map(|(unit, report)| Some((*unit, report.payload.0.get(name.as_str())?)));
        if matches!(kind, "integer" | "number") {
            let aggregate = schema
                .get("x-aggregate")
                .and_then(Value::as_str)
                .and_then(Aggregate::parse)
                .unwrap_or(Aggregate::Sum);
            let values: Vec<f64> = answers.filter_map(|(_, v)| v.as_f64()).collect();
            fields.push(FieldTotal {
                field: name.clone(),
                title,
                aggregate,
                value: aggregate.of(&values),
                units: values.len(),
            });
        } else if kind == "string" || kind == "array" {
            texts.push(TextField {
                field: name.clone(),
                title,
                answers: answers
                    .filter(|(_, v)| !v.is_null())
                    .map(|(unit, value)| {
                        let (unit, unit_name) = name_of(unit);
                        UnitText {
                            unit,
                            unit_name,
                            value: value.clone(),
                        }
                    })
                    .collect(),
            });
        }
    }
    Ok(Consolidation {
        obligation_id,
        obligation: obligation.title,
        period: period.to_string(),
        units_expected: deadlines.len() - waived,
        units_included: included.len(),
        fields,
        texts,
        missing,
        waived,
    })
}

/// The top-level fields of a form (a JSON Schema object), by name.
fn properties(form: Option<&Value>) -> Vec<(String, Value)> {
    form.and_then(|f| f.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::Aggregate;

    #[test]
    fn aggregates() {
        let v = [3.0, 1.0, 2.0];
        assert_eq!(Aggregate::Sum.of(&v), Some(6.0));
        assert_eq!(Aggregate::Avg.of(&v), Some(2.0));
        assert_eq!(Aggregate::Min.of(&v), Some(1.0));
        assert_eq!(Aggregate::Max.of(&v), Some(3.0));
        assert_eq!(Aggregate::Count.of(&v), Some(3.0));
        assert_eq!(Aggregate::Sum.of(&[]), None, "no data is not zero");
        assert_eq!(Aggregate::Count.of(&[]), Some(0.0));
    }
}
