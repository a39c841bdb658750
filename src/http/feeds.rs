//! Calendar feeds (`…/deadlines.ics`): a unit's or an obligation's deadlines as iCalendar events (RFC 5545) that
//! Outlook, Google Calendar, Thunderbird or a phone subscribe to. Calendar apps cannot send headers, so a feed
//! also takes a feed token in its address (`?token=`, see [`FeedReader`]).
//!
//! Each deadline is one all-day event on its last day, with a stable UID (`deadline-<id>@<host>`) and a SEQUENCE
//! that grows each time the last day moves, so that apps replace the event rather than add one. Submitted,
//! late, returned and overdue deadlines say so in their summary; a waived one is CANCELLED; an open one carries
//! an alarm at each moment its reminder email is sent.

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::{Duration, Utc};
use icalendar::{Alarm, Calendar, Component, EventLike, EventStatus, Property};
use serde::Deserialize;

use super::auth::FeedReader;
use super::export::Export;
use super::extract::Query;
use super::problem::{ApiError, Problem};
use super::AppState;
use crate::domain::{CellStatus, DeadlineStatus};
use crate::mail::words::{self, status_label};
use crate::service::feeds::{Feed, FeedEvent, FeedOf};
use crate::service::{self};

/// Query of a calendar feed.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// A feed token (kind `feed`), for calendar apps that cannot send an Authorization header. Other tokens go
    /// in the header only.
    pub token: Option<String>,
    /// Language of the events' words: `vi` (default) or `en` (also from `Accept-Language`).
    pub lang: Option<String>,
}

/// A unit's deadlines as a calendar: from a year back on, every obligation the caller may see.
#[utoipa::path(
    tag = "deadlines",
    params(("code" = String, Path, description = "the unit's code"), FeedQuery),
    responses(
        (status = 200, body = String, content_type = "text/calendar"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)
    ),
    security(("bearer" = []), ("feed_token" = []))
)]
#[get("/units/{code}/deadlines.ics")]
pub async fn unit(
    req: HttpRequest,
    state: web::Data<AppState>,
    FeedReader(actor): FeedReader,
    code: web::Path<String>,
    Query(query): Query<FeedQuery>,
) -> Result<HttpResponse, ApiError> {
    let (now, hours) = (Utc::now(), state.settings.office_hours());
    let code = code.into_inner();
    let file = format!("han-bao-cao-{}.ics", file_safe(&code));
    let feed = state
        .run(move |conn| service::feeds::unit(conn, &actor, &code, now, hours))
        .await?;
    Ok(answer(&feed, language(&req, query), &file))
}

/// An obligation's deadlines as a calendar, for each unit the caller may see (an office following its
/// districts); from a year back on, at most 10,000 events.
#[utoipa::path(
    tag = "obligations",
    params(("id" = i64, Path, description = "the obligation's id"), FeedQuery),
    responses(
        (status = 200, body = String, content_type = "text/calendar"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)
    ),
    security(("bearer" = []), ("feed_token" = []))
)]
#[get("/obligations/{id}/deadlines.ics")]
pub async fn obligation(
    req: HttpRequest,
    state: web::Data<AppState>,
    FeedReader(actor): FeedReader,
    id: web::Path<i64>,
    Query(query): Query<FeedQuery>,
) -> Result<HttpResponse, ApiError> {
    let (now, hours) = (Utc::now(), state.settings.office_hours());
    let id = id.into_inner();
    let feed = state
        .run(move |conn| service::feeds::obligation(conn, &actor, id, now, hours))
        .await?;
    Ok(answer(
        &feed,
        language(&req, query),
        &format!("han-bao-cao-nghia-vu-{id}.ics"),
    ))
}

fn language(req: &HttpRequest, query: FeedQuery) -> &'static str {
    Export {
        format: None,
        lang: query.lang,
    }
    .language(req)
}

/// A unit code as part of a file name: letters, digits and dashes.
fn file_safe(code: &str) -> String {
    code.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

fn answer(feed: &Feed, language: &str, file: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"{file}\""),
        ))
        // A subscription is polled; a stale copy for a few minutes is fine, a shared cache holding it is not.
        .insert_header((header::CACHE_CONTROL, "private, max-age=300"))
        .body(calendar(feed, language).to_string())
}

/// The host part of the events' UIDs: the service's own address when it has one.
fn uid_host() -> String {
    crate::mail::public_url()
        .and_then(|url| {
            url.split("://")
                .nth(1)
                .map(|rest| rest.split(['/', ':']).next().unwrap_or("").to_owned())
        })
        .filter(|host| !host.is_empty())
        .unwrap_or_else(|| "hanbao".to_owned())
}

/// The feed as a calendar in `language`. Each event is stamped with its deadline's last change (DTSTAMP and
/// LAST-MODIFIED; no METHOD, so RFC 5545 reads DTSTAMP as the last revision): the same data gives the same file.
pub fn calendar(feed: &Feed, language: &str) -> Calendar {
    let en = language == "en";
    let name = if en {
        format!("Reporting deadlines — {}", feed.name)
    } else {
        format!("Hạn báo cáo — {}", feed.name)
    };
    let mut calendar = Calendar::empty();
    calendar
        .append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new("PRODID", "-//hanbao//Han bao cao//VI"))
        .append_property(Property::new("CALSCALE", "GREGORIAN"))
        .name(&name)
        .ttl(&Duration::hours(1));
    let host = uid_host();
    for event in &feed.events {
        calendar.push(vevent(feed.of, event, en, &host));
    }
    calendar.done()
}

