//! One unit × one period, for the office (`../shared/UX.md` §2.4): the status in a sentence, the deadline (and
//! its extension or waiver), every version with its answers labelled from the form and what changed since the
//! version before, and the review: accept, or return with a comment.

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
use crate::service::sessions::Current;
use crate::service::submissions::{ReviewDecision, ReviewInput, Submission};
use crate::service::{self, PageParams, Role};

struct Loaded {
    deadline: service::deadlines::Deadline,
    obligation: service::obligations::Obligation,
    plan: String,
    unit_name: String,
    versions: Vec<Submission>,
    may_review: bool,
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
            let obligation = service::obligations::get(conn, deadline.obligation_id)?;
            let plan_row = service::plans::get(conn, obligation.plan_id)?;
            let unit_name = service::units::name_by_code(conn, &deadline.unit)?;
            let versions = service::submissions::of_deadline(
                conn,
                &actor,
                now,
                id,
                &PageParams {
                    limit: Some(service::MAX_LIMIT),
                    cursor: None,
                },
            )?
            .items;
            let may_review = service::plans::coordinated_by(conn, &actor, obligation.plan_id)?;
            Ok(Loaded {
                deadline,
                obligation,
                plan: plan_row.number,
                unit_name,
                versions,
                may_review,
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
    problems: &[String],
    comment: &str,
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
            "filed_by": person(&v.receipt.filed_by),
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
    render(
        req,
        status,
        "pages/deadline.html",
        Some(current),
        json!({
            "title": format!("{}{} — {}", if problems.is_empty() { String::new() } else { words::translate(en, "Lỗi:") + " " }, loaded.unit_name, period_text(lang, &d.period)),
            "unit_name": loaded.unit_name,
            "period_words": period_text(lang, &d.period),
            "obligation": loaded.obligation.title,
            "matrix_url": super::matrix_url(loaded.obligation.id),
            "plan": loaded.plan,
            "review_url": format!("{}/review", super::deadline_url(d.id)),
            "status": class,
            "symbol": symbol,
            "label": label,
            "sentence": sentence,
            "due_words": format!("{} {}", words::translate(en, "hết ngày"), d.last_day.format("%d/%m/%Y")),
            "extension": d.extension_reason,
            "waiver": d.waiver_reason,
            "versions": versions,
            "problems": problems,
            "comment": comment,
            "attention": attention.then(|| format!("1 {}", words::translate(en, "cần xử lý"))),
        }),
    )
}

/// The deadline page (office roles; a reporting unit is sent to its form).
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> HttpResponse {
    let Some(current) = session(&req, &state).await else {
        return redirect("/sign-in");
    };
    let id = id.into_inner();
    if current.actor.role == Role::Reporter {
        return redirect(&super::file_url(id));
    }
    match load(&state, &current, id).await {
        Ok(loaded) => page(&req, &state, &current, &loaded, StatusCode::OK, &[], ""),
        Err(e) => failure(&req, Some(&current), e),
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
    let pairs = posted.into_inner();
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    if !csrf_ok(&current, &get("csrf")) {
        return super::forbidden(&req, &current);
    }
    let en = language(&req) == "en";
    let comment = get("comment");
    let Some(decision) = ReviewDecision::parse(&get("decision")) else {
        return super::bad_form(&req, &current);
    };
    if decision == ReviewDecision::Return && comment.is_empty() {
        return match load(&state, &current, id).await {
            Ok(loaded) => page(
                &req,
                &state,
                &current,
                &loaded,
                StatusCode::UNPROCESSABLE_ENTITY,
                &[words::translate(
                    en,
                    "Nhập lý do trả lại, để đơn vị biết cần sửa gì",
                )],
                &comment,
            ),
            Err(e) => failure(&req, Some(&current), e),
        };
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
