//! API tokens: issue (shown once), list without secrets, revoke, and authenticate a presented token.

use chrono::{DateTime, Utc};
use rand::distr::{Alphanumeric, SampleString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{
    audit, ensure_valid, Actor, Page, PageParams, Role, ServiceError, ServiceResult, TokenKind,
};
use crate::domain::FieldError;
use crate::store::tokens::{NewToken, TokenRow};
use crate::store::{self, AnyConnection};

/// Every token starts with this, so a leaked one is recognisable (secret scanners, logs).
pub const TOKEN_PREFIX: &str = "hb_";

/// SHA-256 of a token, hex: the only form in which tokens are stored.
pub fn digest_hex(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

/// Body of `POST /api/v1/tokens`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenInput {
    pub role: Role,
    /// The unit a `reporter` files for, or whose plans a `coordinator` manages (required for those roles).
    #[serde(default)]
    pub unit: Option<String>,
    /// Who holds it, e.g. "Văn thư UBND quận Ba Đình".
    pub name: String,
    /// `api` (the default): every route with the role's rights; `feed`: the `.ics` calendar feeds only, with the
    /// role's rights, and the one kind accepted in a URL (`?token=`) for calendar apps.
    #[serde(default)]
    pub kind: Option<TokenKind>,
}

/// A token as listed: never its secret.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub unit: Option<String>,
    /// `api`, `feed` (calendar feeds only) or `filing_link` (a letter's link, reporter rights for 30 days).
    pub kind: TokenKind,
    /// The first characters of the token, to recognise it.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The answer to `POST /api/v1/tokens`: the only time the secret is shown.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IssuedToken {
    #[serde(flatten)]
    pub info: TokenInfo,
    /// The bearer token. Store it now: hanbao keeps only its hash.
    pub token: String,
}

pub fn create(
    conn: &mut AnyConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    input: NewTokenInput,
) -> ServiceResult<IssuedToken> {
    actor.require_admin()?;
    store::transaction(conn, |conn| {
        let mut errors = Vec::new();
        if input.name.trim().is_empty() {
            errors.push(FieldError::new("/name", "must not be empty"));
        }
        let unit = match (&input.unit, input.role) {
            (None, Role::Reporter | Role::Coordinator) => {
                errors.push(FieldError::new(
                    "/unit",
                    "a reporter or coordinator token belongs to a unit",
                ));
                None
            }
            (Some(_), Role::Admin) => {
                errors.push(FieldError::new(
                    "/unit",
                    "an admin token is not tied to a unit",
                ));
                None
            }
            (Some(code), _) => {
                let unit = store::units::find_by_code(conn, code)?;
                if unit.is_none() {
                    errors.push(FieldError::new(
                        "/unit",
                        format!("unit `{code}` does not exist"),
                    ));
                }
                unit
            }
            (None, _) => None,
        };
        let kind = input.kind.unwrap_or(TokenKind::Api);
        if kind == TokenKind::FilingLink {
            errors.push(FieldError::new(
                "/kind",
                "filing links are made by the letters that carry them; choose api or feed",
            ));
        }
        ensure_valid(errors)?;
        let secret = format!(
            "{TOKEN_PREFIX}{}",
            Alphanumeric.sample_string(&mut rand::rng(), 40)
        );
        let prefix = &secret[..TOKEN_PREFIX.len() + 6];
        let id = store::tokens::insert(
            conn,
            &NewToken {
                name: input.name.trim(),
                role: input.role,
                unit_id: unit.as_ref().map(|u| u.id),
                prefix,
                secret_hash: &digest_hex(&secret),
                created_at: now.into(),
                expires_at: None,
                kind,
            },
        )?;
        let row = load(conn, id)?;
        let info = info(conn, row)?;
        audit::<TokenInfo, TokenInfo>(
            conn,
            actor,
            now,
            "token.create",
            &id.to_string(),
            None,
            Some(&info),
        )?;
        Ok(IssuedToken {
            info,
            token: secret,
        })
    })
}

pub fn list(
    conn: &mut AnyConnection,
    actor: &Actor,
    page: &PageParams,
) -> ServiceResult<Page<TokenInfo>> {
    actor.require_admin()?;
    let mut errors = Vec::new();
    let (limit, after) = page.resolve(&mut errors);
    ensure_valid(errors)?;
    let rows = store::tokens::list(conn, after, limit + 1)?;
    Page::from_rows(rows, limit, |r| r.id, |row| info(conn, row))
}

