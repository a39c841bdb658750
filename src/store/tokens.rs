//! Queries on `tokens`: API tokens stored as SHA-256 digests only.

use diesel::prelude::*;

use super::schema::tokens;
use super::states::{Role, TokenKind};
use super::{AnyConnection, StoreError, UtcDateTime};
use crate::with_conn;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tokens)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub unit_id: Option<i64>,
    pub prefix: String,
    pub secret_hash: String,
    pub created_at: UtcDateTime,
    pub last_used_at: Option<UtcDateTime>,
    pub revoked_at: Option<UtcDateTime>,
    /// A filing link's token stops working then.
    pub expires_at: Option<UtcDateTime>,
    pub kind: TokenKind,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = tokens)]
pub struct NewToken<'a> {
    pub name: &'a str,
    pub role: Role,
    pub unit_id: Option<i64>,
    pub prefix: &'a str,
    pub secret_hash: &'a str,
    pub created_at: UtcDateTime,
    pub expires_at: Option<UtcDateTime>,
    pub kind: TokenKind,
}

pub fn insert(conn: &mut AnyConnection, token: &NewToken<'_>) -> Result<i64, StoreError> {
    let id = with_conn!(conn, c => diesel::insert_into(tokens::table)
        .values(token)
        .returning(tokens::id)
        .get_result(c))?;
    Ok(id)
}

/// The live (not revoked) token with this digest.
pub fn find_active_by_hash(
    conn: &mut AnyConnection,
    hash: &str,
) -> Result<Option<TokenRow>, StoreError> {
    let row = with_conn!(conn, c => tokens::table
        .filter(tokens::secret_hash.eq(hash))
        .filter(tokens::revoked_at.is_null())
        .select(TokenRow::as_select())
        .first(c)
        .optional())?;
    Ok(row)
}

pub fn find(conn: &mut AnyConnection, id: i64) -> Result<Option<TokenRow>, StoreError> {
    let row = with_conn!(conn, c => tokens::table.find(id).select(TokenRow::as_select()).first(c).optional())?;
    Ok(row)
}

pub fn list(
    conn: &mut AnyConnection,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<TokenRow>, StoreError> {
    let rows = with_conn!(conn, c => {
        let mut q = tokens::table.select(TokenRow::as_select()).order(tokens::id).limit(limit).into_boxed();
        if let Some(after) = after {
            q = q.filter(tokens::id.gt(after));
        }
        q.load(c)
    })?;
    Ok(rows)
}

/// Records use, at most once a minute per token so that reads do not all become writes.
pub fn touch(conn: &mut AnyConnection, id: i64, now: UtcDateTime) -> Result<(), StoreError> {
    let stale = UtcDateTime(now.0 - chrono::Duration::minutes(1));
    with_conn!(conn, c => diesel::update(
        tokens::table
            .find(id)
            .filter(tokens::last_used_at.is_null().or(tokens::last_used_at.lt(stale))),
    )
    .set(tokens::last_used_at.eq(now))
    .execute(c))?;
    Ok(())
}

/// Revokes a live token; false when it was already revoked.
pub fn revoke(conn: &mut AnyConnection, id: i64, now: UtcDateTime) -> Result<bool, StoreError> {
    let n = with_conn!(conn, c => diesel::update(tokens::table.find(id).filter(tokens::revoked_at.is_null()))
        .set(tokens::revoked_at.eq(now))
        .execute(c))?;
    Ok(n == 1)
}

/// Filing links that expired before `before`: counted, or removed (with their sessions) when `remove`. Tokens
/// that never expire are never pruned.
pub fn prune_expired(
    conn: &mut AnyConnection,
    before: UtcDateTime,
    remove: bool,
) -> Result<usize, StoreError> {
    use super::schema::sessions;
    let expired = || {
        tokens::table
            .filter(tokens::expires_at.lt(before))
            .select(tokens::id)
    };
    if !remove {
        let n: i64 = with_conn!(conn, c => expired().count().get_result(c))?;
        return Ok(usize::try_from(n).unwrap_or(0));
    }
    with_conn!(conn, c => diesel::delete(
        sessions::table.filter(sessions::token_id.eq_any(expired().nullable()))
    )
    .execute(c))?;
    let n = with_conn!(conn, c => diesel::delete(tokens::table.filter(tokens::expires_at.lt(before))).execute(c))?;
    Ok(n)
}
