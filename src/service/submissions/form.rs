//! The report forms: each obligation's JSON Schema, compiled once per version of the obligation and shared.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

use crate::service::{ServiceError, ServiceResult};
use crate::store::{self};

/// Forms are compiled once per (obligation, version of the obligation) and shared across requests.
type FormCache = Mutex<HashMap<(i64, String), Arc<jsonschema::Validator>>>;

pub(super) fn validator(
    obligation: &store::obligations::ObligationRow,
    form: &Value,
) -> ServiceResult<Arc<jsonschema::Validator>> {
    static CACHE: OnceLock<FormCache> = OnceLock::new();
    let key = (obligation.id, obligation.updated_at.to_string());
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().expect("form cache lock").get(&key) {
        return Ok(v.clone());
    }
    let compiled =
        Arc::new(jsonschema::validator_for(form).map_err(|e| {
            ServiceError::data(format!("form of obligation {}: {e}", obligation.id))
        })?);
    let mut cache = cache.lock().expect("form cache lock");
    cache.retain(|(id, _), _| *id != obligation.id);
    cache.insert(key, compiled.clone());
    Ok(compiled)
}
