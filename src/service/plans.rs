//! Plans (kế hoạch): create, read, list, update — each change audited.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{audit, ensure_valid, nullable, Actor, Page, PageParams, ServiceError, ServiceResult};
use crate::domain::{check_date, FieldError};
use crate::store::plans::{PlanFilter, PlanRow, PlanValues};
use crate::store::{self, AnyConnection, StoreError};

/// A plan as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Plan {
    pub id: i64,
    /// The document's number, e.g. `269/KH-UBND`.
    pub number: String,
    pub title: String,
    /// Code of the unit that issued the plan.
    pub issuer: Option<String>,
    /// Code of the coordinating unit (its coordinators manage the plan's obligations).
    pub coordinator: String,
    pub issued_on: Option<NaiveDate>,
    /// First day of the plan's effective period; obligations default to this window.
    pub starts_on: NaiveDate,
    /// Last day of the plan's effective period.
    pub ends_on: NaiveDate,
    pub source_url: Option<String>,
    /// The plan's text (or the part that creates the obligations).
    pub text: Option<String>,
    /// How units file their reports, in the office's words: reminders and escalations quote it (e.g. "Gửi
    /// báo cáo bằng văn bản về Sở …, đồng thời gửi bản điện tử qua hộp thư …"). Without it, emails give the
    /// coordinating office's contact.
    pub filing_instructions: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Body of `POST /api/v1/plans`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPlan {
    pub number: String,
    pub title: String,
    #[serde(default)]
    pub issuer: Option<String>,
    pub coordinator: String,
    #[serde(default)]
    pub issued_on: Option<NaiveDate>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    #[serde(default)]
    pub source_url: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    /// How units file their reports (at most 2,000 characters); see `Plan`.
    #[serde(default)]
    pub filing_instructions: Option<String>,
}

/// Body of `PATCH /api/v1/plans/{id}`: fields present are changed, `null` clears a nullable field.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanPatch {
    pub number: Option<String>,
    pub title: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub issuer: Option<Option<String>>,
    pub coordinator: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub issued_on: Option<Option<NaiveDate>>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub source_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub text: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub filing_instructions: Option<Option<String>>,
}

/// Query of `GET /api/v1/plans`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlanQuery {
    /// Only plans coordinated by this unit code.
    pub coordinator: Option<String>,
    /// Only plans issued by this unit code.
    pub issuer: Option<String>,
    /// Only plans in force on this day (YYYY-MM-DD).
    pub active_on: Option<String>,
}

/// A plan's fields with unit codes resolved to ids.
struct Draft {
    number: String,
    title: String,
    issuer_id: Option<i64>,
    coordinator_id: i64,
    issued_on: Option<NaiveDate>,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    source_url: Option<String>,
    text: Option<String>,
    filing_instructions: Option<String>,
}

impl Draft {
    fn check(&self) -> Vec<FieldError> {
        let mut errors: Vec<FieldError> = [
            ("/starts_on", Some(self.starts_on)),
            ("/ends_on", Some(self.ends_on)),
            ("/issued_on", self.issued_on),
        ]
        .into_iter()
        .filter_map(|(pointer, date)| date.and_then(|d| check_date(pointer, d)))
        .collect();
        for (pointer, value, max) in [
            ("/number", &self.number, 100),
            ("/title", &self.title, 1000),
        ] {
            if value.trim().is_empty() {
                errors.push(FieldError::new(pointer, "must not be empty"));
            } else if value.chars().count() > max {
                errors.push(FieldError::new(
                    pointer,
                    format!("must be at most {max} characters"),
                ));
            }
        }
        if self
            .filing_instructions
            .as_ref()
            .is_some_and(|f| f.chars().count() > 2000)
        {
            errors.push(FieldError::new(
                "/filing_instructions",
                "must be at most 2000 characters",
            ));
        }
        if self.ends_on < self.starts_on {
            errors.push(FieldError::new("/ends_on", "must not be before starts_on"));
        }
        if let Some(url) = &self.source_url {
            if !(url.starts_with("https://") || url.starts_with("http://"))
                || url.contains(char::is_whitespace)
            {
                errors.push(FieldError::new(
                    "/source_url",
                    "must be an http:// or https:// URL",
                ));
            }
        }
        errors
    }

    fn values(&self, now: DateTime<Utc>) -> PlanValues<'_> {
        PlanValues {
            number: self.number.trim(),
            title: self.title.trim(),
            issuer_id: self.issuer_id,
            coordinator_id: self.coordinator_id,
            issued_on: self.issued_on,
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            source_url: self.source_url.as_deref(),
            text: self.text.as_deref(),
            filing_instructions: self
                .filing_instructions
                .as_deref()
                .map(str::trim)
                .filter(|f| !f.is_empty()),
            updated_at: now.into(),
        }
    }
}

