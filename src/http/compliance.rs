//! `/api/v1/compliance`: who reported, for which periods, on time or not, with the rates; JSON or CSV.

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde::Deserialize;

use super::auth::Authenticated;
use super::extract::Query;
use super::problem::{ApiError, Problem};
use super::AppState;
use crate::domain::CellStatus;
use crate::mail::words::status_label;
use crate::service::compliance::{Compliance, ComplianceQuery, Question};
use crate::service::{self, PageParams};

/// How an answer is wanted: JSON (the default), or a file (`csv`), in a language (`vi`, the default, or `en`)
/// for the words people read in it.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Export {
    /// `json` (default) or `csv` (also chosen by `Accept: text/csv`).
    pub format: Option<String>,
    /// Language of the words in a file: `vi` (default) or `en` (also from `Accept-Language`).
    pub lang: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
}

impl Export {
    /// The format asked for, by `format=` or else by the Accept header.
    pub fn format(&self, req: &HttpRequest) -> Result<Format, ApiError> {
        match self.format.as_deref() {
            Some("json") => Ok(Format::Json),
            Some("csv") => Ok(Format::Csv),
            Some(other) => Err(ApiError::Invalid(vec![crate::domain::FieldError::new(
                "/format",
                format!("`{other}` is not one of json, csv"),
            )])),
            None => {
                let accept = req
                    .headers()
                    .get(header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                Ok(if accept.contains("text/csv") {
                    Format::Csv
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

/// Who reported, per unit and period, as things stand now or stood at `as_of`; the totals and DHIS2's rates
/// per period and overall (docs/compliance.md). `format=csv` (or `Accept: text/csv`) streams every row of the
/// selection as CSV (UTF-8 with BOM), one line per unit, obligation and period.
#[utoipa::path(
    tag = "compliance",
    params(ComplianceQuery, PageParams, Export),
    responses(
        (status = 200, body = Compliance, content(
            (Compliance = "application/json"),
            (String = "text/csv"),
        )),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)
    ),
    security(("bearer" = []))
)]
#[get("/compliance")]
pub async fn compliance(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    Query(query): Query<ComplianceQuery>,
    Query(page): Query<PageParams>,
    Query(export): Query<Export>,
) -> Result<HttpResponse, ApiError> {
    let format = export.format(&req)?;
    let language = export.language(&req);
    let (now, zone) = (Utc::now(), state.settings.time_zone);
    let csv = format == Format::Csv;
    let question = state
        .run(move |conn| {
            let mut q = service::compliance::question(conn, &actor, now, zone, &query, &page)?;
            if csv {
                // A file holds the whole selection: pages of the largest size, one after the other.
                q.limit = service::MAX_LIMIT;
            }
            Ok(q)
        })
        .await?;
    if !csv {
        let answer = state
            .run(move |conn| service::compliance::compliance(conn, &question))
            .await?;
        return Ok(HttpResponse::Ok().json(answer));
    }
    let name = format!(
        "tinh-hinh-bao-cao-{}.csv",
        question
            .filter
            .as_of
            .0
            .with_timezone(&zone)
            .format("%Y%m%d-%H%M")
    );
    Ok(stream_csv(&state, &name, move |conn, send| {
        let mut question: Question = question;
        let mut first = true;
        loop {
            let page = service::compliance::compliance(conn, &question)?;
            let mut out = csv::Writer::from_writer(Vec::new());
            if first {
                out.write_record(header_row(language)).map_err(csv_error)?;
                first = false;
            }
            for row in &page.items {
                for cell in &row.cells {
                    if cell.status == CellStatus::NotExpected {
                        continue;
                    }
                    out.write_record(cell_row(language, row, cell))
                        .map_err(csv_error)?;
                }
            }
            if !send(out.into_inner().map_err(|e| csv_error(e.into_error()))?) {
                return Ok(());
            }
            match page.next_cursor {
                Some(cursor) => {
                    let (obligation, code) = cursor.split_once('.').unwrap_or_default();
                    question.after =
                        Some((code.to_owned(), obligation.parse().unwrap_or_default()));
                }
                None => return Ok(()),
            }
        }
    }))
}

fn csv_error(e: impl std::fmt::Display) -> service::ServiceError {
    service::ServiceError::Task(format!("writing CSV: {e}"))
}

fn header_row(language: &str) -> Vec<&'static str> {
    if language == "en" {
        vec![
            "Unit code",
            "Unit",
            "Obligation id",
            "Obligation",
            "Period",
            "Status",
            "Status code",
            "Last day",
            "Due at",
            "Received at",
            "Days late",
            "Version",
            "Review",
            "Extended",
            "Deadline id",
            "Submission id",
        ]
    } else {
        vec![
            "Mã đơn vị",
            "Đơn vị",
            "Mã nghĩa vụ báo cáo",
            "Nghĩa vụ báo cáo",
            "Kỳ báo cáo",
            "Trạng thái",
            "Mã trạng thái",
            "Hạn nộp (ngày cuối)",
            "Thời điểm hết hạn",
            "Thời điểm nhận",
            "Số ngày muộn",
            "Phiên bản",
            "Xem xét",
            "Được gia hạn",
            "Mã hạn nộp",
            "Mã báo cáo",
        ]
    }
}

fn cell_row(
    language: &str,
    row: &service::compliance::ComplianceRow,
    cell: &service::compliance::Cell,
) -> Vec<String> {
    let text = |v: Option<String>| v.unwrap_or_default();
    vec![
        row.unit.clone(),
        row.unit_name.clone(),
        row.obligation_id.to_string(),
        row.obligation.clone(),
        cell.period.clone(),
        status_label(language, cell.status).to_owned(),
        cell.status.as_str().to_owned(),
        text(cell.last_day.map(|d| d.to_string())),
        text(cell.due_at.map(|t| t.to_rfc3339())),
        text(cell.received_at.map(|t| t.to_rfc3339())),
        text(cell.days_late.map(|d| d.to_string())),
        text(cell.version.map(|v| v.to_string())),
        text(cell.decision.clone()),
        if cell.extended { "1" } else { "" }.to_owned(),
        text(cell.deadline_id.map(|v| v.to_string())),
        text(cell.submission_id.map(|v| v.to_string())),
    ]
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