/// Revokes a token: from the next request on it is refused.
pub fn revoke(
    conn: &mut AnyConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
) -> ServiceResult<TokenInfo> {
    actor.require_admin()?;
    store::transaction(conn, |conn| {
        let row =
            store::tokens::find(conn, id)?.ok_or_else(|| ServiceError::not_found("token", id))?;
        let before = info(conn, row)?;
        store::tokens::revoke(conn, id, now.into())?;
        // Its web sessions end at once, in the same transaction.
        store::sessions::delete_of_token(conn, id)?;
        let row = load(conn, id)?;
        let after = info(conn, row)?;
        audit(
            conn,
            actor,
            now,
            "token.revoke",
            &id.to_string(),
            Some(&before),
            Some(&after),
        )?;
        Ok(after)
    })
}

/// The actor a stored token stands for (a web session's), or `None` when it has been revoked or has expired.
pub fn actor_of(
    conn: &mut AnyConnection,
    id: i64,
    now: DateTime<Utc>,
) -> ServiceResult<Option<Actor>> {
    Ok(store::tokens::find(conn, id)?
        .filter(|row| row.revoked_at.is_none() && row.expires_at.is_none_or(|t| t.0 > now))
        .map(|row| Actor {
            name: format!("token {} ({})", row.id, row.name),
            role: row.role,
            unit_id: row.unit_id,
            token_id: Some(row.id),
        }))
}

/// The actor a presented token stands for, with the token's kind (the caller decides where a kind is
/// accepted), or `None` when it is unknown, revoked or expired.
pub fn authenticate(
    conn: &mut AnyConnection,
    token: &str,
    now: DateTime<Utc>,
) -> ServiceResult<Option<(Actor, TokenKind)>> {
    if !token.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let Some(row) = store::tokens::find_active_by_hash(conn, &digest_hex(token))?
        .filter(|row| row.expires_at.is_none_or(|t| t.0 > now))
    else {
        return Ok(None);
    };
    // Recorded to the minute: most requests need no write at all.
    if row
        .last_used_at
        .is_none_or(|t| now - t.0 >= chrono::Duration::minutes(1))
    {
        store::tokens::touch(conn, row.id, now.into())?;
    }
    Ok(Some((
        Actor {
            name: format!("token {} ({})", row.id, row.name),
            role: row.role,
            unit_id: row.unit_id,
            token_id: Some(row.id),
        },
        row.kind,
    )))
}

fn load(conn: &mut AnyConnection, id: i64) -> ServiceResult<TokenRow> {
    store::tokens::find(conn, id)?.ok_or_else(|| ServiceError::data(format!("token {id} vanished")))
}

fn info(conn: &mut AnyConnection, row: TokenRow) -> ServiceResult<TokenInfo> {
    let unit = match row.unit_id {
        Some(id) => store::units::codes_by_id(conn, &[id])?.remove(&id),
        None => None,
    };
    Ok(TokenInfo {
        id: row.id,
        name: row.name,
        role: row.role,
        unit,
        kind: row.kind,
        prefix: row.prefix,
        created_at: row.created_at.into(),
        last_used_at: row.last_used_at.map(Into::into),
        revoked_at: row.revoked_at.map(Into::into),
    })
}

/// The name of every filing link's token (what a submission filed through one records as its filer).
pub const FILING_LINK_NAME: &str = "Liên kết nộp báo cáo trong thư";

/// How long a filing link works after its letter.
pub const FILING_LINK_DAYS: i64 = 30;

/// A filing link's token: reporter rights for `unit_id` only, for 30 days, stored as a digest like every token,
/// revocable like every token. Returns the secret, which only the letter carries.
pub fn filing_link(
    conn: &mut AnyConnection,
    unit_id: i64,
    now: DateTime<Utc>,
) -> ServiceResult<String> {
    let secret = format!(
        "{TOKEN_PREFIX}{}",
        Alphanumeric.sample_string(&mut rand::rng(), 40)
    );
    store::tokens::insert(
        conn,
        &NewToken {
            name: FILING_LINK_NAME,
            role: Role::Reporter,
            unit_id: Some(unit_id),
            prefix: &secret[..TOKEN_PREFIX.len() + 6],
            secret_hash: &digest_hex(&secret),
            created_at: now.into(),
            expires_at: Some((now + chrono::Duration::days(FILING_LINK_DAYS)).into()),
            kind: TokenKind::FilingLink,
        },
    )?;
    Ok(secret)
}