/// The id of the unit `code`, or a field error at `pointer`.
fn unit_id(
    conn: &mut AnyConnection,
    pointer: &str,
    code: &str,
    errors: &mut Vec<FieldError>,
) -> ServiceResult<Option<i64>> {
    let unit = store::units::find_by_code(conn, code)?;
    if unit.is_none() {
        errors.push(FieldError::new(
            pointer,
            format!("unit `{code}` does not exist"),
        ));
    }
    Ok(unit.map(|u| u.id))
}

pub fn create(
    conn: &mut AnyConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    input: NewPlan,
) -> ServiceResult<Plan> {
    actor.require_admin()?;
    store::transaction(conn, |conn| {
        let mut errors = Vec::new();
        let issuer_id = match &input.issuer {
            Some(code) => unit_id(conn, "/issuer", code, &mut errors)?,
            None => None,
        };
        let coordinator_id = unit_id(conn, "/coordinator", &input.coordinator, &mut errors)?;
        let draft = Draft {
            number: input.number,
            title: input.title,
            issuer_id,
            coordinator_id: coordinator_id.unwrap_or_default(),
            issued_on: input.issued_on,
            starts_on: input.starts_on,
            ends_on: input.ends_on,
            source_url: input.source_url,
            text: input.text,
            filing_instructions: input.filing_instructions,
        };
        errors.extend(draft.check());
        ensure_valid(errors)?;
        refuse_duplicate(conn, &draft, None)?;
        let id =
            store::plans::insert(conn, draft.values(now)).map_err(duplicate_on_race(&draft))?;
        let created = load(conn, id)?;
        audit::<Plan, Plan>(
            conn,
            actor,
            now,
            "plan.create",
            &id.to_string(),
            None,
            Some(&created),
        )?;
        Ok(created)
    })
}

/// The same number from the same issuer is the same document: creating it twice is a conflict. The lookup gives
/// the usual answer its plan id; the database's unique index (`plans_issuer_number`) decides a race.
fn refuse_duplicate(
    conn: &mut AnyConnection,
    draft: &Draft,
    own_id: Option<i64>,
) -> ServiceResult<()> {
    let number = draft.number.trim();
    match store::plans::find_by_number(conn, draft.issuer_id, number)? {
        Some(p) if Some(p.id) != own_id => Err(ServiceError::Conflict {
            message: format!("plan {} already exists with id {}", p.number, p.id),
            pointer: Some("/number".into()),
        }),
        _ => Ok(()),
    }
}

/// A write that lost a race to another with the same issuer and number.
fn duplicate_on_race(draft: &Draft) -> impl FnOnce(StoreError) -> ServiceError + '_ {
    move |e| {
        if e.is_unique_violation() {
            ServiceError::Conflict {
                message: format!("plan {} already exists", draft.number.trim()),
                pointer: Some("/number".into()),
            }
        } else {
            e.into()
        }
    }
}

pub fn update(
    conn: &mut AnyConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    patch: PlanPatch,
) -> ServiceResult<Plan> {
    actor.require_admin()?;
    store::transaction(conn, |conn| {
        let row =
            store::plans::find(conn, id)?.ok_or_else(|| ServiceError::not_found("plan", id))?;
        let before = view(conn, row.clone())?;
        let mut errors = Vec::new();
        let issuer_id = match &patch.issuer {
            None => row.issuer_id,
            Some(None) => None,
            Some(Some(code)) => unit_id(conn, "/issuer", code, &mut errors)?,
        };
        let coordinator_id = match &patch.coordinator {
            None => Some(row.coordinator_id),
            Some(code) => unit_id(conn, "/coordinator", code, &mut errors)?,
        };
        let draft = Draft {
            number: patch.number.unwrap_or(row.number),
            title: patch.title.unwrap_or(row.title),
            issuer_id,
            coordinator_id: coordinator_id.unwrap_or_default(),
            issued_on: patch.issued_on.unwrap_or(row.issued_on),
            starts_on: patch.starts_on.unwrap_or(row.starts_on),
            ends_on: patch.ends_on.unwrap_or(row.ends_on),
            source_url: patch.source_url.unwrap_or(row.source_url),
            text: patch.text.unwrap_or(row.text),
            filing_instructions: patch.filing_instructions.unwrap_or(row.filing_instructions),
        };
        errors.extend(draft.check());
        ensure_valid(errors)?;
        refuse_duplicate(conn, &draft, Some(id))?;
        store::plans::update(conn, id, draft.values(now)).map_err(duplicate_on_race(&draft))?;
        if (draft.starts_on, draft.ends_on) != (row.starts_on, row.ends_on) {
            follow_new_period(conn, now, id, draft.starts_on, draft.ends_on)?;
        }
        let after = load(conn, id)?;
        audit(
            conn,
            actor,
            now,
            "plan.update",
            &id.to_string(),
            Some(&before),
            Some(&after),
        )?;
        Ok(after)
    })
}

