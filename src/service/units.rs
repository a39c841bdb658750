//! Units: create, read, list, update — each change audited.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::{
    audit, ensure_valid, nullable, Actor, Page, PageParams, Role, ServiceError, ServiceResult,
};
use crate::domain::unit::{self, Contacts, UnitKind, LANGUAGES};
use crate::domain::{check_date, FieldError};
use crate::store::units::{UnitFilter, UnitRow, UnitValues};
use crate::store::{self, AnyConnection, TextJson};

/// A unit as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Unit {
    /// Unique code, used in URLs and reporter lists, e.g. `HN-BADINH`.
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    /// Code of the parent unit.
    pub parent: Option<String>,
    /// IANA time zone name; deadlines of this unit end at its local midnight.
    pub time_zone: String,
    /// Language of the emails to this unit (`vi` or `en`).
    pub language: String,
    /// `null` when the token may not read them (reporters see their own unit's, viewers none).
    pub contacts: Option<Contacts>,
    /// First day the unit exists (inclusive); `null` means since always.
    pub valid_from: Option<NaiveDate>,
    /// Last day the unit exists (inclusive); `null` means still in existence.
    pub valid_until: Option<NaiveDate>,
    /// The office's postal address, phone and email: the signature of the letters hanbao writes for it (as a
    /// plan's coordinating office) and what an office calls a late unit on.
    pub address: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Body of `POST /api/v1/units`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUnit {
    /// Letters, digits, `.`, `_`, `-`, starting with a letter or digit; unique ignoring letter case.
    #[schema(pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    /// Code of an existing unit.
    #[serde(default)]
    pub parent: Option<String>,
    /// Default: the parent's time zone, else the server's `time_zone`.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Default: the parent's language, else `vi`.
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub contacts: Option<Contacts>,
    #[serde(default)]
    pub valid_from: Option<NaiveDate>,
    #[serde(default)]
    pub valid_until: Option<NaiveDate>,
    /// Postal address, for the signature of letters (at most 300 characters).
    #[serde(default)]
    pub address: Option<String>,
    /// Phone number as written (digits, spaces, `+ ( ) . -`; at most 50 characters).
    #[serde(default)]
    pub phone: Option<String>,
    /// The office's general email address (its people are in `contacts`).
    #[serde(default)]
    pub email: Option<String>,
}

/// Body of `PATCH /api/v1/units/{code}`: fields present are changed, `null` clears a nullable field.
/// The code cannot change: a renamed unit is a succession.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitPatch {
    pub name: Option<String>,
    pub kind: Option<UnitKind>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub parent: Option<Option<String>>,
    pub time_zone: Option<String>,
    pub language: Option<String>,
    pub contacts: Option<Contacts>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub valid_from: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub valid_until: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub address: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
}

/// Query of `GET /api/v1/units`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnitQuery {
    /// Only the direct children of this unit code.
    pub parent: Option<String>,
    /// Only units of this kind.
    pub kind: Option<String>,
    /// Only units that exist on this day (YYYY-MM-DD).
    pub valid_on: Option<String>,
}

/// The state a unit is checked in before it is written.
struct Draft {
    name: String,
    kind: UnitKind,
    parent_id: Option<i64>,
    time_zone: String,
    language: String,
    contacts: Contacts,
    valid_from: Option<NaiveDate>,
    valid_until: Option<NaiveDate>,
    address: Option<String>,
    phone: Option<String>,
    email: Option<String>,
}

