//! One unit × one period, for the office (`../shared/UX.md` §2.4): the status in a sentence, the deadline (and
//! its extension or waiver), every version with its answers labelled from the form and what changed since the
//! version before, the review (accept, or return with a comment), the office's decisions (a later last day, an
//! exemption, a reminder now), and the history of all that, with the emails the service sent.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde_json::{json, Value};

use super::form;
use super::{
    csrf_ok, css_class, failure, language, period_text, person, redirect, render, session,
    status_words, words,
};
use crate::domain::DeadlineStatus;
use crate::http::AppState;
use crate::mail::words::instant_words;
use crate::service::audit::AuditEntry;
use crate::service::late::SentNotice;
use crate::service::sessions::Current;
use crate::service::submissions::{
    ExtensionInput, ReviewDecision, ReviewInput, Submission, WaiverInput,
};
use crate::service::{self, Role};

struct Loaded {
    deadline: service::deadlines::Deadline,
    obligation: service::obligations::Brief,
    plan: String,
    unit_name: String,
    versions: Vec<Submission>,
    may_review: bool,
    history: Vec<AuditEntry>,
    sent: Vec<SentNotice>,
    /// The unit got a reminder by hand today already.
    reminded_today: bool,
}

/// What the user typed in the page's forms, kept when one of them is refused, and the refusals by field.
#[derive(Default)]
struct Entered {
    comment: String,
    last_day: String,
    extension_reason: String,
    waiver_reason: String,
    /// (field id, message), in the page's language.
    errors: Vec<(&'static str, String)>,
    /// What the last reminder sent by hand came to (`sent`, `already`, `no_address`).
    done: String,
}

async fn load(
    state: &web::Data<AppState>,
    current: &Current,
    id: i64,
) -> Result<Loaded, crate::http::problem::ApiError> {
    let (actor, now) = (current.actor.clone(), Utc::now());
    state
        .run(move |conn| {
            let deadline = service::deadlines::get(conn, &actor, now, id)?;
            let obligation = service::obligations::brief(conn, deadline.obligation_id)?;
            let plan_row = service::plans::get(conn, obligation.plan_id)?;
            let unit_name = service::units::name_by_code(conn, &deadline.unit)?;
            let versions =
                service::submissions::of_deadline(conn, &actor, now, id, &super::all())?.items;
            let may_review = service::plans::coordinated_by(conn, &actor, obligation.plan_id)?;
            let ids: Vec<i64> = versions.iter().map(|v| v.receipt.id).collect();
            let history = service::audit::of_deadline(conn, id, &ids)?;
            let notices = service::late::notices_of(conn, id, now)?;
            Ok(Loaded {
                deadline,
                obligation,
                plan: plan_row.number,
                unit_name,
                versions,
                may_review,
                history,
                sent: notices.sent,
                reminded_today: notices.reminded_today,
            })
        })
        .await
}

fn page(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    current: &Current,
    loaded: &Loaded,
    status: StatusCode,
    entered: &Entered,
) -> HttpResponse {
    let lang = language(req);
    let en = lang == "en";
    let zone = state.settings.time_zone;
    let d = &loaded.deadline;
    let fields = form::fields(loaded.obligation.form.as_ref());
    let (symbol, label) = status_words(en, d.status);
    let class = css_class(d.status);
    let latest = loaded.versions.last();
    let sentence = match (d.status, latest) {
        (DeadlineStatus::Open, _) => words::translate(en, "Đơn vị chưa nộp; chưa đến hạn."),
        (DeadlineStatus::Overdue, _) => words::translate(en, "Đã quá hạn, đơn vị chưa nộp."),
        (DeadlineStatus::Waived, _) => words::translate(en, "Đơn vị được miễn nộp kỳ này."),
        (_, Some(v)) => format!(
            "{} {} {} {}.",
            words::translate(
                en,
                match d.status {
                    DeadlineStatus::Returned => "Báo cáo đã bị trả lại để bổ sung.",
                    DeadlineStatus::Late => "Đơn vị đã nộp muộn.",
                    _ => "Đơn vị đã nộp đúng hạn.",
                }
            ),
            words::translate(en, "Phiên bản hiện hành"),
            v.receipt.version,
            match v.receipt.received_on {
                Some(day) => format!(
                    "{} {}",
                    words::translate(en, "nhận ngày"),
                    day.format("%d/%m/%Y")
                ),
                None => format!(
                    "{} {}",
                    words::translate(en, "nhận lúc"),
                    instant_words(lang, v.receipt.received_at.to_utc(), zone)
                ),
            }
        ),
        (_, None) => String::new(),
    };
    let mut previous: Option<&Value> = None;
    let mut versions: Vec<Value> = Vec::new();
    for (i, v) in loaded.versions.iter().enumerate() {
        let answers: Vec<Value> = fields
            .iter()
            .map(|f| {
                let now_shown = form::shown(v.payload.get(&f.name)).join("; ");
                let before = previous.map(|p| form::shown(p.get(&f.name)).join("; "));
                let empty = |s: String| {
                    if s.is_empty() {
                        words::translate(en, "Không nhập")
                    } else {
                        s
                    }
                };
                json!({
                    "title": f.title,
                    "value": empty(now_shown.clone()),
                    "changed": before.as_ref().is_some_and(|b| *b != now_shown),
                    "before": before.map(empty),
                })
            })
            .collect();
        let decision = v.review.as_ref().map(|r| match r.decision {
            ReviewDecision::Accept => ("Đã tiếp nhận", css_class(DeadlineStatus::Submitted)),
            ReviewDecision::Return => ("Bị trả lại", css_class(DeadlineStatus::Returned)),
        });
        let is_latest = i + 1 == loaded.versions.len();
        versions.push(json!({
            "id": v.receipt.id,
            "version": v.receipt.version,
            // A paper report arrived on a day; the time is when the office typed it in.
            "received_words": match v.receipt.received_on {
                Some(day) => format!(
                    "{} {}{} ({} {})",
                    words::translate(en, "ngày"),
                    day.format("%d/%m/%Y"),
                    v.receipt
                        .document_ref
                        .as_deref()
                        .map(|r| format!(", {} {r}", words::translate(en, "số đến")))
                        .unwrap_or_default(),
                    words::translate(en, "nhập vào hệ thống lúc"),
                    instant_words(lang, v.receipt.received_at.to_utc(), zone)
                ),
                None => format!(
                    "{} {}",
                    words::translate(en, "lúc"),
                    instant_words(lang, v.receipt.received_at.to_utc(), zone)
                ),
            },
            "filed_by": words::translate(en, &person(&v.receipt.filed_by)),
            "on_behalf": v.receipt.on_behalf,
            "decision": decision.map(|(l, _)| words::translate(en, l)),
            "decision_class": decision.map(|(_, c)| c),
            "comment": v.review.as_ref().and_then(|r| r.comment.clone()),
            "reviewer": v.review.as_ref().map(|r| person(&r.reviewed_by)),
            "answers": answers,
            "note": v.note,
            "reviewable": is_latest && loaded.may_review && v.review.is_none(),
        }));
        previous = Some(&v.payload);
    }
    // Newest first: the version to act on at the top.
    versions.reverse();
    let attention = matches!(d.status, DeadlineStatus::Overdue | DeadlineStatus::Returned);
    let open = matches!(d.status, DeadlineStatus::Open | DeadlineStatus::Overdue);
    // A returned deadline has its first report: its last day and its duty no longer change.
    let may_decide = loaded.may_review && open;
    let field_errors: serde_json::Map<String, Value> = entered
        .errors
        .iter()
        .map(|(field, message)| ((*field).to_owned(), Value::from(message.clone())))
        .collect();
    let notice = super::late::reminder_notice(&entered.done);
    let url = super::deadline_url(d.id);
    render(
        req,
        status,
        "pages/deadline.html",
        Some(current),
        json!({
            "title": format!("{}{} — {}", if entered.errors.is_empty() { String::new() } else { words::translate(en, "Lỗi:") + " " }, loaded.unit_name, period_text(lang, &d.period)),
            "unit_name": loaded.unit_name,
            "unit_url": format!("/units/{}", d.unit),
            "period_words": period_text(lang, &d.period),
            "obligation": loaded.obligation.title,
            "matrix_url": super::matrix_url(loaded.obligation.id),
            "plan": loaded.plan,
            "url": url,
            "review_url": format!("{url}/review"),
            "extension_url": format!("{url}/extension"),
            "waiver_url": format!("{url}/waiver"),
            "remind_url": format!("{url}/remind"),
            "file_url": super::file_url(d.id),
            "may_file": loaded.may_review && d.status != DeadlineStatus::Waived,
            "status": class,
            "symbol": symbol,
            "label": label,
            "sentence": sentence,
            "due_words": format!("{} {}", words::translate(en, "hết ngày"), d.last_day.format("%d/%m/%Y")),
            "last_day": d.last_day.to_string(),
            "extension": d.extension_reason,
            "waiver": d.waiver_reason,
            "versions": versions,
            "errors": entered.errors.iter().map(|(field, message)| json!({"field": field, "message": message})).collect::<Vec<_>>(),
            "field_errors": field_errors,
            "comment": entered.comment,
            "entered_last_day": entered.last_day,
            "extension_reason": entered.extension_reason,
            "waiver_reason": entered.waiver_reason,
            "may_decide": may_decide,
            "may_remind": loaded.may_review && open,
            "reminded_today": loaded.reminded_today,
            "notice": notice.map(|(kind, text)| json!({"kind": kind, "text": words::translate(en, text)})),
            "history": history(lang, zone, loaded, matches!(current.actor.role, Role::Admin | Role::Coordinator)),
            "attention": attention.then(|| format!("1 {}", words::translate(en, "cần xử lý"))),
        }),
    )
}

/// The deadline's history in sentences, oldest first: the office's decisions, the filings and reviews (from the
/// audit log), and the emails the service sent (from its claims).
/// A reminder's addresses are shown to those who may see the unit's contacts (`addresses`), as in the API.
fn history(lang: &str, zone: chrono_tz::Tz, loaded: &Loaded, addresses: bool) -> Vec<Value> {
    let en = lang == "en";
    let t = |vi: &str| words::translate(en, vi);
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
    let day = |v: &Value, key: &str| {
        v.get(key)
            .and_then(Value::as_str)
            .and_then(|d| d.parse::<chrono::NaiveDate>().ok())
            .map(|d| crate::mail::words::date_words(lang, d))
            .unwrap_or_default()
    };
    let mut lines: Vec<(chrono::DateTime<Utc>, String, String)> = Vec::new();
    for entry in &loaded.history {
        let after = entry.after.clone().unwrap_or(Value::Null);
        let what = match entry.action.as_str() {
            "deadline.extension" => format!(
                "{} {}. {}: {}",
                t("Gia hạn đến hết"),
                day(&after, "last_day"),
                t("Lý do"),
                text(&after, "extension_reason")
            ),
            "deadline.waiver" => format!(
                "{}. {}: {}",
                t("Miễn nộp kỳ này"),
                t("Lý do"),
                text(&after, "waiver_reason")
            ),
            "deadline.remind" if !addresses => {
                t("Gửi thư nhắc trực tiếp đến người báo cáo của đơn vị")
            }
            "deadline.remind" => format!(
                "{} {}",
                t("Gửi thư nhắc trực tiếp đến"),
                after
                    .get("to")
                    .and_then(Value::as_array)
                    .map(|to| to
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(", "))
                    .unwrap_or_default()
            ),
            "submission.create" => format!(
                "{} {}",
                t("Nhận phiên bản"),
                after.get("version").cloned().unwrap_or(Value::Null)
            ),
            "submission.review" => {
                let version = after.get("version").cloned().unwrap_or(Value::Null);
                let review = after.get("review").cloned().unwrap_or(Value::Null);
                if text(&review, "decision") == ReviewDecision::Return.as_str() {
                    format!(
                        "{} {version}: “{}”",
                        t("Trả lại phiên bản"),
                        text(&review, "comment")
                    )
                } else {
                    format!("{} {version}", t("Tiếp nhận phiên bản"))
                }
            }
            other => other.to_owned(),
        };
        lines.push((entry.at, person(&entry.actor), what));
    }
    for n in &loaded.sent {
        let what = if n.kind == "reminder" {
            t("Hệ thống gửi thư nhắc hạn")
        } else {
            format!("{} {}", t("Hệ thống gửi thư đôn đốc lần"), n.step)
        };
        lines.push((n.at, "hanbao".to_owned(), what));
    }
    lines.sort_by_key(|(at, _, _)| *at);
    lines
        .into_iter()
        .map(|(at, who, what)| json!({"at": instant_words(lang, at, zone), "who": who, "what": what}))
        .collect()
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct DeadlineQuery {
    /// What the last reminder sent by hand came to (see the late list).
    #[serde(default)]
    done: String,
    #[serde(default)]
    deadline: String,
}

/// The deadline page (office roles; a reporting unit is sent to its form).
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<DeadlineQuery>,
) -> HttpResponse {
    let Some(current) = session(&req, &state).await else {
        return redirect("/sign-in");
    };
    let id = id.into_inner();
    if current.actor.role == Role::Reporter {
        return redirect(&super::file_url(id));
    }
    let entered = Entered {
        done: if query.deadline == id.to_string() {
            query.done.clone()
        } else {
            String::new()
        },
        ..Entered::default()
    };
    match load(&state, &current, id).await {
        Ok(loaded) => page(&req, &state, &current, &loaded, StatusCode::OK, &entered),
        Err(e) => failure(&req, Some(&current), e),
    }
}

/// The posted fields of a form, when its CSRF token is right.
pub(super) fn posted_fields(
    current: &Current,
    posted: web::Form<Vec<(String, String)>>,
) -> Option<impl Fn(&str) -> String> {
    let pairs = posted.into_inner();
    let get = move |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    csrf_ok(current, &get("csrf")).then_some(get)
}

/// The page again with what was typed and why it was refused (422), or the use case's own failure page.
async fn refused(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    current: &Current,
    id: i64,
    entered: Entered,
) -> HttpResponse {
    match load(state, current, id).await {
        Ok(loaded) => page(
            req,
            state,
            current,
            &loaded,
            StatusCode::UNPROCESSABLE_ENTITY,
            &entered,
        ),
        Err(e) => failure(req, Some(current), e),
    }
}

/// Accepts or returns the latest version; a return needs a comment (the unit has to know what to fix).
pub async fn review(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    posted: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let Some(current) = session(&req, &state).await else {
        return redirect("/sign-in");
    };
    let id = id.into_inner();
    let Some(get) = posted_fields(&current, posted) else {
        return super::forbidden(&req, &current);
    };
    let en = language(&req) == "en";
    let comment = get("comment");
    let Some(decision) = ReviewDecision::parse(&get("decision")) else {
        return super::bad_form(&req, &current);
    };
    if decision == ReviewDecision::Return && comment.is_empty() {
        let message = words::translate(en, "Nhập lý do trả lại, để đơn vị biết cần sửa gì");
        let entered = Entered {
            comment,
            errors: vec![("comment", message)],
            ..Entered::default()
        };
        return refused(&req, &state, &current, id, entered).await;
    }
    let Ok(submission) = get("submission").parse::<i64>() else {
        return super::bad_form(&req, &current);
    };
    let (actor, now) = (current.actor.clone(), Utc::now());
    let input = ReviewInput {
        decision,
        comment: (!comment.is_empty()).then_some(comment),
    };
    match state
        .run(move |conn| service::submissions::review(conn, &actor, now, submission, input))
        .await
    {
        Ok(_) => redirect(&super::deadline_url(id)),
        Err(e) => failure(&req, Some(&current), e),
    }
}

/// A later last day for the unit, with its reason (the plan's coordinator or an admin).
pub async fn extension(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    posted: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let Some(current) = session(&req, &state).await else {
        return redirect("/sign-in");
    };
    let id = id.into_inner();
    let Some(get) = posted_fields(&current, posted) else {
        return super::forbidden(&req, &current);
    };
    let en = language(&req) == "en";
    let mut entered = Entered {
        last_day: get("last_day"),
        extension_reason: get("reason"),
        ..Entered::default()
    };
    let day = super::parse_day(&entered.last_day);
    if day.is_none() {
        entered.errors.push((
            "last_day",
            words::translate(en, "Nhập ngày hạn mới, ví dụ 15/12/2026"),
        ));
    }
    if entered.extension_reason.is_empty() {
        entered.errors.push((
            "extension_reason",
            words::translate(en, "Nhập lý do gia hạn"),
        ));
    }
    let Some(last_day) = day.filter(|_| entered.errors.is_empty()) else {
        return refused(&req, &state, &current, id, entered).await;
    };
    let (actor, now) = (current.actor.clone(), Utc::now());
    let input = ExtensionInput {
        last_day,
        reason: entered.extension_reason.clone(),
    };
    match state
        .run(move |conn| service::submissions::extend(conn, &actor, now, id, input))
        .await
    {
        Ok(_) => redirect(&super::deadline_url(id)),
        Err(crate::http::problem::ApiError::Service(service::ServiceError::Validation(errors))) => {
            for e in errors {
                if e.pointer == "/last_day" {
                    entered.errors.push((
                        "last_day",
                        words::translate(
                            en,
                            "Ngày hạn mới phải sau hạn hiện tại và là một ngày có thật",
                        ),
                    ));
                }
            }
            if entered.errors.is_empty() {
                entered.errors.push((
                    "extension_reason",
                    words::translate(en, "Nhập lý do gia hạn"),
                ));
            }
            refused(&req, &state, &current, id, entered).await
        }
        Err(e) => failure(&req, Some(&current), e),
    }
}

/// Exempts the unit from this period, with the reason (the plan's coordinator or an admin).
pub async fn waiver(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    posted: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let Some(current) = session(&req, &state).await else {
        return redirect("/sign-in");
    };
    let id = id.into_inner();
    let Some(get) = posted_fields(&current, posted) else {
        return super::forbidden(&req, &current);
    };
    let en = language(&req) == "en";
    let reason = get("reason");
    if reason.is_empty() {
        let entered = Entered {
            errors: vec![("waiver_reason", words::translate(en, "Nhập lý do miễn nộp"))],
            ..Entered::default()
        };
        return refused(&req, &state, &current, id, entered).await;
    }
    let (actor, now) = (current.actor.clone(), Utc::now());
    match state
        .run(move |conn| service::submissions::waive(conn, &actor, now, id, WaiverInput { reason }))
        .await
    {
        Ok(_) => redirect(&super::deadline_url(id)),
        Err(e) => failure(&req, Some(&current), e),
    }
}
