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

/// How a figure of a consolidated report is summed up: "Tổng" / "Sum".
pub fn aggregate_words(en: bool, a: crate::service::consolidation::Aggregate) -> &'static str {
    use crate::service::consolidation::Aggregate;
    match (a, en) {
        (Aggregate::Sum, false) => "Tổng",
        (Aggregate::Avg, false) => "Trung bình",
        (Aggregate::Min, false) => "Nhỏ nhất",
        (Aggregate::Max, false) => "Lớn nhất",
        (Aggregate::Count, false) => "Số đơn vị",
        (Aggregate::Sum, true) => "Sum",
        (Aggregate::Avg, true) => "Average",
        (Aggregate::Min, true) => "Minimum",
        (Aggregate::Max, true) => "Maximum",
        (Aggregate::Count, true) => "Count",
    }
}

/// One cell of an exported table: CSV writes it as text, XLSX as the matching Excel type.
#[derive(Debug, Clone)]
pub enum Cell {
    Text(String),
    Number(f64),
    Date(chrono::NaiveDate),
    /// An instant with the offset to show it in.
    Instant(chrono::DateTime<chrono::FixedOffset>),
    Empty,
}

impl Cell {
    pub fn text(value: impl Into<String>) -> Self {
        Cell::Text(value.into())
    }

    pub fn optional_text(value: Option<impl Into<String>>) -> Self {
        value.map_or(Cell::Empty, |v| Cell::Text(v.into()))
    }

    /// As CSV writes it: dates `YYYY-MM-DD`, instants RFC 3339, numbers without trailing zeros, text made
    /// inert for spreadsheets ([`csv_safe`]).
    fn csv(&self) -> String {
        match self {
            Cell::Text(t) => csv_safe(t),
            Cell::Number(n) => n.to_string(),
            Cell::Date(d) => d.to_string(),
            Cell::Instant(t) => t.to_rfc3339(),
            Cell::Empty => String::new(),
        }
    }
}

/// Text as a CSV field a spreadsheet will not run: a value starting with `=`, `+`, `-`, `@`, a tab or a carriage
/// return (a formula to Excel: `=HYPERLINK(…)` typed into a report) gets a leading apostrophe (OWASP's advice).
pub fn csv_safe(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// The most characters Excel keeps in a cell; longer text is cut, with "…".
const EXCEL_CELL_CHARS: usize = 32_767;

fn excel_text(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().count() <= EXCEL_CELL_CHARS {
        std::borrow::Cow::Borrowed(text)
    } else {
        let cut: String = text.chars().take(EXCEL_CELL_CHARS - 1).collect();
        std::borrow::Cow::Owned(cut + "…")
    }
}

/// A column of an exported table: its heading in Vietnamese and English, and its width in Excel.
pub struct Column {
    pub vi: &'static str,
    pub en: &'static str,
    pub width: f64,
}

pub const fn column(vi: &'static str, en: &'static str, width: f64) -> Column {
    Column { vi, en, width }
}

fn heading(language: &str, column: &Column) -> &'static str {
    if language == "en" {
        column.en
    } else {
        column.vi
    }
}

/// The CSV lines of `rows` (with the header line first when `header`).
pub fn csv_lines(
    language: &str,
    columns: &[Column],
    rows: &[Vec<Cell>],
    header: bool,
) -> service::ServiceResult<Vec<u8>> {
    let failed =
        |e: &dyn std::fmt::Display| service::ServiceError::Task(format!("writing CSV: {e}"));
    let mut out = csv::Writer::from_writer(Vec::new());
    if header {
        out.write_record(columns.iter().map(|c| heading(language, c)))
            .map_err(|e| failed(&e))?;
    }
    for row in rows {
        out.write_record(row.iter().map(Cell::csv))
            .map_err(|e| failed(&e))?;
    }
    out.into_inner().map_err(|e| failed(&e.into_error()))
}

pub type Xlsx<T> = Result<T, rust_xlsxwriter::XlsxError>;

