//! Use cases: each public function is one thing a user does, in one transaction, with its audit entry.
//!
//! Services take the connection, the acting [`Actor`] and `now`; they never read the clock or touch HTTP.

pub mod audit;
pub mod calendars;
pub mod compliance;
pub mod consolidation;
pub mod deadlines;
pub mod demo;
pub mod digests;
pub mod feeds;
pub mod late;
pub mod letters;
pub mod notices;
pub mod obligation_rules;
pub mod obligations;
pub mod outbox;
pub mod overview;
pub mod plans;
pub mod prune;
pub mod recompute;
pub mod sessions;
pub mod submissions;
pub mod succession;
pub mod tick;
pub mod tokens;
pub mod units;
pub mod working_days;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use crate::domain::FieldError;
use crate::store::audit::AuditEntry;
use crate::store::{self, AnyConnection, StoreError};

/// What went wrong in a use case, in terms the HTTP layer maps to a status once (see `http::problem`).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("invalid input")]
    Validation(Vec<FieldError>),
    #[error("{entity} `{key}` does not exist")]
    NotFound { entity: &'static str, key: String },
    #[error("{message}")]
    Conflict {
        message: String,
        pointer: Option<String>,
    },
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Stored data hanbao cannot use: a row that vanished under a foreign key, a time zone or rule that no
    /// longer parses. A bug or a hand edit of the database, never the client's fault.
    #[error("stored data is unusable: {0}")]
    Data(String),
    /// An email template failed to render (an operator's replacement template, say).
    #[error(transparent)]
    Template(#[from] crate::mail::RenderError),
    /// Blocking work run off the async runtime died (a panic).
    #[error("a background task failed: {0}")]
    Task(String),
}

impl ServiceError {
    pub fn not_found(entity: &'static str, key: impl ToString) -> Self {
        Self::NotFound {
            entity,
            key: key.to_string(),
        }
    }

    /// Unusable stored data (see [`ServiceError::Data`]).
    pub fn data(why: impl Into<String>) -> Self {
        Self::Data(why.into())
    }

    pub fn invalid(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(pointer, message)])
    }
}

impl From<r2d2::Error> for ServiceError {
    fn from(e: r2d2::Error) -> Self {
        Self::Store(StoreError::Pool(e))
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;

/// Readiness: the database answers.
pub fn database_answers(conn: &mut AnyConnection) -> ServiceResult<()> {
    Ok(store::ping(conn)?)
}

/// Fails with every collected field error at once, so a client can fix its input in one round.
pub fn ensure_valid(errors: Vec<FieldError>) -> ServiceResult<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::Validation(errors))
    }
}

pub use crate::store::states::{Role, TokenKind};

/// Who is making a request, as established by its bearer token.
#[derive(Debug, Clone)]
pub struct Actor {
    /// How the audit log names this actor, e.g. `admin (bootstrap token)` or `token 7 (Sở LĐTBXH)`.
    pub name: String,
    pub role: Role,
    pub unit_id: Option<i64>,
    /// The token's id; `None` for the bootstrap admin token and operator commands.
    pub token_id: Option<i64>,
}

/// The rows a list may show an actor (see [`Actor::scope`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    /// Only this unit's rows.
    pub unit_id: Option<i64>,
    /// Only the rows of plans this unit coordinates.
    pub coordinator_id: Option<i64>,
}

impl Actor {
    pub fn bootstrap_admin() -> Self {
        Self {
            name: "admin (bootstrap token)".into(),
            role: Role::Admin,
            unit_id: None,
            token_id: None,
        }
    }

    /// Operators running a CLI command on the server.
    pub fn operator(command: &str) -> Self {
        Self {
            name: format!("operator (hanbao {command})"),
            role: Role::Admin,
            unit_id: None,
            token_id: None,
        }
    }

    /// Whether this actor may read what belongs to `unit_id` under a plan coordinated by `coordinator_id`.
    pub fn may_see(&self, unit_id: i64, coordinator_id: i64) -> bool {
        match self.role {
            Role::Admin | Role::Viewer => true,
            Role::Coordinator => self.unit_id == Some(coordinator_id),
            Role::Reporter => self.unit_id == Some(unit_id),
        }
    }

    /// What a list may show this actor: a reporter its own unit's rows (asking for another unit's `what` is
    /// refused), a coordinator those of the plans it coordinates, admins and viewers everything asked for.
    pub fn scope(&self, asked_unit: Option<i64>, what: &str) -> ServiceResult<Scope> {
        match self.role {
            Role::Reporter => {
                let own = self
                    .unit_id
                    .ok_or_else(|| ServiceError::Forbidden("this token has no unit".into()))?;
                if asked_unit.is_some_and(|asked| asked != own) {
                    return Err(ServiceError::Forbidden(format!(
                        "a reporter token reads its own unit's {what} only"
                    )));
                }
                Ok(Scope {
                    unit_id: Some(own),
                    coordinator_id: None,
                })
            }
            // A coordinator token always has its unit; without one it sees nothing rather than everything.
            Role::Coordinator => Ok(Scope {
                unit_id: asked_unit,
                coordinator_id: Some(self.unit_id.unwrap_or(-1)),
            }),
            Role::Admin | Role::Viewer => Ok(Scope {
                unit_id: asked_unit,
                coordinator_id: None,
            }),
        }
    }

