//! Idempotent filing: the `Idempotency-Key` of a request, and the response a retry gets again.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::service::{Actor, ServiceError, ServiceResult};
use crate::store::submissions::IdempotencyRow;
use crate::store::{self, AnyConnection, TextJson};

/// A response that a retried request with the same `Idempotency-Key` gets again.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: Value,
}

/// Runs `f` (a use case's transaction) once per (actor, key): a retry with the same key and the same `request`
/// gets the stored response again, one with a different request is refused, and of two racing with one key
/// the second answers with the first one's response. Without a key, `f` simply runs.
pub(super) fn once(
    conn: &mut AnyConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    key: Option<&str>,
    request: &str,
    f: impl FnOnce(&mut AnyConnection) -> ServiceResult<StoredResponse>,
) -> ServiceResult<StoredResponse> {
    let idem_actor = actor
        .token_id
        .map_or_else(|| actor.name.clone(), |id| format!("token:{id}"));
    let request_hash = crate::service::tokens::digest_hex(request);
    let attempt = store::transaction(conn, |conn| {
        if let Some(key) = key {
            if let Some(stored) = store::submissions::find_idempotency(conn, &idem_actor, key)? {
                return replay(stored, &request_hash);
            }
        }
        let response = f(conn)?;
        if let Some(key) = key {
            store::submissions::insert_idempotency(
                conn,
                &IdempotencyRow {
                    actor: idem_actor.clone(),
                    key: key.to_owned(),
                    request_hash: request_hash.clone(),
                    response_status: i32::from(response.status),
                    response_body: TextJson(response.body.clone()),
                    created_at: now.into(),
                },
            )?;
        }
        Ok(response)
    });
    match (attempt, key) {
        // Two requests with one key raced and the other committed first: answer with its response.
        (Err(ServiceError::Store(e)), Some(key)) if e.is_unique_violation() => {
            let stored = store::submissions::find_idempotency(conn, &idem_actor, key)?
                .ok_or(ServiceError::Store(e))?;
            replay(stored, &request_hash)
        }
        (result, _) => result,
    }
}

fn replay(stored: IdempotencyRow, request_hash: &str) -> ServiceResult<StoredResponse> {
    if stored.request_hash != request_hash {
        return Err(ServiceError::invalid(
            "",
            "this Idempotency-Key was already used for a different request; use a new key",
        ));
    }
    Ok(StoredResponse {
        status: u16::try_from(stored.response_status).unwrap_or(200),
        body: stored.response_body.0,
    })
}
