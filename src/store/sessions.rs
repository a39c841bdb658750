//! Sessions of the web pages (see migration 000011): stored by the SHA-256 of the cookie's value.

use diesel::prelude::*;

use super::schema::{sessions, tokens};
use super::{AnyConnection, StoreError, UtcDateTime};
use crate::with_conn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id_hash: String,
    pub token_id: Option<i64>,
    pub admin_digest: Option<String>,
    pub csrf: String,
    pub created_at: UtcDateTime,
    pub last_seen_at: UtcDateTime,
    pub expires_at: UtcDateTime,
}

pub fn insert(conn: &mut AnyConnection, row: &SessionRow) -> Result<(), StoreError> {
    with_conn!(conn, c => diesel::insert_into(sessions::table).values(row).execute(c))?;
    Ok(())
}

pub fn find(conn: &mut AnyConnection, id_hash: &str) -> Result<Option<SessionRow>, StoreError> {
    let row = with_conn!(conn, c => sessions::table
        .find(id_hash)
        .select(SessionRow::as_select())
        .first(c)
        .optional())?;
    Ok(row)
}

pub fn touch(conn: &mut AnyConnection, id_hash: &str, now: UtcDateTime) -> Result<(), StoreError> {
    with_conn!(conn, c => diesel::update(sessions::table.find(id_hash))
        .set(sessions::last_seen_at.eq(now))
        .execute(c))?;
    Ok(())
}

pub fn delete(conn: &mut AnyConnection, id_hash: &str) -> Result<(), StoreError> {
    with_conn!(conn, c => diesel::delete(sessions::table.find(id_hash)).execute(c))?;
    Ok(())
}

/// Ends every session of a token (it was revoked).
pub fn delete_of_token(conn: &mut AnyConnection, token_id: i64) -> Result<usize, StoreError> {
    let n = with_conn!(conn, c => diesel::delete(sessions::table.filter(sessions::token_id.eq(token_id))).execute(c))?;
    Ok(n)
}

/// Sessions past their absolute expiry or idle since `idle_before`: counted, or removed when `remove`.
pub fn prune(
    conn: &mut AnyConnection,
    now: UtcDateTime,
    idle_before: UtcDateTime,
    remove: bool,
) -> Result<usize, StoreError> {
    let spent = sessions::expires_at
        .le(now)
        .or(sessions::last_seen_at.lt(idle_before));
    let n = if remove {
        with_conn!(conn, c => diesel::delete(sessions::table.filter(spent)).execute(c))?
    } else {
        let n: i64 = with_conn!(conn, c => sessions::table.filter(spent).count().get_result(c))?;
        usize::try_from(n).unwrap_or(0)
    };
    Ok(n)
}

/// Whether the token of a session is still active (not revoked).
pub fn token_active(conn: &mut AnyConnection, token_id: i64) -> Result<bool, StoreError> {
    let n: i64 = with_conn!(conn, c => tokens::table
        .filter(tokens::id.eq(token_id))
        .filter(tokens::revoked_at.is_null())
        .count()
        .get_result(c))?;
    Ok(n > 0)
}
