//! Web sessions: a browser signs in once with a token and then carries a cookie. Only the SHA-256 of the
//! cookie's value is stored. A session acts with its token's rights while the token is active (revoking the
//! token deletes its sessions), ends after 8 hours without a request or 7 days after it began, and carries a
//! secret that every form posting to the server must echo (CSRF).

use chrono::{DateTime, Duration, Utc};
use rand::distr::{Alphanumeric, SampleString};

use super::{Actor, ServiceResult};
use crate::store::sessions::SessionRow;
use crate::store::{self, AnyConnection};

/// A session ends after this long without a request.
pub const IDLE: Duration = Duration::hours(8);
/// And this long after it began, whatever happens.
pub const ABSOLUTE: Duration = Duration::days(7);

/// Who signs in: a stored token, or the configured admin token (by the digest it has now).
pub enum Signer {
    Token(i64),
    Admin { digest: String },
}

/// A new session: the cookie value to send (never stored) and the form secret.
pub struct Opened {
    pub cookie: String,
    pub csrf: String,
}

/// A session in use: who acts, and the secret its forms carry.
pub struct Current {
    pub actor: Actor,
    /// Who is signed in, as a person reads it: the token's name, or "the administrator".
    pub label: Option<String>,
    pub csrf: String,
    pub id_hash: String,
}

fn hash(cookie: &str) -> String {
    super::tokens::digest_hex(cookie)
}

fn secret() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 43)
}

/// Opens a session for `signer`.
pub fn open(conn: &mut AnyConnection, signer: Signer, now: DateTime<Utc>) -> ServiceResult<Opened> {
    let (cookie, csrf) = (secret(), secret());
    let (token_id, admin_digest) = match signer {
        Signer::Token(id) => (Some(id), None),
        Signer::Admin { digest } => (None, Some(digest)),
    };
    store::sessions::insert(
        conn,
        &SessionRow {
            id_hash: hash(&cookie),
            token_id,
            admin_digest,
            csrf: csrf.clone(),
            created_at: now.into(),
            last_seen_at: now.into(),
            expires_at: (now + ABSOLUTE).into(),
        },
    )?;
    Ok(Opened { cookie, csrf })
}

/// The session a cookie names, if it is still good at `now`: not expired, not idle too long, its token not
/// revoked (or, for the admin token, that token unchanged: `admin_digest` is the configured one's). A session
/// that is no longer good is deleted.
pub fn current(
    conn: &mut AnyConnection,
    cookie: &str,
    admin_digest: &str,
    now: DateTime<Utc>,
) -> ServiceResult<Option<Current>> {
    let id_hash = hash(cookie);
    let Some(row) = store::sessions::find(conn, &id_hash)? else {
        return Ok(None);
    };
    let fresh = row.expires_at.0 > now && now - row.last_seen_at.0 < IDLE;
    let actor = match (&row.token_id, &row.admin_digest) {
        _ if !fresh => None,
        (Some(id), _) => super::tokens::actor_of(conn, *id, now)?,
        (None, Some(digest)) if digest == admin_digest => Some(Actor::bootstrap_admin()),
        _ => None,
    };
    let label = match row.token_id {
        Some(id) => store::tokens::find(conn, id)?.map(|t| t.name),
        None => None,
    };
    let Some(actor) = actor else {
        store::sessions::delete(conn, &id_hash)?;
        return Ok(None);
    };
    // Recorded to the minute: most pages need no write.
    if now - row.last_seen_at.0 >= Duration::minutes(1) {
        store::sessions::touch(conn, &id_hash, now.into())?;
    }
    Ok(Some(Current {
        actor,
        label,
        csrf: row.csrf,
        id_hash,
    }))
}

/// Signs out.
pub fn close(conn: &mut AnyConnection, id_hash: &str) -> ServiceResult<()> {
    Ok(store::sessions::delete(conn, id_hash)?)
}