fn vevent(of: FeedOf, e: &FeedEvent, en: bool, host: &str) -> icalendar::Event {
    let language = if en { "en" } else { "vi" };
    let period = words::period_words(language, &e.period, e.event_name.as_deref());
    let mut cell = CellStatus::from(e.status);
    if e.extended && e.status == DeadlineStatus::Open {
        cell = CellStatus::Extended;
    }
    // The state in brackets, for every deadline that is no longer simply "coming".
    let mark = match e.status {
        DeadlineStatus::Open if !e.extended => String::new(),
        _ => format!("[{}] ", status_label(language, cell)),
    };
    let whose = match of {
        FeedOf::Unit => String::new(),
        FeedOf::Obligation => format!("{}: ", e.unit_name),
    };
    let summary = format!("{mark}{whose}{} — {period}", e.obligation);
    let due = words::instant_words(language, e.due_at.with_timezone(&Utc), e.time_zone);
    let mut description = Vec::new();
    description.push(if en {
        format!(
            "Report: {} — {period}, plan {}, to {}.",
            e.obligation, e.plan_number, e.recipient
        )
    } else {
        format!(
            "Báo cáo: {} — {period}, theo Kế hoạch số {}, gửi {}.",
            e.obligation, e.plan_number, e.recipient
        )
    });
    if let Some(wording) = &e.wording {
        description.push(if en {
            format!("The plan says: “{wording}”")
        } else {
            format!("Kế hoạch quy định: “{wording}”")
        });
    }
    description.push(if en {
        format!(
            "Last day: {}; a report is late from {due}.",
            words::date_words(language, e.last_day)
        )
    } else {
        format!(
            "Hạn cuối: {}; báo cáo gửi từ {due} là nộp muộn.",
            words::date_words(language, e.last_day)
        )
    });
    description.push(format!(
        "{}: {}",
        if en { "Status" } else { "Tình trạng" },
        status_label(language, cell)
    ));
    let page = crate::mail::public_url().map(|base| format!("{base}/deadlines/{}", e.deadline_id));
    if let Some(page) = &page {
        description.push(page.clone());
    }
    let mut event = icalendar::Event::new();
    event
        .uid(&format!("deadline-{}@{host}", e.deadline_id))
        .sequence(u32::try_from(e.revision).unwrap_or(0))
        .timestamp(e.updated_at)
        .last_modified(e.updated_at)
        .starts(e.last_day)
        .ends(e.last_day.succ_opt().unwrap_or(e.last_day))
        .summary(&summary)
        .description(&description.join("\n"))
        .status(if e.status == DeadlineStatus::Waived {
            EventStatus::Cancelled
        } else {
            EventStatus::Confirmed
        })
        .append_property(Property::new("TRANSP", "TRANSPARENT"));
    if let Some(page) = &page {
        event.url(page);
    }
    let text = if en {
        format!("Reminder: {} — {period}", e.obligation)
    } else {
        format!("Nhắc hạn: {} — {period}", e.obligation)
    };
    for (i, at) in e.reminders.iter().enumerate() {
        // Stable, like the event's: the same feed twice is the same file.
        let mut alarm = Alarm::display(&text, *at);
        alarm
            .uid(&format!(
                "deadline-{}-reminder-{}@{host}",
                e.deadline_id,
                i + 1
            ))
            .timestamp(e.updated_at);
        event.alarm(alarm);
    }
    event.done()
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;
    use crate::domain::Period;

    fn event(id: i64, status: DeadlineStatus, reminders: usize) -> FeedEvent {
        let tz: chrono_tz::Tz = "Asia/Ho_Chi_Minh".parse().unwrap();
        let last_day = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        FeedEvent {
            deadline_id: id,
            unit_name: "UBND phường Ba Đình".into(),
            obligation: "Báo cáo kết quả thực hiện Kế hoạch".into(),
            wording: Some("Trước ngày 01/12 hàng năm, báo cáo kết quả; dòng rất dài để thấy dòng được gấp theo RFC 5545".into()),
            plan_number: "269/KH-UBND".into(),
            recipient: "Sở Nội vụ".into(),
            period: Period::Year(2026),
            event_name: None,
            last_day,
            due_at: tz.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap().fixed_offset(),
            time_zone: tz,
            status,
            extended: false,
            revision: 2,
            updated_at: Utc.with_ymd_and_hms(2026, 11, 2, 3, 4, 5).unwrap(),
            reminders: (0..reminders)
                .map(|i| Utc.with_ymd_and_hms(2026, 11, 23 + 3 * i as u32, 1, 0, 0).unwrap())
                .collect(),
        }
    }

    /// The file a calendar app reads, whole: read when it changes (`cargo insta review`).
    #[test]
    fn a_feed_as_calendar_apps_read_it() {
        let feed = Feed {
            of: FeedOf::Obligation,
            name: "Báo cáo kết quả thực hiện Kế hoạch".into(),
            events: vec![
                event(7, DeadlineStatus::Open, 2),
                event(8, DeadlineStatus::Waived, 0),
                event(9, DeadlineStatus::Late, 0),
            ],
        };
        let text = calendar(&feed, "vi").to_string();
        // Lines end in CRLF and none is longer than 75 octets (RFC 5545 §3.1).
        assert!(text.ends_with("END:VCALENDAR\r\n"));
        assert!(text.split("\r\n").all(|line| line.len() <= 75), "{text}");
        // The same feed gives the same file: nothing random, nothing of the clock.
        assert_eq!(text, calendar(&feed, "vi").to_string());
        insta::assert_snapshot!(text.replace("\r\n", "\n"));
    }
}
