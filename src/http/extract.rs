//! Request extractors: a JSON body (content type, size limit) and a query string, both with serde errors
//! turned into JSON-pointer field errors.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use super::problem::ApiError;
use super::AppState;
use crate::domain::{pointer_token, FieldError};

/// A request body of type `T`, parsed strictly.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.settings.body_limit)
            .unwrap_or(2 * 1024 * 1024);
        let content_type_ok = is_json(req);
        let declared_length = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if declared_length.is_some_and(|n| n > limit) {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            if !content_type_ok {
                return Err(ApiError::UnsupportedMediaType);
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| {
                    ApiError::MalformedJson(format!("the body could not be read: {e}"))
                })?;
                if body.len() + chunk.len() > limit {
                    return Err(ApiError::PayloadTooLarge { limit });
                }
                body.extend_from_slice(&chunk);
            }
            parse(&body).map(Json)
        })
    }
}

fn is_json(req: &HttpRequest) -> bool {
    let Some(value) = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parses `body`, telling malformed JSON (400) from well-formed JSON with wrong content (422 with a pointer).
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    // Syntax first, so a truncated or garbled body is never reported as a missing field; the same pass finds
    // what a JSON value would hide: a key given twice (the last would silently win) and control characters.
    let found = std::cell::RefCell::new(Vec::new());
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    serde::de::DeserializeSeed::deserialize(
        Walk {
            at: String::new(),
            found: &found,
            long: false,
        },
        &mut deserializer,
    )
    .and_then(|()| deserializer.end())
    .map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    let found = found.into_inner();
    if !found.is_empty() {
        return Err(ApiError::Invalid(found));
    }
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let pointer = path_to_pointer(e.path());
        ApiError::Invalid(vec![field_error(pointer, &e.into_inner().to_string())])
    })
}

/// Control characters other than tab, newline and carriage return: never in any text hanbao keeps (a NUL byte
/// is refused by PostgreSQL, a line break in a code would forge log lines).
pub fn has_control(text: &str) -> bool {
    text.chars()
        .any(|c| (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{7f}')
}

/// Any control character, line breaks included: none belongs in a name — a JSON key, a query parameter or its
/// value (codes, periods, dates) — where a line break could only forge a log line.
pub fn has_any_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// A pass over a JSON document collecting duplicate keys and control characters, each at its pointer.
struct Walk<'a> {
    at: String,
    found: &'a std::cell::RefCell<Vec<FieldError>>,
    /// Inside a long text (or a report's payload, or a form): line breaks and tabs are allowed there.
    long: bool,
}

/// The members whose strings may span lines: letters' texts, notes, comments, reasons, addresses, a report's
/// payload and a form's schema. Every other string (codes, numbers, names, titles, dates) is one line.
const LONG_TEXTS: [&str; 11] = [
    "text",
    "filing_instructions",
    "wording",
    "notes",
    "note",
    "comment",
    "reason",
    "address",
    "description",
    "payload",
    "form",
];

impl<'a> Walk<'a> {
    fn child(&self, token: &str) -> Walk<'a> {
        Walk {
            at: format!("{}/{}", self.at, pointer_token(token)),
            found: self.found,
            long: self.long,
        }
    }

    fn member(&self, key: &str) -> Walk<'a> {
        let mut child = self.child(key);
        child.long |= LONG_TEXTS.contains(&key);
        child
    }

    fn flag(&self, pointer: String, message: &str) {
        self.found
            .borrow_mut()
            .push(FieldError::new(pointer, message));
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, text: &str) -> Result<(), E> {
        if self.long && has_control(text) {
            self.flag(self.at.clone(), "must not contain control characters");
        } else if !self.long && has_any_control(text) {
            self.flag(
                self.at.clone(),
                "must be one line, without line breaks or control characters",
            );
        }
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        while seq
            .next_element_seed(self.child(&index.to_string()))?
            .is_some()
        {
            index += 1;
        }
        Ok(())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let child = self.member(&key);
            if has_any_control(&key) {
                self.flag(
                    child.at.clone(),
                    "a key must not contain control characters",
                );
            }
            if !seen.insert(key.clone()) {
                self.flag(child.at.clone(), &format!("`{key}` is given twice"));
            }
            map.next_value_seed(child)?;
        }
        Ok(())
    }
}