    /// Admins, and coordinators of the plan whose coordinating unit is `coordinator_id`.
    pub fn require_coordinator_of(&self, coordinator_id: i64) -> ServiceResult<()> {
        match self.role {
            Role::Admin => Ok(()),
            Role::Coordinator if self.unit_id == Some(coordinator_id) => Ok(()),
            Role::Coordinator => Err(ServiceError::Forbidden(
                "this plan is coordinated by another unit".into(),
            )),
            _ => Err(ServiceError::Forbidden(
                "this needs an admin or the plan's coordinator".into(),
            )),
        }
    }

    pub fn require_admin(&self) -> ServiceResult<()> {
        if self.role == Role::Admin {
            Ok(())
        } else {
            Err(ServiceError::Forbidden("this needs an admin token".into()))
        }
    }
}

/// Writes one audit entry with JSON snapshots of the entity before and after the change. `action` is
/// `<entity>.<verb>` (e.g. `unit.update`); the entity is the part before the dot.
pub fn audit<B: Serialize, A: Serialize>(
    conn: &mut AnyConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    action: &str,
    entity_id: &str,
    before: Option<&B>,
    after: Option<&A>,
) -> ServiceResult<()> {
    let entity = action.split_once('.').map_or(action, |(entity, _)| entity);
    Ok(store::audit::record(
        conn,
        &AuditEntry {
            at: now.into(),
            actor: &actor.name,
            action,
            entity,
            entity_id,
            before: before.map(snapshot),
            after: after.map(snapshot),
        },
    )?)
}

/// An entity as the audit log keeps it.
fn snapshot<T: Serialize>(entity: &T) -> store::TextJson<serde_json::Value> {
    store::TextJson(serde_json::to_value(entity).expect("values of our own types always serialise"))
}

/// Keyset pagination: `cursor` is the opaque position after which the page starts.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000, default = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

pub const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 1000;

impl PageParams {
    /// The checked limit and the id to start after; problems are added to `errors`.
    pub fn resolve(&self, errors: &mut Vec<FieldError>) -> (i64, Option<i64>) {
        let after = self.cursor(errors, |c| c.parse::<i64>().ok().filter(|id| *id >= 0));
        (self.checked_limit(errors), after)
    }

    /// The limit, 1 to [`MAX_LIMIT`] (default [`DEFAULT_LIMIT`]); out of bounds is a problem in `errors`.
    pub fn checked_limit(&self, errors: &mut Vec<FieldError>) -> i64 {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            errors.push(FieldError::new(
                "/limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        limit.clamp(1, MAX_LIMIT)
    }

    /// The keyset position a list's own `parse` reads from the cursor; one it cannot read is a problem.
    pub fn cursor<T>(
        &self,
        errors: &mut Vec<FieldError>,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Option<T> {
        let cursor = self.cursor.as_deref().filter(|c| !c.is_empty())?;
        let parsed = parse(cursor);
        if parsed.is_none() {
            errors.push(FieldError::new(
                "/cursor",
                "is not a cursor this server gave out",
            ));
        }
        parsed
    }
}

/// One page of a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows (the extra row only tells that there is a next page),
    /// rendering each kept row with `view`.
    pub fn from_rows<R, E>(
        mut rows: Vec<R>,
        limit: i64,
        id: impl Fn(&R) -> i64,
        view: impl FnMut(R) -> Result<T, E>,
    ) -> Result<Self, E> {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| id(r).to_string())
        } else {
            None
        };
        Ok(Self {
            items: rows.into_iter().map(view).collect::<Result<_, E>>()?,
            next_cursor,
        })
    }
}

/// For PATCH bodies: tells an absent field (`None`) from an explicit `null` (`Some(None)`).
pub fn nullable<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Parses an optional `YYYY-MM-DD` query parameter; a problem is added to `errors`.
pub fn parse_date_param(
    name: &str,
    value: Option<&str>,
    errors: &mut Vec<FieldError>,
) -> Option<NaiveDate> {
    let value = value?;
    let parsed = value.parse::<NaiveDate>().ok();
    if parsed.is_none() {
        errors.push(FieldError::new(
            format!("/{name}"),
            format!("`{value}` is not a date YYYY-MM-DD"),
        ));
    }
    parsed
}