/// A text field as stored: trimmed, and absent when empty.
fn trimmed(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

impl Draft {
    fn values(&self, now: DateTime<Utc>) -> UnitValues<'_> {
        UnitValues {
            name: self.name.trim(),
            kind: self.kind.as_str(),
            parent_id: self.parent_id,
            time_zone: &self.time_zone,
            language: &self.language,
            contacts: TextJson(&self.contacts),
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            address: self.address.as_deref(),
            phone: self.phone.as_deref(),
            email: self.email.as_deref(),
            updated_at: now.into(),
        }
    }

    /// Every field error of the draft (the parent is resolved by the caller).
    fn check(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        errors.extend(unit::check_name("/name", &self.name));
        if self.time_zone.parse::<Tz>().is_err() {
            errors.push(FieldError::new(
                "/time_zone",
                format!(
                    "`{}` is not an IANA time zone name such as Asia/Ho_Chi_Minh",
                    self.time_zone
                ),
            ));
        }
        if !LANGUAGES.contains(&self.language.as_str()) {
            errors.push(FieldError::new(
                "/language",
                format!("must be one of {}", LANGUAGES.join(", ")),
            ));
        }
        errors.extend(unit::check_contacts("/contacts", &self.contacts));
        errors.extend(unit::check_validity(self.valid_from, self.valid_until));
        errors.extend(self.valid_from.and_then(|d| check_date("/valid_from", d)));
        errors.extend(self.valid_until.and_then(|d| check_date("/valid_until", d)));
        if self
            .address
            .as_ref()
            .is_some_and(|a| a.chars().count() > 300)
        {
            errors.push(FieldError::new("/address", "at most 300 characters"));
        }
        if let Some(phone) = &self.phone {
            let ok = phone.chars().count() <= 50
                && phone.chars().any(|c| c.is_ascii_digit())
                && phone
                    .chars()
                    .all(|c| c.is_ascii_digit() || " +().-".contains(c));
            if !ok {
                errors.push(FieldError::new(
                    "/phone",
                    "digits, spaces and + ( ) . - only, at most 50 characters",
                ));
            }
        }
        if let Some(email) = &self.email {
            if !unit::is_email(email) {
                errors.push(FieldError::new(
                    "/email",
                    format!("`{email}` is not an email address"),
                ));
            }
        }
        errors
    }
}

/// Resolves a parent code, collecting a field error when it names no unit.
fn resolve_parent(
    conn: &mut AnyConnection,
    code: &str,
    errors: &mut Vec<FieldError>,
) -> ServiceResult<Option<UnitRow>> {
    let parent = store::units::find_by_code(conn, code)?;
    if parent.is_none() {
        errors.push(FieldError::new(
            "/parent",
            format!("unit `{code}` does not exist"),
        ));
    }
    Ok(parent)
}

/// Creates a unit; `default_zone` is the office's zone, used when neither the input nor the parent names one.
pub fn create(
    conn: &mut AnyConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    default_zone: Tz,
    input: NewUnit,
) -> ServiceResult<Unit> {
    actor.require_admin()?;
    store::transaction(conn, |conn| {
        let mut errors: Vec<FieldError> =
            unit::check_code("/code", &input.code).into_iter().collect();
        let parent = match &input.parent {
            Some(code) => resolve_parent(conn, code, &mut errors)?,
            None => None,
        };
        let draft = Draft {
            name: input.name,
            kind: input.kind,
            parent_id: parent.as_ref().map(|p| p.id),
            time_zone: input
                .time_zone
                .or_else(|| parent.as_ref().map(|p| p.time_zone.clone()))
                .unwrap_or_else(|| default_zone.name().to_owned()),
            language: input
                .language
                .or_else(|| parent.as_ref().map(|p| p.language.clone()))
                .unwrap_or_else(|| "vi".into()),
            contacts: input.contacts.unwrap_or_default(),
            valid_from: input.valid_from,
            valid_until: input.valid_until,
            address: trimmed(input.address),
            phone: trimmed(input.phone),
            email: trimmed(input.email),
        };
        errors.extend(draft.check());
        ensure_valid(errors)?;
        if let Some(existing) = store::units::find_by_code_ignoring_case(conn, &input.code)? {
            return Err(duplicate(&input.code, &existing.code));
        }
        let id = store::units::insert(conn, &input.code, draft.values(now)).map_err(|e| {
            if e.is_unique_violation() {
                duplicate(&input.code, &input.code)
            } else {
                e.into()
            }
        })?;
        // A new unit may belong to an existing reporter group: it gets its open deadlines now.
        super::recompute::for_unit(conn, now, id)?;
        let created = load(conn, id)?;
        audit::<Unit, Unit>(
            conn,
            actor,
            now,
            "unit.create",
            &created.code,
            None,
            Some(&created),
        )?;
        Ok(created)
    })
}

