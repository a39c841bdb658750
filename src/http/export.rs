//! Answers as files: CSV streamed page by page (UTF-8 with a BOM, RFC 4180), XLSX workbooks, in the request's
//! language (`?lang=`, else `Accept-Language`; Vietnamese by default).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::problem::ApiError;
use super::AppState;
use crate::service;

/// How an answer is wanted: JSON (the default), or a file (`csv`), in a language (`vi`, the default, or `en`)
/// for the words people read in it.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Export {
    /// `json` (default), `csv` (also chosen by `Accept: text/csv`) or `xlsx`.
    pub format: Option<String>,
    /// Language of the words in a file: `vi` (default) or `en` (also from `Accept-Language`).
    pub lang: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Xlsx,
}

impl Export {
    /// The format asked for, by `format=` or else by the Accept header.
    pub fn format(&self, req: &HttpRequest) -> Result<Format, ApiError> {
        match self.format.as_deref() {
            Some("json") => Ok(Format::Json),
            Some("csv") => Ok(Format::Csv),
            Some("xlsx") => Ok(Format::Xlsx),
            Some(other) => Err(ApiError::Invalid(vec![crate::domain::FieldError::new(
                "/format",
                format!("`{other}` is not one of json, csv, xlsx"),
            )])),
            None => {
                let accept = req
                    .headers()
                    .get(header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                Ok(if accept.contains("text/csv") {
                    Format::Csv
                } else if accept.contains("spreadsheetml") {
                    Format::Xlsx
                } else {
                    Format::Json
                })
            }
        }
    }

    /// `vi` unless `lang=en` or an Accept-Language that prefers English.
    pub fn language(&self, req: &HttpRequest) -> &'static str {
        let asked = self.lang.clone().or_else(|| {
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .map(|first| first.trim().to_ascii_lowercase())
        });
        match asked.as_deref() {
            Some(l) if l == "en" || l.starts_with("en-") => "en",
            _ => "vi",
        }
    }
}

/// A CSV file streamed as `produce` writes it: UTF-8 with a byte order mark (so that Excel on Windows reads the
/// diacritics), produced page by page on a pooled connection and sent as it comes, never built whole in memory.
/// `produce` gets a `send` that answers false once the client has gone.
pub fn stream_csv(
    state: &AppState,
    file_name: &str,
    produce: impl FnOnce(
            &mut crate::store::AnyConnection,
            &mut dyn FnMut(Vec<u8>) -> bool,
        ) -> service::ServiceResult<()>
        + Send
        + 'static,
) -> HttpResponse {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
    let pool = state.pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut send = |chunk: Vec<u8>| tx.blocking_send(chunk).is_ok();
        if !send("\u{feff}".as_bytes().to_vec()) {
            return;
        }
        let outcome = pool
            .get()
            .map_err(|e| service::ServiceError::Store(e.into()))
            .and_then(|mut conn| produce(&mut conn, &mut send));
        if let Err(e) = outcome {
            // The status line has gone: the file ends early, and the log says why.
            tracing::error!("CSV export stopped: {e}");
        }
    });
    let body = futures_util::stream::poll_fn(move |cx| {
        rx.poll_recv(cx)
            .map(|chunk| chunk.map(|c| Ok::<_, actix_web::Error>(web::Bytes::from(c))))
    });
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file_name}\""),
        ))
        .streaming(body)
}

/// An XLSX workbook as a download named `file_name`.
pub fn xlsx(file_name: &str, workbook: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file_name}\""),
        ))
        .body(workbook)
}

/// An XLSX writer's failure, as the server's (nothing a client sent can cause one).
pub fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> ApiError {
    ApiError::Internal(anyhow::anyhow!("writing XLSX: {e}"))
}
