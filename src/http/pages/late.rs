//! The late list (`../shared/UX.md` §2.3): who is overdue now, how many days, what was already sent to them
//! and when, and a "send a reminder now" button per unit (one email through the outbox, audited, at most one a
//! unit a day).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    deadline_url, failure, language, matrix_url, period_text, redirect, render, session, site_path,
    words,
};
use crate::http::AppState;
use crate::mail::words::instant_words;
use crate::service::late::Reminded;
use crate::service::{self, PageParams, Role};

#[derive(Debug, Default, Deserialize)]
pub struct LateQuery {
    #[serde(default)]
    cursor: String,
    /// What the last "send a reminder now" came to: `sent`, `already` or `no_address`, and for which deadline.
    #[serde(default)]
    done: String,
    #[serde(default)]
    deadline: String,
}

/// The late list of the signed-in office (a coordinator its plans', admins and viewers everything).
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<LateQuery>,
) -> HttpResponse {
    let Some(current) = session(&req, &state).await else {
        return redirect("/sign-in");
    };
    if current.actor.role == Role::Reporter {
        return redirect("/");
    }
    let lang = language(&req);
    let en = lang == "en";
    let query = query.into_inner();
    let (actor, zone, now) = (current.actor.clone(), state.settings.time_zone, Utc::now());
    let cursor = (!query.cursor.is_empty()).then(|| query.cursor.clone());
    let may_remind = matches!(current.actor.role, Role::Admin | Role::Coordinator);
    let listed = state
        .run(move |conn| {
            service::late::list(
                conn,
                &actor,
                now,
                zone,
                &PageParams {
                    limit: Some(100),
                    cursor,
                },
            )
        })
        .await;
    let page = match listed {
        Ok(page) => page,
        Err(e) => return failure(&req, Some(&current), e),
    };
    let notice = reminder_notice(&query.done);
    let named = page
        .items
        .iter()
        .find(|i| i.deadline_id.to_string() == query.deadline)
        .map(|i| i.unit_name.clone());
    let rows: Vec<Value> = page
        .items
        .iter()
        .map(|item| {
            let sent: Vec<String> = item
                .sent
                .iter()
                .map(|n| {
                    let what = if n.kind == "reminder" {
                        words::translate(en, "Thư nhắc hạn")
                    } else {
                        format!("{} {}", words::translate(en, "Thư đôn đốc lần"), n.step)
                    };
                    format!("{what}: {}", instant_words(lang, n.at, zone))
                })
                .collect();
            json!({
                "deadline_id": item.deadline_id,
                "unit": item.unit,
                "unit_name": item.unit_name,
                "obligation": item.obligation,
                "matrix_url": matrix_url(item.obligation_id),
                "deadline_url": deadline_url(item.deadline_id),
                "remind_url": format!("{}/remind", deadline_url(item.deadline_id)),
                "period_words": period_text(lang, &item.period),
                "last_day": item.last_day.format("%d/%m/%Y").to_string(),
                "days_late": item.days_late,
                "sent": sent,
                "reminded_today": item.reminded_today,
            })
        })
        .collect();
    let title = words::translate(en, "Đơn vị quá hạn");
    render(
        &req,
        StatusCode::OK,
        "pages/late.html",
        Some(&current),
        json!({
            "title": title,
            "rows": rows,
            "may_remind": may_remind,
            "notice": notice.map(|(kind, text)| json!({
                "kind": kind,
                "text": match &named {
                    Some(name) => format!("{name}: {}", words::translate(en, text)),
                    None => words::translate(en, text),
                },
            })),
            "next_url": page.next_cursor.map(|c| {
                let q: String = form_urlencoded::Serializer::new(String::new())
                    .append_pair("cursor", &c)
                    .finish();
                format!("/late?{q}")
            }),
            "attention": (!rows.is_empty()).then(|| format!("{} {}", rows.len(), words::translate(en, "quá hạn"))),
        }),
    )
}

/// What the last "send a reminder now" came to (`done` in the address it sent back to), in words: (the notice's
/// kind, its Vietnamese text).
pub(super) fn reminder_notice(done: &str) -> Option<(&'static str, &'static str)> {
    match done {
        "sent" => Some(("ok", "Đã gửi thư nhắc cho đơn vị; thư đi qua hàng gửi trong vài phút.")),
        "already" => Some((
            "warn",
            "Đơn vị này đã được nhắc hôm nay; mỗi đơn vị được nhắc trực tiếp tối đa một lần một ngày.",
        )),
        "no_address" => Some((
            "warn",
            "Đơn vị chưa có địa chỉ thư điện tử của người báo cáo; đề nghị bổ sung thông tin liên hệ của đơn vị.",
        )),
        "closed" => Some(("warn", "Đơn vị đã kết thúc hoạt động; không gửi thư nhắc.")),
        _ => None,
    }
}

/// "Send a reminder now" (the plan's coordinator or an admin): queues one email, then back to the page the
/// button was on, saying what happened.
pub async fn remind(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    posted: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let Some(current) = session(&req, &state).await else {
        return redirect("/sign-in");
    };
    let Some(get) = super::deadline::posted_fields(&current, posted) else {
        return super::forbidden(&req, &current);
    };
    let (actor, now, id) = (current.actor.clone(), Utc::now(), id.into_inner());
    let outcome = state
        .run(move |conn| service::late::remind_now(conn, &actor, now, id))
        .await;
    let done = match outcome {
        Ok(Reminded::Queued(_)) => "sent",
        Ok(Reminded::AlreadyToday) => "already",
        Ok(Reminded::NoAddress) => "no_address",
        Ok(Reminded::UnitClosed) => "closed",
        Err(e) => return failure(&req, Some(&current), e),
    };
    let back = site_path(&get("back"));
    let back = if back == "/" {
        "/late".to_owned()
    } else {
        back
    };
    let joiner = if back.contains('?') { '&' } else { '?' };
    redirect(&format!("{back}{joiner}done={done}&deadline={id}"))
}
