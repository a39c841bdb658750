//! `/api/v1/submissions` and the decisions on deadlines (extension, waiver).

use actix_web::http::header::LOCATION;
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::Utc;

use super::auth::Authenticated;
use super::export::{self, column, Cell, Column, Export, Format};
use super::extract::{Json, Query};
use super::problem::{ApiError, Problem};
use super::AppState;
use crate::domain::FieldError;
use crate::mail::words;
use crate::service::deadlines::Deadline;
use crate::service::submissions::{
    ExtensionInput, NewSubmissionInput, Receipt, ReviewInput, Submission, SubmissionQuery,
    WaiverInput,
};
use crate::service::{self, Page, PageParams};

/// The `Idempotency-Key` header: at most 255 visible ASCII characters.
fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 255);
    match key {
        Some(key) if key.chars().all(|c| c.is_ascii_graphic()) => Ok(Some(key.to_owned())),
        _ => Err(ApiError::Invalid(vec![FieldError::new(
            "/Idempotency-Key",
            "the Idempotency-Key header must be 1 to 255 visible ASCII characters",
        )])),
    }
}

/// File a report for a deadline. Retrying with the same `Idempotency-Key` returns the first receipt.
#[utoipa::path(
    tag = "submissions",
    request_body = NewSubmissionInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "makes a retried request return the first response")),
    responses(
        (status = 201, body = Receipt), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/submissions")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    Json(input): Json<NewSubmissionInput>,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency_key(&req)?;
    let now = Utc::now();
    let response = state
        .run(move |conn| service::submissions::submit(conn, &actor, now, input, key.as_deref()))
        .await?;
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::OK);
    let mut builder = HttpResponse::build(status);
    if let Some(id) = response.body.get("id").and_then(|v| v.as_i64()) {
        builder.insert_header((LOCATION, format!("/api/v1/submissions/{id}")));
    }
    Ok(builder.json(response.body))
}

/// Submissions in the order they were received, with their unit's name: a reporter sees its own unit's, a
/// coordinator those of the plans it coordinates. `format=csv` (or `Accept: text/csv`) or `format=xlsx` gives
/// every page of the selection as a file, the report's content in one column.
#[utoipa::path(
    tag = "submissions",
    params(SubmissionQuery, PageParams, Export),
    responses(
        (status = 200, body = Page<Submission>, content(
            (Page<Submission> = "application/json"),
            (String = "text/csv"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)
    ),
    security(("bearer" = []))
)]
#[get("/submissions")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    Query(query): Query<SubmissionQuery>,
    Query(page): Query<PageParams>,
    Query(export): Query<Export>,
) -> Result<HttpResponse, ApiError> {
    let zone = state.settings.time_zone;
    let format = export.format(&req)?;
    if format == Format::Json {
        let page = state
            .run(move |conn| service::submissions::list(conn, &actor, zone, &query, &page))
            .await?;
        return Ok(HttpResponse::Ok().json(page));
    }
    let language = export.language(&req);
    let title = if language == "en" {
        "Reports received".to_owned()
    } else {
        "Danh sách báo cáo đã nhận".to_owned()
    };
    export::list_file(
        &state,
        format,
        language,
        "bao-cao-da-nhan",
        title,
        SUBMISSION_COLUMNS,
        move |conn, page| service::submissions::list(conn, &actor, zone, &query, page),
        submission_row,
    )
    .await
}

const SUBMISSION_COLUMNS: &[Column] = &[
    column("Mã báo cáo", "Submission id", 10.0),
    column("Mã đơn vị", "Unit code", 16.0),
    column("Đơn vị", "Unit", 30.0),
    column("Mã nghĩa vụ", "Obligation id", 10.0),
    column("Kỳ báo cáo", "Period", 10.0),
    column("Phiên bản", "Version", 9.0),
    column("Thời điểm nhận", "Received at", 17.0),
    column("Ngày đến (bản giấy)", "Arrived on (paper)", 12.0),
    column("Đúng hạn", "On time", 9.0),
    column("Thời gian nộp muộn", "Late by", 16.0),
    column("Văn phòng nộp thay", "Filed by the office", 10.0),
    column("Người nộp", "Filed by", 24.0),
    column("Số văn bản đến", "Document no.", 14.0),
    column("Kết quả xem xét", "Review", 14.0),
    column("Ý kiến", "Comment", 30.0),
    column("Nội dung báo cáo", "Content", 60.0),
];

