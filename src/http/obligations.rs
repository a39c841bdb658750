//! `/api/v1/plans/{id}/obligations`, `/api/v1/obligations` and `/api/v1/obligations/{id}`.

use actix_web::http::header::LOCATION;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::Utc;

use super::auth::Authenticated;
use super::export::{self, column, Cell, Column, Export, Format};
use super::extract::{Json, Query};
use super::problem::{ApiError, Problem};
use super::AppState;
use crate::mail::words;
use crate::service::consolidation::Consolidation;
use crate::service::obligations::{NewObligation, Obligation, ObligationPatch, ObligationQuery};
use crate::service::{self, Page, PageParams};

/// Create an obligation of a plan and materialise its deadlines for its whole window.
#[utoipa::path(
    tag = "obligations",
    params(("id" = i64, Path, description = "the plan's id")),
    request_body = NewObligation,
    responses(
        (status = 201, body = Obligation, description = "created; `materialised.created` counts the deadlines made"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/plans/{id}/obligations")]
pub async fn create(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    plan_id: web::Path<i64>,
    Json(input): Json<NewObligation>,
) -> Result<HttpResponse, ApiError> {
    let now = Utc::now();
    let plan_id = plan_id.into_inner();
    let obligation = state
        .run(move |conn| service::obligations::create(conn, &actor, now, plan_id, input))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/obligations/{}", obligation.id)))
        .json(obligation))
}

/// Obligations across plans: a reporter sees those it reports under, a coordinator those of its plans.
/// `format=csv` (or `Accept: text/csv`) or `format=xlsx` gives every page of the selection as a file.
#[utoipa::path(
    tag = "obligations",
    params(ObligationQuery, PageParams, Export),
    responses(
        (status = 200, body = Page<Obligation>, content(
            (Page<Obligation> = "application/json"),
            (String = "text/csv"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)
    ),
    security(("bearer" = []))
)]
#[get("/obligations")]
pub async fn list_all(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    Query(query): Query<ObligationQuery>,
    Query(page): Query<PageParams>,
    Query(export): Query<Export>,
) -> Result<HttpResponse, ApiError> {
    let format = export.format(&req)?;
    if format == Format::Json {
        let page = state
            .run(move |conn| service::obligations::list_all(conn, &actor, &query, &page))
            .await?;
        return Ok(HttpResponse::Ok().json(page));
    }
    let language = export.language(&req);
    let title = if language == "en" {
        "Reporting obligations".to_owned()
    } else {
        "Danh sách nghĩa vụ báo cáo".to_owned()
    };
    export::list_file(
        &state,
        format,
        language,
        "nghia-vu-bao-cao",
        title,
        OBLIGATION_COLUMNS,
        move |conn, page| service::obligations::list_all(conn, &actor, &query, page),
        obligation_row,
    )
    .await
}

const OBLIGATION_COLUMNS: &[Column] = &[
    column("Mã nghĩa vụ", "Obligation id", 10.0),
    column("Mã kế hoạch", "Plan id", 10.0),
    column("Nghĩa vụ báo cáo", "Obligation", 40.0),
    column("Mã đơn vị nhận", "Recipient code", 16.0),
    column("Đơn vị nhận báo cáo", "Recipient", 30.0),
    column("Loại kỳ báo cáo", "Period type", 14.0),
    column("Áp dụng từ ngày", "From", 12.0),
    column("Đến ngày", "Until", 12.0),
    column("Số hạn nộp", "Deadlines", 10.0),
    column("Nguyên văn kế hoạch", "The plan's words", 50.0),
];

fn obligation_row(language: &str, o: &Obligation) -> Vec<Cell> {
    vec![
        Cell::Number(o.id as f64),
        Cell::Number(o.plan_id as f64),
        Cell::text(&o.title),
        Cell::text(&o.recipient),
        Cell::text(&o.recipient_name),
        Cell::text(words::period_type_words(language, o.schedule.period_type)),
        Cell::Date(o.window.starts_on),
        Cell::Date(o.window.ends_on),
        Cell::Number(o.deadlines as f64),
        Cell::optional_text(o.wording.as_deref()),
    ]
}

/// The obligations of a plan.
#[utoipa::path(
    tag = "obligations",
    params(("id" = i64, Path, description = "the plan's id"), PageParams),
    responses((status = 200, body = Page<Obligation>), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/plans/{id}/obligations")]
pub async fn list(
    state: web::Data<AppState>,
    Authenticated(_actor): Authenticated,
    plan_id: web::Path<i64>,
    Query(page): Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let plan_id = plan_id.into_inner();
    let page = state
        .run(move |conn| service::obligations::list(conn, plan_id, &page))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Read an obligation, with its deadline count and the periods it cannot serve (`warnings`).
#[utoipa::path(
    tag = "obligations",
    params(("id" = i64, Path, description = "the obligation's id")),
    responses((status = 200, body = Obligation), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/obligations/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    Authenticated(_actor): Authenticated,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let obligation = state
        .run(move |conn| service::obligations::get(conn, id))
        .await?;
    Ok(HttpResponse::Ok().json(obligation))
}

/// Change an obligation; its open deadlines are recomputed (submitted ones never move).
#[utoipa::path(
    tag = "obligations",
    params(("id" = i64, Path, description = "the obligation's id")),
    request_body = ObligationPatch,
    responses(
        (status = 200, body = Obligation), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[patch("/obligations/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<i64>,
    Json(patch): Json<ObligationPatch>,
) -> Result<HttpResponse, ApiError> {
    let now = Utc::now();
    let id = id.into_inner();
    let obligation = state
        .run(move |conn| service::obligations::update(conn, &actor, now, id, patch))
        .await?;
    Ok(HttpResponse::Ok().json(obligation))
}

/// Query of the consolidation.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsolidationQuery {
    /// The period id (`2024`, `202409`, …).
    pub period: String,
}

/// The consolidated report of one period ("tổng hợp chung"): each numeric field of the form aggregated
/// (`x-aggregate`: sum by default, avg, min, max, count) over the current version of every unit's report, the
/// text fields listed per unit, and the units whose report is missing. `format=xlsx` gives a workbook (the
/// figures, the texts, the missing units, a sheet each); `format=csv` one table of the three, a column naming
/// the part.
#[utoipa::path(
    tag = "obligations",
    params(("id" = i64, Path, description = "the obligation's id"), ConsolidationQuery, Export),
    responses(
        (status = 200, body = crate::service::consolidation::Consolidation, content(
            (crate::service::consolidation::Consolidation = "application/json"),
            (String = "text/csv"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)
    ),
    security(("bearer" = []))
)]
#[get("/obligations/{id}/consolidation")]
pub async fn consolidation(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<i64>,
    Query(query): Query<ConsolidationQuery>,
    Query(export): Query<Export>,
) -> Result<HttpResponse, ApiError> {
    let format = export.format(&req)?;
    let language = export.language(&req);
    let (now, id) = (Utc::now(), id.into_inner());
    let (answer, plan) = state
        .run(move |conn| {
            let answer =
                service::consolidation::consolidation(conn, &actor, now, id, &query.period)?;
            let plan_id = service::obligations::get(conn, id)?.plan_id;
            Ok((answer, service::plans::get(conn, plan_id)?.number))
        })
        .await?;
    let stem = format!("tong-hop-bao-cao-{id}-{}", answer.period);
    match format {
        Format::Json => Ok(HttpResponse::Ok().json(answer)),
        Format::Csv => {
            let body = consolidation_csv(language, &answer).map_err(ApiError::from)?;
            Ok(HttpResponse::Ok()
                .content_type("text/csv; charset=utf-8")
                .insert_header((
                    actix_web::http::header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{stem}.csv\""),
                ))
                .body(body))
        }
        Format::Xlsx => {
            let zone = state.settings.time_zone;
            let book = consolidation_workbook(language, &answer, &plan, now.with_timezone(&zone))
                .map_err(export::xlsx_error)?;
            Ok(export::xlsx(&format!("{stem}.xlsx"), book))
        }
    }
}

const FIGURE_COLUMNS: &[Column] = &[
    column("STT", "No.", 6.0),
    column("Chỉ tiêu", "Figure", 40.0),
    column("Mã trường", "Field", 16.0),
    column("Cách tính", "Aggregate", 12.0),
    column("Giá trị", "Value", 14.0),
    column("Số đơn vị có số liệu", "Units with a value", 12.0),
];

const TEXT_COLUMNS: &[Column] = &[
    column("Chỉ tiêu", "Field", 30.0),
    column("Mã đơn vị", "Unit code", 16.0),
    column("Đơn vị", "Unit", 30.0),
    column("Nội dung", "Answer", 60.0),
];

const MISSING_COLUMNS: &[Column] = &[
    column("STT", "No.", 6.0),
    column("Mã đơn vị", "Unit code", 16.0),
    column("Đơn vị", "Unit", 36.0),
    column("Tình trạng", "Status", 20.0),
];

/// The CSV of a consolidation: one table, the first column naming the part (figures, texts, missing units).
const CSV_COLUMNS: &[Column] = &[
    column("Phần", "Part", 0.0),
    column("Chỉ tiêu", "Field title", 0.0),
    column("Mã trường", "Field", 0.0),
    column("Cách tính", "Aggregate", 0.0),
    column("Giá trị", "Value", 0.0),
    column("Số đơn vị có số liệu", "Units with a value", 0.0),
    column("Mã đơn vị", "Unit code", 0.0),
    column("Đơn vị", "Unit", 0.0),
    column("Nội dung hoặc tình trạng", "Answer or status", 0.0),
];

type Rows = Vec<Vec<Cell>>;

/// The rows of the three parts of a consolidation: figures, texts, missing units.
fn consolidation_sheets(language: &str, answer: &Consolidation) -> (Rows, Rows, Rows) {
    let en = language == "en";
    let title =
        |name: &str, given: &Option<String>| given.clone().unwrap_or_else(|| name.to_owned());
    let figures = answer
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            vec![
                Cell::Number((i + 1) as f64),
                Cell::text(title(&f.field, &f.title)),
                Cell::text(&f.field),
                Cell::text(export::aggregate_words(en, f.aggregate)),
                f.value.map_or(Cell::Empty, Cell::Number),
                Cell::Number(f.units as f64),
            ]
        })
        .collect();
    let texts = answer
        .texts
        .iter()
        .flat_map(|t| {
            t.answers.iter().map(|a| {
                vec![
                    Cell::text(title(&t.field, &t.title)),
                    Cell::text(&a.unit),
                    Cell::text(&a.unit_name),
                    Cell::text(super::submissions::payload_words(&a.value)),
                ]
            })
        })
        .collect();
    let missing = answer
        .missing
        .iter()
        .enumerate()
        .map(|(i, m)| {
            vec![
                Cell::Number((i + 1) as f64),
                Cell::text(&m.unit),
                Cell::text(&m.unit_name),
                Cell::text(words::status_label(language, m.status.into())),
            ]
        })
        .collect();
    (figures, texts, missing)
}

fn consolidation_csv(language: &str, answer: &Consolidation) -> service::ServiceResult<Vec<u8>> {
    let en = language == "en";
    let (figures, texts, missing) = consolidation_sheets(language, answer);
    let part = |vi: &str, english: &str| Cell::text(if en { english } else { vi });
    let mut rows = Vec::new();
    for f in figures {
        let mut row = vec![part("Tổng hợp", "Figures")];
        row.extend(f.into_iter().skip(1));
        row.extend([Cell::Empty, Cell::Empty, Cell::Empty]);
        rows.push(row);
    }
    for t in texts {
        let mut cells = t.into_iter();
        let mut row = vec![part("Nội dung", "Texts")];
        row.push(cells.next().unwrap_or(Cell::Empty));
        row.extend([Cell::Empty, Cell::Empty, Cell::Empty, Cell::Empty]);
        row.extend(cells);
        rows.push(row);
    }
    for m in missing {
        let mut row = vec![part("Chưa nộp", "Missing")];
        row.extend([
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
        ]);
        row.extend(m.into_iter().skip(1));
        rows.push(row);
    }
    let mut body = "\u{feff}".as_bytes().to_vec();
    body.extend(export::csv_lines(language, CSV_COLUMNS, &rows, true)?);
    Ok(body)
}

/// The workbook of a consolidation: the figures (with the coverage and the moment), the texts per unit, the
/// units not counted.
fn consolidation_workbook(
    language: &str,
    answer: &Consolidation,
    plan: &str,
    at: chrono::DateTime<chrono_tz::Tz>,
) -> export::Xlsx<Vec<u8>> {
    let en = language == "en";
    let period = answer
        .period
        .parse::<crate::domain::Period>()
        .map(|p| words::period_words(language, &p, None))
        .unwrap_or_else(|_| answer.period.clone());
    let title = if en {
        format!(
            "Consolidated report — {} — plan {plan} — {period}",
            answer.obligation
        )
    } else {
        format!(
            "Tổng hợp báo cáo — {} — Kế hoạch số {plan} — {period}",
            answer.obligation
        )
    };
    let not_counted = answer.units_expected - answer.units_included;
    let lines = if en {
        vec![
            format!(
                "Consolidated from {}/{} units that reported; the {not_counted} not counted are on the sheet \"Missing\"; {} exempt.",
                answer.units_included, answer.units_expected, answer.waived
            ),
            format!("As of {}", at.format("%H:%M, %-d %B %Y")),
        ]
    } else {
        vec![
            format!(
                "Tổng hợp từ {}/{} đơn vị đã nộp; {not_counted} đơn vị chưa nộp (hoặc bị trả lại) liệt kê ở trang \"Chưa nộp\"; {} đơn vị được miễn.",
                answer.units_included, answer.units_expected, answer.waived
            ),
            format!(
                "Số liệu tính đến {} giờ {}, {}",
                at.format("%H"),
                at.format("%M"),
                words::date_words(language, at.date_naive())
            ),
        ]
    };
    let (figures, texts, missing) = consolidation_sheets(language, answer);
    let pick = |vi: &'static str, english: &'static str| if en { english } else { vi };
    let mut book = rust_xlsxwriter::Workbook::new();
    export::add_sheet(
        &mut book,
        language,
        &export::Sheet {
            name: pick("Tổng hợp", "Figures"),
            title: &title,
            lines: &lines,
            columns: FIGURE_COLUMNS,
            rows: &figures,
        },
    )?;
    export::add_sheet(
        &mut book,
        language,
        &export::Sheet {
            name: pick("Nội dung", "Texts"),
            title: &title,
            lines: &[],
            columns: TEXT_COLUMNS,
            rows: &texts,
        },
    )?;
    export::add_sheet(
        &mut book,
        language,
        &export::Sheet {
            name: pick("Chưa nộp", "Missing"),
            title: &title,
            lines: &[],
            columns: MISSING_COLUMNS,
            rows: &missing,
        },
    )?;
    book.save_to_buffer()
}
