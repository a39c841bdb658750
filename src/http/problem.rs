//! Errors as RFC 9457 problem documents: the one place where every failure becomes an HTTP status.
//!
//! Field errors carry JSON pointers into the request body (for query parameters: `/<name>`). Anything
//! unexpected is an opaque 500 whose cause goes to the log only.

use actix_web::http::header::{self, ContentType};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::domain::FieldError;
use crate::service::ServiceError;
use crate::store::StoreError;

/// The body of every error response (`application/problem+json`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem, e.g. `urn:hanbao:problem:validation`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// One entry per offending field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// This occurrence: `urn:uuid:<request id>`, the answer's `X-Request-Id` and the id in the server's log
    /// lines for the request. Quote it when reporting a problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
}

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// The body is not JSON at all (syntax error, truncated).
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// Well-formed input with wrong or missing values (type errors, unknown fields, bad query parameters).
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("missing or invalid bearer token")]
    Unauthorized,
    #[error("too many failed authentications; retry in {retry_after} s")]
    TooManyRequests { retry_after: u64 },
    #[error("request body larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("content type must be application/json")]
    UnsupportedMediaType,
    #[error("no such resource")]
    NoRoute,
    #[error("method not allowed")]
    MethodNotAllowed,
    /// Query parameters the route does not know (a typo such as `unti=` would otherwise be ignored and the
    /// answer look complete).
    #[error("unknown query parameters")]
    UnknownParameters(Vec<FieldError>),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        Self::Service(e.into())
    }
}

impl ApiError {
    /// (status, problem slug, title, detail, field errors)
    fn parts(
        &self,
    ) -> (
        StatusCode,
        &'static str,
        &'static str,
        String,
        Vec<FieldError>,
    ) {
        use StatusCode as S;
        match self {
            Self::Service(ServiceError::Validation(errors)) | Self::Invalid(errors) => (
                S::UNPROCESSABLE_ENTITY,
                "validation",
                "Invalid input",
                summary(errors),
                errors.clone(),
            ),
            Self::Service(e @ ServiceError::NotFound { .. }) => (
                S::NOT_FOUND,
                "not-found",
                "Not found",
                e.to_string(),
                vec![],
            ),
            Self::Service(ServiceError::Conflict { message, pointer }) => (
                S::CONFLICT,
                "conflict",
                "Conflict",
                message.clone(),
                pointer
                    .iter()
                    .map(|p| FieldError::new(p.clone(), message.clone()))
                    .collect(),
            ),
            Self::Service(ServiceError::Forbidden(why)) => {
                (S::FORBIDDEN, "forbidden", "Forbidden", why.clone(), vec![])
            }
            Self::Service(ServiceError::Store(e)) if e.is_connection_lost() => (
                S::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
                "the database is not reachable right now; try again shortly".into(),
                vec![],
            ),
            Self::Service(
                ServiceError::Store(_)
                | ServiceError::Data(_)
                | ServiceError::Template(_)
                | ServiceError::Task(_),
            )
            | Self::Internal(_) => (
                S::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal server error",
                "something went wrong on the server; the operators can find the cause in its log"
                    .into(),
                vec![],
            ),
            Self::UnknownParameters(errors) => (
                S::BAD_REQUEST,
                "unknown-parameter",
                "Unknown query parameter",
                summary(errors),
                errors.clone(),
            ),
            Self::MalformedJson(why) => (
                S::BAD_REQUEST,
                "malformed-json",
                "Malformed JSON",
                why.clone(),
                vec![],
            ),
            Self::Unauthorized => (
                S::UNAUTHORIZED,
                "unauthorized",
                "Unauthorized",
                "send a valid token as `Authorization: Bearer <token>`".into(),
                vec![],
            ),
            Self::TooManyRequests { retry_after } => (
                S::TOO_MANY_REQUESTS,
                "too-many-requests",
                "Too many requests",
                format!("too many failed authentications from this address; retry in {retry_after} seconds"),
                vec![],
            ),
            Self::PayloadTooLarge { limit } => (
                S::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Payload too large",
                format!("the request body is larger than the limit of {limit} bytes"),
                vec![],
            ),
            Self::UnsupportedMediaType => (
                S::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                "send the body as `Content-Type: application/json`".into(),
                vec![],
            ),
            Self::NoRoute => (
                S::NOT_FOUND,
                "not-found",
                "Not found",
                "no such resource".into(),
                vec![],
            ),
            Self::MethodNotAllowed => (
                S::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
                "this resource does not support that method".into(),
                vec![],
            ),
        }
    }
}

fn summary(errors: &[FieldError]) -> String {
    match errors {
        [one] => format!("{}: {}", display_pointer(&one.pointer), one.message),
        many => format!("{} fields are invalid", many.len()),
    }
}

fn display_pointer(pointer: &str) -> &str {
    if pointer.is_empty() {
        "the body"
    } else {
        pointer
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.parts().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, slug, title, detail, errors) = self.parts();
        if status.is_server_error() {
            // The whole cause chain for operators; the client got an opaque message.
            // Debug only: the cause chain, escaped (a message may quote what the client sent).
            tracing::error!(error = ?self, "request failed");
        }
        let problem = Problem {
            kind: format!("urn:hanbao:problem:{slug}"),
            title: title.into(),
            status: status.as_u16(),
            detail,
            errors,
            instance: None,
        };
        let mut response = HttpResponse::build(status);
        response.insert_header(ContentType(
            "application/problem+json"
                .parse()
                .expect("a valid media type"),
        ));
        if status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"hanbao\""));
        }
        if let Self::TooManyRequests { retry_after } = self {
            response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            // A pool wait times out after 10 s; a restarting database is usually back within seconds.
            response.insert_header((header::RETRY_AFTER, "5"));
        }
        response.body(serde_json::to_string(&problem).expect("problems always serialise"))
    }
}

#[cfg(test)]
mod tests {
    use actix_web::ResponseError;

    use super::*;

    #[test]
    fn a_lost_database_connection_is_503_with_retry_after() {
        for lost in [
            StoreError::Query(diesel::result::Error::BrokenTransactionManager),
            StoreError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::ClosedConnection,
                Box::new("server closed the connection unexpectedly".to_owned()),
            )),
            StoreError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::Unknown,
                Box::new("SSL connection has been closed unexpectedly".to_owned()),
            )),
        ] {
            let response = ApiError::from(lost).error_response();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "5");
        }
        // Anything else the database says is still the server's fault.
        let other = StoreError::Query(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::CheckViolation,
            Box::new("new row violates check constraint".to_owned()),
        ));
        assert_eq!(
            ApiError::from(other).error_response().status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
