//! `/api/v1/compliance`: who reported, for which periods, on time or not, with the rates; JSON or CSV.

use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::Utc;
use rust_xlsxwriter::{Color, Format as Style, FormatAlign, FormatBorder, Workbook};

use super::auth::Authenticated;
use super::export::{self, excel_date, excel_instant, Export, Format, Xlsx};
use super::extract::Query;
use super::problem::{ApiError, Problem};
use super::AppState;
use crate::domain::CellStatus;
use crate::mail::words::{self, status_label};
use crate::service::compliance::{Cell, Compliance, ComplianceQuery, ComplianceRow, Question};
use crate::service::{self, PageParams};

/// Who reported, per unit and period, as things stand now or stood at `as_of`; the totals and DHIS2's rates
/// per period and overall (docs/compliance.md). `format=csv` (or `Accept: text/csv`) streams every row of the
/// selection as CSV (UTF-8 with BOM), one line per unit, obligation and period; `format=xlsx` gives a workbook:
/// the matrix with labelled, coloured cells and a totals row, and a sheet of the details with real dates.
#[utoipa::path(
    tag = "compliance",
    params(ComplianceQuery, PageParams, Export),
    responses(
        (status = 200, body = Compliance, content(
            (Compliance = "application/json"),
            (String = "text/csv"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
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
    let file = format != Format::Json;
    let question = state
        .run(move |conn| {
            let mut q = service::compliance::question(conn, &actor, now, zone, &query, &page)?;
            if file {
                // A file holds the whole selection: pages of the largest size, one after the other.
                q.limit = service::MAX_LIMIT;
                q.after = None;
            }
            Ok(q)
        })
        .await?;
    let stamp = question
        .filter
        .as_of
        .0
        .with_timezone(&zone)
        .format("%Y%m%d-%H%M")
        .to_string();
    match format {
        Format::Json => {
            let answer = state
                .run(move |conn| service::compliance::compliance(conn, &question))
                .await?;
            Ok(HttpResponse::Ok().json(answer))
        }
        Format::Xlsx => {
            let (answer, plan) = state
                .run(move |conn| {
                    let plan = service::compliance::plan_of(conn, &question)?;
                    Ok((service::compliance::all(conn, question)?, plan))
                })
                .await?;
            let workbook =
                workbook(language, &answer, plan.as_deref(), zone).map_err(export::xlsx_error)?;
            Ok(export::xlsx(
                &format!("tinh-hinh-bao-cao-{stamp}.xlsx"),
                workbook,
            ))
        }
        Format::Csv => Ok(csv(
            &state,
            &format!("tinh-hinh-bao-cao-{stamp}.csv"),
            language,
            question,
        )),
    }
}

/// The whole selection as CSV, one line per expected cell, page after page.
pub(crate) fn csv(
    state: &AppState,
    name: &str,
    language: &'static str,
    question: Question,
) -> HttpResponse {
    export::stream_csv(state, name, move |conn, send| {
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
                    out.write_record(
                        cell_row(language, row, cell)
                            .iter()
                            .map(|v| export::csv_safe(v)),
                    )
                    .map_err(csv_error)?;
                }
            }
            if !send(out.into_inner().map_err(|e| csv_error(e.into_error()))?) {
                return Ok(());
            }
            match page.next_cursor {
                Some(cursor) => question.after = service::compliance::position(&cursor),
                None => return Ok(()),
            }
        }
    })
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

fn cell_row(language: &str, row: &ComplianceRow, cell: &Cell) -> Vec<String> {
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

/// What a matrix cell says: its status, and how late ("Nộp muộn 3 ngày", "Quá hạn 5 ngày").
fn cell_text(language: &str, cell: &Cell) -> String {
    let label = status_label(language, cell.status);
    match (cell.status, cell.days_late) {
        (CellStatus::Late | CellStatus::Overdue, Some(days)) if language == "en" => {
            format!("{label}, {days} day(s)")
        }
        (CellStatus::Late | CellStatus::Overdue, Some(days)) => format!("{label} {days} ngày"),
        _ => label.to_owned(),
    }
}

/// The light background of a status (dark text on it, and never colour alone: the label is in the cell).
fn status_color(status: CellStatus) -> Option<Color> {
    match status {
        CellStatus::Overdue => Some(Color::RGB(0xF9D6D5)),
        CellStatus::Late => Some(Color::RGB(0xFCE8C3)),
        CellStatus::Returned => Some(Color::RGB(0xE6DDF3)),
        CellStatus::Open | CellStatus::Extended => Some(Color::RGB(0xECECEC)),
        CellStatus::OnTime | CellStatus::Waived | CellStatus::NotExpected => None,
    }
}

/// The title of a workbook: "Tình hình gửi báo cáo — Kế hoạch số 269/KH-UBND — từ năm 2022 đến năm 2025".
fn title(language: &str, answer: &Compliance, plan: Option<&str>) -> String {
    let en = language == "en";
    let period = |p: &String| {
        p.parse::<crate::domain::Period>()
            .map(|p| words::period_words(language, &p, None))
            .unwrap_or_else(|_| p.clone())
    };
    let mut parts = vec![if en {
        "Reporting status".to_owned()
    } else {
        "Tình hình gửi báo cáo".to_owned()
    }];
    if let Some(plan) = plan {
        parts.push(if en {
            format!("Plan {plan}")
        } else {
            format!("Kế hoạch số {plan}")
        });
    }
    match (answer.periods.first(), answer.periods.last()) {
        (Some(first), Some(last)) if first == last => parts.push(period(first)),
        (Some(first), Some(last)) if en => {
            parts.push(format!("{} to {}", period(first), period(last)))
        }
        (Some(first), Some(last)) => {
            parts.push(format!("từ {} đến {}", period(first), period(last)))
        }
        _ => {}
    }
    parts.join(" — ")
}

/// The styles of a workbook.
struct Styles {
    title: Style,
    header: Style,
    plain: Style,
    number: Style,
    percent: Style,
    bold: Style,
    date: Style,
    instant: Style,
}

impl Styles {
    fn new() -> Self {
        let plain = Style::new().set_border(FormatBorder::Thin);
        Self {
            title: Style::new().set_bold().set_font_size(14),
            header: Style::new()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_background_color(Color::RGB(0xDDE4EE))
                .set_border(FormatBorder::Thin),
            number: plain.clone().set_align(FormatAlign::Right),
            percent: plain.clone().set_num_format("0.0%"),
            bold: plain.clone().set_bold(),
            date: plain.clone().set_num_format("dd/mm/yyyy"),
            instant: plain.clone().set_num_format("dd/mm/yyyy hh:mm"),
            plain,
        }
    }

    fn status(&self, status: CellStatus) -> Style {
        match status_color(status) {
            Some(color) => self.plain.clone().set_background_color(color),
            None => self.plain.clone(),
        }
    }
}

/// Writes expected, received, on time and the two rates from column `col` of `row`.
fn write_rates(
    sheet: &mut rust_xlsxwriter::Worksheet,
    styles: &Styles,
    row: u32,
    col: u16,
    totals: &service::compliance::Rates,
    style: &Style,
) -> Xlsx<()> {
    let mut c = col;
    for n in [totals.expected, totals.received, totals.on_time] {
        sheet.write_number_with_format(row, c, n as f64, style)?;
        c += 1;
    }
    for rate in [totals.reporting_rate, totals.on_time_rate] {
        match rate {
            Some(r) => sheet.write_number_with_format(row, c, r, &styles.percent)?,
            // Nothing expected: "–", never 0 % or 100 %.
            None => sheet.write_string_with_format(row, c, "–", &styles.number)?,
        };
        c += 1;
    }
    Ok(())
}

/// The workbook of a compliance answer: sheet 1 the matrix (units × periods, each cell labelled and coloured,
/// the row's counts and rates, a totals row), sheet 2 one line per expected cell with real Excel dates.
pub(crate) fn workbook(
    language: &str,
    answer: &Compliance,
    plan: Option<&str>,
    zone: chrono_tz::Tz,
) -> Xlsx<Vec<u8>> {
    let en = language == "en";
    let pick = |vi: &'static str, english: &'static str| if en { english } else { vi };
    let styles = Styles::new();
    let mut book = Workbook::new();
    let as_of = answer.as_of.with_timezone(&zone);
    let as_of_words = if en {
        format!("As of {}", as_of.format("%H:%M, %-d %B %Y"))
    } else {
        format!(
            "Số liệu tính đến {} giờ {}, {}",
            as_of.format("%H"),
            as_of.format("%M"),
            words::date_words(language, as_of.date_naive())
        )
    };

    let sheet = book.add_worksheet();
    sheet.set_name(pick("Tình hình", "Status"))?;
    sheet.write_string_with_format(0, 0, title(language, answer, plan), &styles.title)?;
    sheet.write_string(1, 0, &as_of_words)?;
    let head_row = 3;
    let fixed = [
        (pick("STT", "No."), 5.0),
        (pick("Mã đơn vị", "Unit code"), 16.0),
        (pick("Đơn vị", "Unit"), 32.0),
        (pick("Nghĩa vụ báo cáo", "Obligation"), 36.0),
    ];
    let mut col: u16 = 0;
    for (name, width) in fixed {
        sheet.write_string_with_format(head_row, col, name, &styles.header)?;
        sheet.set_column_width(col, width)?;
        col += 1;
    }
    let first_period = col;
    for period in &answer.periods {
        sheet.write_string_with_format(head_row, col, period, &styles.header)?;
        sheet.set_column_width(col, 18.0)?;
        col += 1;
    }
    let first_count = col;
    for name in [
        pick("Phải nộp", "Expected"),
        pick("Đã nộp", "Submitted"),
        pick("Nộp đúng hạn", "On time"),
        pick("Tỷ lệ nộp", "Reporting rate"),
        pick("Tỷ lệ đúng hạn", "On-time rate"),
    ] {
        sheet.write_string_with_format(head_row, col, name, &styles.header)?;
        sheet.set_column_width(col, 12.0)?;
        col += 1;
    }
    sheet.set_freeze_panes(head_row + 1, first_period)?;
    let mut r = head_row + 1;
    for (i, item) in answer.items.iter().enumerate() {
        sheet.write_number_with_format(r, 0, (i + 1) as f64, &styles.number)?;
        sheet.write_string_with_format(r, 1, &item.unit, &styles.plain)?;
        sheet.write_string_with_format(r, 2, &item.unit_name, &styles.plain)?;
        sheet.write_string_with_format(r, 3, &item.obligation, &styles.plain)?;
        for (j, cell) in item.cells.iter().enumerate() {
            let text = match cell.status {
                CellStatus::NotExpected => "–".to_owned(),
                _ => cell_text(language, cell),
            };
            sheet.write_string_with_format(
                r,
                first_period + j as u16,
                &text,
                &styles.status(cell.status),
            )?;
        }
        write_rates(sheet, &styles, r, first_count, &item.totals, &styles.number)?;
        r += 1;
    }
    // The totals row: per period "received/expected", then the overall counts and rates.
    sheet.write_string_with_format(r, 2, pick("Tổng cộng", "Total"), &styles.bold)?;
    for (j, period) in answer.totals.per_period.iter().enumerate() {
        sheet.write_string_with_format(
            r,
            first_period + j as u16,
            format!("{}/{}", period.rates.received, period.rates.expected),
            &styles.bold,
        )?;
    }
    write_rates(
        sheet,
        &styles,
        r,
        first_count,
        &answer.totals.overall,
        &styles.bold,
    )?;

    let details = book.add_worksheet();
    details.set_name(pick("Chi tiết", "Details"))?;
    for (c, (name, width)) in [
        (pick("Mã đơn vị", "Unit code"), 16.0),
        (pick("Đơn vị", "Unit"), 32.0),
        (pick("Nghĩa vụ báo cáo", "Obligation"), 36.0),
        (pick("Kỳ báo cáo", "Period"), 10.0),
        (pick("Trạng thái", "Status"), 24.0),
        (pick("Hạn nộp", "Last day"), 12.0),
        (pick("Thời điểm nhận", "Received at"), 17.0),
        (pick("Số ngày muộn", "Days late"), 10.0),
        (pick("Phiên bản", "Version"), 9.0),
    ]
    .into_iter()
    .enumerate()
    {
        details.write_string_with_format(0, c as u16, name, &styles.header)?;
        details.set_column_width(c as u16, width)?;
    }
    details.set_freeze_panes(1, 0)?;
    let mut r = 1;
    for item in &answer.items {
        for cell in item
            .cells
            .iter()
            .filter(|c| c.status != CellStatus::NotExpected)
        {
            details.write_string_with_format(r, 0, &item.unit, &styles.plain)?;
            details.write_string_with_format(r, 1, &item.unit_name, &styles.plain)?;
            details.write_string_with_format(r, 2, &item.obligation, &styles.plain)?;
            details.write_string_with_format(r, 3, &cell.period, &styles.plain)?;
            details.write_string_with_format(
                r,
                4,
                status_label(language, cell.status),
                &styles.status(cell.status),
            )?;
            match cell.last_day {
                Some(d) => details.write_date_with_format(r, 5, &excel_date(d)?, &styles.date)?,
                None => details.write_blank(r, 5, &styles.plain)?,
            };
            match cell.received_at {
                Some(t) => {
                    details.write_datetime_with_format(r, 6, &excel_instant(t)?, &styles.instant)?
                }
                None => details.write_blank(r, 6, &styles.plain)?,
            };
            match cell.days_late {
                Some(d) => details.write_number_with_format(r, 7, d as f64, &styles.number)?,
                None => details.write_blank(r, 7, &styles.plain)?,
            };
            match cell.version {
                Some(v) => details.write_number_with_format(r, 8, f64::from(v), &styles.number)?,
                None => details.write_blank(r, 8, &styles.plain)?,
            };
            r += 1;
        }
    }
    book.save_to_buffer()
}