/// Codes are unique ignoring case: `hn-badinh` beside `HN-BADINH` would be two units nobody can tell apart.
fn duplicate(code: &str, existing: &str) -> ServiceError {
    let message = if code == existing {
        format!("a unit with code `{code}` already exists")
    } else {
        format!("unit `{existing}` already exists; codes differ by more than letter case")
    };
    ServiceError::Conflict {
        message,
        pointer: Some("/code".into()),
    }
}

pub fn update(
    conn: &mut AnyConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    code: &str,
    patch: UnitPatch,
) -> ServiceResult<Unit> {
    actor.require_admin()?;
    store::transaction(conn, |conn| {
        let row = store::units::find_by_code(conn, code)?
            .ok_or_else(|| ServiceError::not_found("unit", code))?;
        let before = view(conn, row.clone())?;
        let mut errors = Vec::new();
        let parent_id = match patch.parent {
            None => row.parent_id,
            Some(None) => None,
            Some(Some(parent_code)) => {
                let parent = resolve_parent(conn, &parent_code, &mut errors)?;
                if let Some(parent) = &parent {
                    let mut chain = store::units::ancestors(conn, parent.id)?;
                    chain.push(parent.id);
                    if chain.contains(&row.id) {
                        errors.push(FieldError::new(
                            "/parent",
                            format!(
                                "unit `{parent_code}` is `{code}` itself or one of its descendants"
                            ),
                        ));
                    }
                }
                parent.map(|p| p.id)
            }
        };
        let draft = Draft {
            name: patch.name.unwrap_or(row.name),
            kind: patch.kind.unwrap_or(before.kind),
            parent_id,
            time_zone: patch.time_zone.unwrap_or(row.time_zone),
            language: patch.language.unwrap_or(row.language),
            contacts: patch
                .contacts
                .unwrap_or_else(|| before.contacts.clone().unwrap_or_default()),
            valid_from: patch.valid_from.unwrap_or(row.valid_from),
            valid_until: patch.valid_until.unwrap_or(row.valid_until),
            address: trimmed(patch.address.unwrap_or(row.address)),
            phone: trimmed(patch.phone.unwrap_or(row.phone)),
            email: trimmed(patch.email.unwrap_or(row.email)),
        };
        errors.extend(draft.check());
        ensure_valid(errors)?;
        store::units::update(conn, row.id, draft.values(now))?;
        // A new zone, validity, parent or kind changes which open deadlines the unit has, and when.
        super::recompute::for_unit(conn, now, row.id)?;
        let after = load(conn, row.id)?;
        audit(
            conn,
            actor,
            now,
            "unit.update",
            code,
            Some(&before),
            Some(&after),
        )?;
        Ok(after)
    })
}

pub fn get(conn: &mut AnyConnection, actor: &Actor, code: &str) -> ServiceResult<Unit> {
    let row = store::units::find_by_code(conn, code)?
        .ok_or_else(|| ServiceError::not_found("unit", code))?;
    let id = row.id;
    Ok(redacted(view(conn, row)?, actor, id))
}

/// Officers' addresses are for those who write to them: admins, coordinators, and a unit's own reporters.
fn redacted(mut unit: Unit, actor: &Actor, unit_id: i64) -> Unit {
    let allowed = match actor.role {
        Role::Admin | Role::Coordinator => true,
        Role::Reporter => actor.unit_id == Some(unit_id),
        Role::Viewer => false,
    };
    if !allowed {
        unit.contacts = None;
    }
    unit
}