pub fn excel_date(date: chrono::NaiveDate) -> Xlsx<rust_xlsxwriter::ExcelDateTime> {
    use chrono::Datelike;
    rust_xlsxwriter::ExcelDateTime::from_ymd(
        u16::try_from(date.year()).unwrap_or(1900),
        date.month() as u8,
        date.day() as u8,
    )
}

pub fn excel_instant(
    at: chrono::DateTime<chrono::FixedOffset>,
) -> Xlsx<rust_xlsxwriter::ExcelDateTime> {
    use chrono::Timelike;
    excel_date(at.date_naive())?.and_hms(at.hour() as u16, at.minute() as u8, at.second())
}

/// A worksheet of a table: a title, lines under it (e.g. "as of"), a frozen header, the rows.
pub struct Sheet<'a> {
    pub name: &'a str,
    pub title: &'a str,
    pub lines: &'a [String],
    pub columns: &'a [Column],
    pub rows: &'a [Vec<Cell>],
}

/// Adds `sheet` to `book`: bold title, a coloured header row frozen in place, column widths, real dates.
pub fn add_sheet(
    book: &mut rust_xlsxwriter::Workbook,
    language: &str,
    sheet: &Sheet<'_>,
) -> Xlsx<()> {
    use rust_xlsxwriter::{Color, Format as Style, FormatAlign, FormatBorder};
    let plain = Style::new().set_border(FormatBorder::Thin).set_text_wrap();
    let header = Style::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_background_color(Color::RGB(0xDDE4EE))
        .set_border(FormatBorder::Thin);
    let date = plain.clone().set_num_format("dd/mm/yyyy");
    let instant = plain.clone().set_num_format("dd/mm/yyyy hh:mm");
    let number = plain.clone().set_align(FormatAlign::Right);
    let ws = book.add_worksheet();
    ws.set_name(sheet.name)?;
    ws.write_string_with_format(
        0,
        0,
        sheet.title,
        &Style::new().set_bold().set_font_size(14),
    )?;
    let mut r: u32 = 1;
    for line in sheet.lines {
        ws.write_string(r, 0, line)?;
        r += 1;
    }
    let head_row = r + 1;
    for (c, column) in sheet.columns.iter().enumerate() {
        let c = u16::try_from(c).unwrap_or(u16::MAX);
        ws.write_string_with_format(head_row, c, heading(language, column), &header)?;
        ws.set_column_width(c, column.width)?;
    }
    ws.set_freeze_panes(head_row + 1, 0)?;
    for (i, row) in sheet.rows.iter().enumerate() {
        let r = head_row + 1 + u32::try_from(i).unwrap_or(u32::MAX - head_row - 1);
        for (c, cell) in row.iter().enumerate() {
            let c = u16::try_from(c).unwrap_or(u16::MAX);
            match cell {
                Cell::Text(t) => ws.write_string_with_format(r, c, excel_text(t), &plain)?,
                Cell::Number(n) => ws.write_number_with_format(r, c, *n, &number)?,
                Cell::Date(d) => ws.write_date_with_format(r, c, &excel_date(*d)?, &date)?,
                Cell::Instant(t) => {
                    ws.write_datetime_with_format(r, c, &excel_instant(*t)?, &instant)?
                }
                Cell::Empty => ws.write_blank(r, c, &plain)?,
            };
        }
    }
    Ok(())
}

/// Reads every page of a list through `page` (at most [`service::MAX_LIMIT`] items each, after a cursor),
/// giving each page's rows to `each` until it answers false.
fn every_page<T>(
    conn: &mut crate::store::AnyConnection,
    page: &impl Fn(
        &mut crate::store::AnyConnection,
        &service::PageParams,
    ) -> service::ServiceResult<service::Page<T>>,
    mut each: impl FnMut(&[T]) -> service::ServiceResult<bool>,
) -> service::ServiceResult<()> {
    let mut params = service::PageParams {
        limit: Some(service::MAX_LIMIT),
        cursor: None,
    };
    loop {
        let answer = page(conn, &params)?;
        if !each(&answer.items)? {
            return Ok(());
        }
        match answer.next_cursor {
            Some(cursor) => params.cursor = Some(cursor),
            None => return Ok(()),
        }
    }
}