/// A query string of type `T`; a parameter of the wrong type is a field error pointing at `/<name>`.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let controls: Vec<FieldError> = form_urlencoded::parse(req.query_string().as_bytes())
            .filter(|(k, v)| has_any_control(k) || has_any_control(v))
            .map(|(k, _)| {
                FieldError::new(
                    format!("/{}", pointer_token(&k)),
                    "must not contain control characters",
                )
            })
            .collect();
        if !controls.is_empty() {
            return std::future::ready(Err(ApiError::Invalid(controls)));
        }
        let parsed = form_urlencoded::parse(req.query_string().as_bytes());
        let deserializer = serde_urlencoded::Deserializer::new(parsed);
        std::future::ready(
            serde_path_to_error::deserialize(deserializer)
                .map(Query)
                .map_err(|e| {
                    let pointer = path_to_pointer(e.path());
                    ApiError::Invalid(vec![field_error(pointer, &e.into_inner().to_string())])
                }),
        )
    }
}

fn path_to_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(format!("/{index}")),
            Segment::Map { key } => Some(format!("/{}", pointer_token(key))),
            Segment::Enum { .. } | Segment::Unknown => None,
        })
        .collect()
}

/// serde says "missing field `x`" and "unknown field `x`, expected …" about the enclosing object: point at
/// the field itself, and drop serde_json's "at line … column …" which means nothing to a JSON pointer reader.
fn field_error(mut pointer: String, text: &str) -> FieldError {
    let message = match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text.to_owned(),
    };
    for prefix in ["missing field `", "unknown field `"] {
        if let Some(rest) = message.strip_prefix(prefix) {
            if let Some(name) = rest.split('`').next() {
                let token = format!("/{}", pointer_token(name));
                if !pointer.ends_with(&token) {
                    pointer.push_str(&token);
                }
            }
        }
    }
    FieldError::new(pointer, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        inner: Vec<Inner>,
        #[serde(default)]
        note: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        n: u32,
    }

    fn errors(body: &str) -> Vec<FieldError> {
        match parse::<Outer>(body.as_bytes()) {
            Err(ApiError::Invalid(errors)) => errors,
            other => panic!("expected field errors, got {other:?}"),
        }
    }

    #[test]
    fn pointers_locate_the_field() {
        assert_eq!(
            errors(r#"{"name":"x","inner":[{"n":1},{"n":"two"}]}"#)[0].pointer,
            "/inner/1/n"
        );
        let missing = &errors(r#"{"inner":[]}"#)[0];
        assert_eq!(missing.pointer, "/name");
        assert_eq!(missing.message, "missing field `name`");
        assert_eq!(
            errors(r#"{"name":"x","inner":[{"n":1,"m":2}]}"#)[0].pointer,
            "/inner/0/m"
        );
    }

    #[test]
    fn duplicate_keys_and_control_characters_are_refused_at_their_pointer() {
        let found = errors(r#"{"name":"x","inner":[{"n":1}],"name":"y"}"#);
        assert_eq!(found[0].pointer, "/name");
        assert_eq!(found[0].message, "`name` is given twice");
        let nul = errors("{\"name\":\"a\\u0000\",\"inner\":[{\"n\":1}]}");
        assert_eq!(nul[0].pointer, "/name");
        let nested = errors("{\"name\":\"x\",\"inner\":[{\"n\":1},{\"n\":2,\"n\":3}]}");
        assert_eq!(nested[0].pointer, "/inner/1/n");
        // A name is one line; a long text (a note) may hold tabs and line breaks, never a DEL or a NUL.
        let broken = errors("{\"name\":\"a\\nb\",\"inner\":[]}");
        assert_eq!(broken[0].pointer, "/name");
        assert!(broken[0].message.starts_with("must be one line"));
        assert!(
            parse::<Outer>("{\"name\":\"a\",\"inner\":[],\"note\":\"a\\tb\\nc\"}".as_bytes())
                .is_ok()
        );
        let nul_note = errors("{\"name\":\"a\",\"inner\":[],\"note\":\"a\\u0000\"}");
        assert_eq!(nul_note[0].pointer, "/note");
        assert!(has_control("x\u{7f}"));
    }

    #[test]
    fn syntax_errors_are_malformed() {
        assert!(matches!(
            parse::<Outer>(b"{\"name\":"),
            Err(ApiError::MalformedJson(_))
        ));
        let trailing = parse::<Outer>(br#"{"name":"x","inner":[]} x"#);
        assert!(
            matches!(trailing, Err(ApiError::MalformedJson(_))),
            "{trailing:?}"
        );
    }
}
