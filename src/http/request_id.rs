//! The request id (tracing-actix-web's, also in every log line of the request) given back to the client: in the
//! `X-Request-Id` header of every answer and as the `instance` of every problem document, so that an office
//! reporting an error can quote it and the operators find the request in the log.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use actix_web::middleware::Next;
use actix_web::HttpMessage;
use tracing_actix_web::RequestId;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Adds the request id to the answer; must run inside `TracingLogger`, which makes the id.
pub async fn attach(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let id = req.extensions().get::<RequestId>().copied();
    // Handlers' and extractors' errors arrive as responses; the inner middleware answers with responses too.
    let response = next.call(req).await?.map_into_boxed_body();
    let Some(id) = id else {
        return Ok(response);
    };
    let is_problem = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == b"application/problem+json");
    let mut response = if is_problem {
        with_instance(response, &id.to_string()).await
    } else {
        response
    };
    if let Ok(value) = HeaderValue::from_str(&id.to_string()) {
        response.headers_mut().insert(HEADER, value);
    }
    Ok(response)
}

/// The problem document with `"instance": "urn:uuid:<id>"` (RFC 9457 §3.1.5); unchanged if it cannot be read.
async fn with_instance(response: ServiceResponse<BoxBody>, id: &str) -> ServiceResponse<BoxBody> {
    let (request, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let Ok(bytes) = actix_web::body::to_bytes(body).await else {
        return ServiceResponse::new(request, head.set_body(BoxBody::new(())));
    };
    let body = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(mut problem)) => {
            problem.insert("instance".into(), format!("urn:uuid:{id}").into());
            serde_json::to_vec(&problem).unwrap_or_else(|_| bytes.to_vec())
        }
        _ => bytes.to_vec(),
    };
    ServiceResponse::new(request, head.set_body(BoxBody::new(body)))
}