pub fn list(
    conn: &mut AnyConnection,
    actor: &Actor,
    query: &UnitQuery,
    page: &PageParams,
) -> ServiceResult<Page<Unit>> {
    let mut errors = Vec::new();
    let (limit, after) = page.resolve(&mut errors);
    let valid_on = super::parse_date_param("valid_on", query.valid_on.as_deref(), &mut errors);
    if let Some(kind) = &query.kind {
        if UnitKind::parse(kind).is_none() {
            let kinds: Vec<_> = UnitKind::ALL.iter().map(|k| k.as_str()).collect();
            errors.push(FieldError::new(
                "/kind",
                format!("must be one of {}", kinds.join(", ")),
            ));
        }
    }
    let parent_id = match &query.parent {
        Some(code) => resolve_parent(conn, code, &mut errors)?.map(|p| p.id),
        None => None,
    };
    ensure_valid(errors)?;
    let filter = UnitFilter {
        parent_id,
        kind: query.kind.clone(),
        valid_on,
        after,
        limit: limit + 1,
    };
    let rows = store::units::list(conn, &filter)?;
    let parent_ids: Vec<i64> = rows.iter().filter_map(|r| r.parent_id).collect();
    let codes = store::units::codes_by_id(conn, &parent_ids)?;
    let page = Page::from_rows(
        rows,
        limit,
        |r| r.id,
        |row| {
            let parent = row.parent_id.and_then(|id| codes.get(&id).cloned());
            let id = row.id;
            render(row, parent).map(|unit| redacted(unit, actor, id))
        },
    )?;
    Ok(page)
}

pub(super) fn load(conn: &mut AnyConnection, id: i64) -> ServiceResult<Unit> {
    let row = store::units::find(conn, id)?
        .ok_or_else(|| ServiceError::data(format!("unit {id} vanished")))?;
    view(conn, row)
}

pub(super) fn view(conn: &mut AnyConnection, row: UnitRow) -> ServiceResult<Unit> {
    let parent = match row.parent_id {
        Some(id) => store::units::codes_by_id(conn, &[id])?.remove(&id),
        None => None,
    };
    render(row, parent)
}

fn render(row: UnitRow, parent: Option<String>) -> ServiceResult<Unit> {
    Ok(Unit {
        kind: UnitKind::parse(&row.kind)
            .ok_or_else(|| ServiceError::data(format!("unit kind `{}`", row.kind)))?,
        contacts: Some(row.contacts.0),
        code: row.code,
        name: row.name,
        parent,
        time_zone: row.time_zone,
        language: row.language,
        valid_from: row.valid_from,
        valid_until: row.valid_until,
        address: row.address,
        phone: row.phone,
        email: row.email,
        created_at: row.created_at.into(),
        updated_at: row.updated_at.into(),
    })
}

/// A unit's name, for a page's heading.
pub fn name_of(conn: &mut AnyConnection, id: i64) -> ServiceResult<String> {
    Ok(store::units::find(conn, id)?
        .ok_or_else(|| ServiceError::data(format!("unit {id}")))?
        .name)
}

/// A unit's name by its code.
pub fn name_by_code(conn: &mut AnyConnection, code: &str) -> ServiceResult<String> {
    Ok(store::units::find_by_code(conn, code)?
        .ok_or_else(|| ServiceError::not_found("unit", code))?
        .name)
}

/// A unit another one succeeded or was succeeded by (a merger, a split, a renaming), with the day it took effect.
#[derive(Debug, Clone, Serialize)]
pub struct Succession {
    pub code: String,
    pub name: String,
    /// `merge`, `split` or `rename`, as recorded.
    pub kind: String,
    pub effective_on: NaiveDate,
}

/// The units `code` took over from (predecessors) and those that took over from it (successors).
pub fn successions(
    conn: &mut AnyConnection,
    code: &str,
) -> ServiceResult<(Vec<Succession>, Vec<Succession>)> {
    let row = store::units::find_by_code(conn, code)?
        .ok_or_else(|| ServiceError::not_found("unit", code))?;
    let from = store::units::successions_to(conn, &[row.id])?;
    let to = store::units::successions_from(conn, &[row.id])?;
    let ids: Vec<i64> = from
        .iter()
        .map(|l| l.predecessor_id)
        .chain(to.iter().map(|l| l.successor_id))
        .collect();
    let units: std::collections::HashMap<i64, UnitRow> = store::units::find_many(conn, &ids)?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let link = |id: i64, kind: &str, effective_on: NaiveDate| {
        units.get(&id).map(|u| Succession {
            code: u.code.clone(),
            name: u.name.clone(),
            kind: kind.to_owned(),
            effective_on,
        })
    };
    Ok((
        from.iter()
            .filter_map(|l| link(l.predecessor_id, &l.kind, l.effective_on))
            .collect(),
        to.iter()
            .filter_map(|l| link(l.successor_id, &l.kind, l.effective_on))
            .collect(),
    ))
}