fn submission_row(language: &str, s: &Submission) -> Vec<Cell> {
    let en = language == "en";
    let yes_no = |b: bool| {
        Cell::text(match (b, en) {
            (true, false) => "Có",
            (false, false) => "Không",
            (true, true) => "Yes",
            (false, true) => "No",
        })
    };
    let r = &s.receipt;
    let decision = s.review.as_ref().map(|given| match (given.decision, en) {
        (service::submissions::ReviewDecision::Accept, false) => "Tiếp nhận",
        (service::submissions::ReviewDecision::Return, false) => "Trả lại để sửa",
        (service::submissions::ReviewDecision::Accept, true) => "Accepted",
        (service::submissions::ReviewDecision::Return, true) => "Returned for correction",
    });
    vec![
        Cell::Number(r.id as f64),
        Cell::text(&r.unit),
        Cell::text(&s.unit_name),
        Cell::Number(s.obligation_id as f64),
        Cell::text(&r.period),
        Cell::Number(f64::from(r.version)),
        Cell::Instant(r.received_at),
        r.received_on.map_or(Cell::Empty, Cell::Date),
        yes_no(r.on_time),
        Cell::optional_text(
            r.lateness
                .as_deref()
                .and_then(service::submissions::iso_seconds)
                .map(|seconds| words::duration_words(language, seconds)),
        ),
        yes_no(r.on_behalf),
        Cell::text(&r.filed_by),
        Cell::optional_text(r.document_ref.as_deref()),
        Cell::optional_text(decision),
        Cell::optional_text(s.review.as_ref().and_then(|given| given.comment.as_deref())),
        Cell::text(payload_words(&s.payload)),
    ]
}

/// A report's content on one line: "name: value; list: a, b".
pub(crate) fn payload_words(payload: &serde_json::Value) -> String {
    use serde_json::Value;
    fn scalar(v: &Value) -> String {
        match v {
            Value::String(s) => s.clone(),
            Value::Array(items) => items.iter().map(scalar).collect::<Vec<_>>().join(", "),
            Value::Null => String::new(),
            other => other.to_string(),
        }
    }
    match payload {
        Value::Object(fields) => fields
            .iter()
            .map(|(name, value)| format!("{name}: {}", scalar(value)))
            .collect::<Vec<_>>()
            .join("; "),
        other => scalar(other),
    }
}

/// One submission with its payload and review.
#[utoipa::path(
    tag = "submissions",
    params(("id" = i64, Path, description = "the submission's id")),
    responses((status = 200, body = Submission), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/submissions/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let submission = state
        .run(move |conn| service::submissions::get(conn, &actor, id))
        .await?;
    Ok(HttpResponse::Ok().json(submission))
}

/// Accept a submission, or return it for revision (the deadline is `returned` until the unit files again).
#[utoipa::path(
    tag = "submissions",
    params(("id" = i64, Path, description = "the submission's id")),
    request_body = ReviewInput,
    responses(
        (status = 200, body = Submission), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/submissions/{id}/review")]
pub async fn review(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<i64>,
    Json(input): Json<ReviewInput>,
) -> Result<HttpResponse, ApiError> {
    let now = Utc::now();
    let id = id.into_inner();
    let submission = state
        .run(move |conn| service::submissions::review(conn, &actor, now, id, input))
        .await?;
    Ok(HttpResponse::Ok().json(submission))
}

/// Every version filed for a deadline, oldest first.
#[utoipa::path(
    tag = "submissions",
    params(("id" = i64, Path, description = "the deadline's id"), PageParams),
    responses((status = 200, body = Page<Submission>), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/deadlines/{id}/submissions")]
pub async fn of_deadline(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<i64>,
    Query(page): Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let now = Utc::now();
    let id = id.into_inner();
    let versions = state
        .run(move |conn| service::submissions::of_deadline(conn, &actor, now, id, &page))
        .await?;
    Ok(HttpResponse::Ok().json(versions))
}

/// Give a deadline a later last day (gia hạn); an overdue deadline is open again.
#[utoipa::path(
    tag = "deadlines",
    params(("id" = i64, Path, description = "the deadline's id")),
    request_body = ExtensionInput,
    responses(
        (status = 200, body = Deadline), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/deadlines/{id}/extension")]
pub async fn extension(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<i64>,
    Json(input): Json<ExtensionInput>,
) -> Result<HttpResponse, ApiError> {
    let now = Utc::now();
    let id = id.into_inner();
    let deadline = state
        .run(move |conn| service::submissions::extend(conn, &actor, now, id, input))
        .await?;
    Ok(HttpResponse::Ok().json(deadline))
}

/// Exempt the unit from a deadline (miễn).
#[utoipa::path(
    tag = "deadlines",
    params(("id" = i64, Path, description = "the deadline's id")),
    request_body = WaiverInput,
    responses(
        (status = 200, body = Deadline), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/deadlines/{id}/waiver")]
pub async fn waiver(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<i64>,
    Json(input): Json<WaiverInput>,
) -> Result<HttpResponse, ApiError> {
    let now = Utc::now();
    let id = id.into_inner();
    let deadline = state
        .run(move |conn| service::submissions::waive(conn, &actor, now, id, input))
        .await?;
    Ok(HttpResponse::Ok().json(deadline))
}