/// A list as a file: every page of it, CSV streamed page by page or an XLSX workbook of one sheet titled
/// `title`. `page` reads one page after a cursor; `row` turns an item into its cells.
#[allow(clippy::too_many_arguments)]
pub async fn list_file<T: 'static>(
    state: &AppState,
    format: Format,
    language: &'static str,
    file_stem: &str,
    title: String,
    columns: &'static [Column],
    page: impl Fn(
            &mut crate::store::AnyConnection,
            &service::PageParams,
        ) -> service::ServiceResult<service::Page<T>>
        + Send
        + Sync
        + 'static,
    row: fn(&str, &T) -> Vec<Cell>,
) -> Result<HttpResponse, ApiError> {
    let page = std::sync::Arc::new(page);
    if format == Format::Csv {
        // The first page before the status line: a bad filter or a refusal is a problem document, not an
        // empty file.
        let reader = page.clone();
        let (first, next) = state
            .run(move |conn| {
                let answer = reader(
                    conn,
                    &service::PageParams {
                        limit: Some(service::MAX_LIMIT),
                        cursor: None,
                    },
                )?;
                let rows: Vec<Vec<Cell>> = answer.items.iter().map(|i| row(language, i)).collect();
                Ok((rows, answer.next_cursor))
            })
            .await?;
        return Ok(stream_csv(
            state,
            &format!("{file_stem}.csv"),
            move |conn, send| {
                if !send(csv_lines(language, columns, &first, true)?) {
                    return Ok(());
                }
                let mut params = service::PageParams {
                    limit: Some(service::MAX_LIMIT),
                    cursor: next,
                };
                while params.cursor.is_some() {
                    let answer = page(conn, &params)?;
                    let rows: Vec<Vec<Cell>> =
                        answer.items.iter().map(|i| row(language, i)).collect();
                    if !send(csv_lines(language, columns, &rows, false)?) {
                        return Ok(());
                    }
                    params.cursor = answer.next_cursor;
                }
                Ok(())
            },
        ));
    }
    let rows = state
        .run(move |conn| {
            let mut rows = Vec::new();
            every_page(conn, &*page, |items| {
                rows.extend(items.iter().map(|i| row(language, i)));
                Ok(true)
            })?;
            Ok(rows)
        })
        .await?;
    let mut book = rust_xlsxwriter::Workbook::new();
    add_sheet(
        &mut book,
        language,
        &Sheet {
            name: if language == "en" {
                "List"
            } else {
                "Danh sách"
            },
            title: &title,
            lines: &[],
            columns,
            rows: &rows,
        },
    )
    .map_err(xlsx_error)?;
    Ok(xlsx(
        &format!("{file_stem}.xlsx"),
        book.save_to_buffer().map_err(xlsx_error)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreadsheet_formulas_in_text_stay_text() {
        for formula in [
            "=HYPERLINK(\"http://x\")",
            "+1",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\rx",
        ] {
            assert_eq!(csv_safe(formula), format!("'{formula}"));
        }
        assert_eq!(csv_safe("Tốt"), "Tốt");
        assert_eq!(Cell::text("=1+1").csv(), "'=1+1");
        // Numbers are numbers: a negative one is not touched.
        assert_eq!(Cell::Number(-3.0).csv(), "-3");
    }

    #[test]
    fn text_longer_than_a_cell_is_cut() {
        let long = "á".repeat(EXCEL_CELL_CHARS + 10);
        let cut = excel_text(&long);
        assert_eq!(cut.chars().count(), EXCEL_CELL_CHARS);
        assert!(cut.ends_with('…'));
        assert_eq!(excel_text("ngắn"), "ngắn");
    }
}