/// A new plan period moves the windows of the obligations that follow it; an obligation whose own window would
/// fall outside the new period is a field error (change the obligation first).
fn follow_new_period(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    plan_id: i64,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
) -> ServiceResult<()> {
    let obligations = store::obligations::list(conn, Some(plan_id), None, i64::MAX)?;
    for row in &obligations {
        let schedule = &row.schedule.0;
        // Point at the plan field that cuts the obligation's own window off.
        let days = [schedule.starts_on, schedule.ends_on];
        let culprit = if days.iter().flatten().any(|d| *d > ends_on) {
            Some("/ends_on")
        } else if days.iter().flatten().any(|d| *d < starts_on) {
            Some("/starts_on")
        } else {
            None
        };
        if let Some(pointer) = culprit {
            return Err(ServiceError::invalid(
                pointer,
                format!(
                    "obligation {}'s schedule window would fall outside the new plan period",
                    row.id
                ),
            ));
        }
    }
    for row in obligations {
        super::recompute::rematerialise(conn, now, row.id, super::recompute::Reach::Open)?;
    }
    Ok(())
}

pub fn get(conn: &mut AnyConnection, id: i64) -> ServiceResult<Plan> {
    let row = store::plans::find(conn, id)?.ok_or_else(|| ServiceError::not_found("plan", id))?;
    view(conn, row)
}

pub fn list(
    conn: &mut AnyConnection,
    query: &PlanQuery,
    page: &PageParams,
) -> ServiceResult<Page<Plan>> {
    let mut errors = Vec::new();
    let (limit, after) = page.resolve(&mut errors);
    let active_on = super::parse_date_param("active_on", query.active_on.as_deref(), &mut errors);
    let coordinator_id = match &query.coordinator {
        Some(code) => unit_id(conn, "/coordinator", code, &mut errors)?,
        None => None,
    };
    let issuer_id = match &query.issuer {
        Some(code) => unit_id(conn, "/issuer", code, &mut errors)?,
        None => None,
    };
    ensure_valid(errors)?;
    let filter = PlanFilter {
        coordinator_id,
        issuer_id,
        active_on,
        after,
        limit: limit + 1,
    };
    let rows = store::plans::list(conn, &filter)?;
    let ids: Vec<i64> = rows
        .iter()
        .flat_map(|r| [Some(r.coordinator_id), r.issuer_id])
        .flatten()
        .collect();
    let codes = store::units::codes_by_id(conn, &ids)?;
    let page = Page::from_rows(
        rows,
        limit,
        |r| r.id,
        |row| render(row, |id| codes.get(&id).cloned()),
    )?;
    Ok(page)
}

fn load(conn: &mut AnyConnection, id: i64) -> ServiceResult<Plan> {
    let row = store::plans::find(conn, id)?
        .ok_or_else(|| ServiceError::data(format!("plan {id} vanished")))?;
    view(conn, row)
}

fn view(conn: &mut AnyConnection, row: PlanRow) -> ServiceResult<Plan> {
    let ids: Vec<i64> = [Some(row.coordinator_id), row.issuer_id]
        .into_iter()
        .flatten()
        .collect();
    let codes = store::units::codes_by_id(conn, &ids)?;
    render(row, |id| codes.get(&id).cloned())
}

fn render(row: PlanRow, code: impl Fn(i64) -> Option<String>) -> ServiceResult<Plan> {
    Ok(Plan {
        coordinator: code(row.coordinator_id)
            .ok_or_else(|| ServiceError::data(format!("plan {} has no coordinator", row.id)))?,
        issuer: row.issuer_id.and_then(&code),
        id: row.id,
        number: row.number,
        title: row.title,
        issued_on: row.issued_on,
        starts_on: row.starts_on,
        ends_on: row.ends_on,
        source_url: row.source_url,
        text: row.text,
        filing_instructions: row.filing_instructions,
        created_at: row.created_at.into(),
        updated_at: row.updated_at.into(),
    })
}

/// Whether `actor` may take the coordinating office's decisions on a plan (admins, and its coordinator).
pub fn coordinated_by(conn: &mut AnyConnection, actor: &Actor, id: i64) -> ServiceResult<bool> {
    let row = store::plans::find(conn, id)?.ok_or_else(|| ServiceError::not_found("plan", id))?;
    Ok(actor.require_coordinator_of(row.coordinator_id).is_ok())
}
