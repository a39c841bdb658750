//! A reporting unit's pages (`../shared/UX.md` §2.5–2.6): "Báo cáo cần nộp" — its deadlines, what needs
//! attention first — the filing form generated from the obligation's JSON Schema, and the receipt.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use rand::distr::{Alphanumeric, SampleString};
use serde_json::{json, Value};

use super::form::{self, Kind};
use super::{
    csrf_ok, css_class, failure, language, period_text, person, redirect, render, session,
    status_words, words,
};
use crate::domain::DeadlineStatus;
use crate::http::AppState;
use crate::mail::words::instant_words;
use crate::service::deadlines::{Deadline, DeadlineQuery};
use crate::service::sessions::Current;
use crate::service::submissions::NewSubmissionInput;
use crate::service::{self, ServiceError};

/// "hết ngày 20/02/2026": the last day, as a person reads a deadline (its end is the due instant).
fn due_words(en: bool, deadline: &Deadline) -> String {
    let day = deadline.last_day.format("%d/%m/%Y");
    if en {
        format!("end of {day}")
    } else {
        format!("hết ngày {day}")
    }
}

/// "Báo cáo cần nộp": the unit's deadlines, what needs attention first.
pub async fn deadlines(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    current: &Current,
) -> HttpResponse {
    let lang = language(req);
    let en = lang == "en";
    let (actor, zone, now) = (current.actor.clone(), state.settings.time_zone, Utc::now());
    let loaded = state
        .run(move |conn| {
            // Every page of them: a unit with weekly reports over years has more than one page, and its
            // newest deadlines (the ones to act on) come last.
            let mut deadlines = Vec::new();
            let mut page = super::all();
            loop {
                let list = service::deadlines::list(
                    conn,
                    &actor,
                    now,
                    zone,
                    &DeadlineQuery::default(),
                    &page,
                )?;
                deadlines.extend(list.items);
                match list.next_cursor {
                    Some(cursor) => page.cursor = Some(cursor),
                    None => break,
                }
            }
            let obligations =
                service::obligations::list_all(conn, &actor, &Default::default(), &super::all())?
                    .items;
            let mut plans = std::collections::HashMap::new();
            for o in &obligations {
                if let std::collections::hash_map::Entry::Vacant(e) = plans.entry(o.plan_id) {
                    e.insert(service::plans::get(conn, o.plan_id)?.number);
                }
            }
            // The Sở's comment on each returned report.
            let mut comments = std::collections::HashMap::new();
            for d in deadlines
                .iter()
                .filter(|d| d.status == DeadlineStatus::Returned)
            {
                let versions =
                    service::submissions::of_deadline(conn, &actor, now, d.id, &super::all())?
                        .items;
                if let Some(review) = versions.last().and_then(|v| v.review.clone()) {
                    comments.insert(d.id, review);
                }
            }
            let unit = match actor.unit_id {
                Some(id) => service::units::name_of(conn, id)?,
                None => String::new(),
            };
            Ok((deadlines, obligations, plans, comments, unit))
        })
        .await;
    let (deadlines, obligations, plans, comments, unit_name) = match loaded {
        Ok(found) => found,
        Err(e) => return failure(req, Some(current), e),
    };
    let today = now.with_timezone(&zone).date_naive();
    let mut attention = Vec::new();
    let mut upcoming = Vec::new();
    let mut done = Vec::new();
    for d in &deadlines {
        let Some(obligation) = obligations.iter().find(|o| o.id == d.obligation_id) else {
            continue;
        };
        let days = (d.last_day - today).num_days();
        let relative = match (d.status, en) {
            (DeadlineStatus::Overdue, false) => format!("quá hạn {} ngày", -days),
            (DeadlineStatus::Overdue, true) => format!("{} day(s) overdue", -days),
            (DeadlineStatus::Open, false) => format!("còn {days} ngày"),
            (DeadlineStatus::Open, true) => format!("{days} day(s) left"),
            (_, false) => "đã xong".to_owned(),
            (_, true) => "done".to_owned(),
        };
        let (symbol, label) = status_words(en, d.status);
        let needs = matches!(d.status, DeadlineStatus::Overdue | DeadlineStatus::Returned)
            || (d.status == DeadlineStatus::Open && days <= 7);
        let action = match d.status {
            DeadlineStatus::Open | DeadlineStatus::Overdue => {
                Some(words::translate(en, "Nộp báo cáo"))
            }
            DeadlineStatus::Returned => Some(words::translate(en, "Sửa và nộp lại")),
            _ => None,
        };
        let review = comments.get(&d.id);
        let item = json!({
            "url": super::file_url(d.id),
            "plan": plans.get(&obligation.plan_id).cloned().unwrap_or_default(),
            "obligation": obligation.title,
            "period_words": period_text(lang, &d.period),
            "due_words": due_words(en, d),
            "relative": relative,
            "status": css_class(d.status),
            "symbol": symbol,
            "label": label,
            "attention": needs,
            "action": action,
            "comment": review.and_then(|r| r.comment.clone()),
            "reviewer": review.map(|r| r.reviewed_by.clone()),
        });
        match d.status {
            _ if needs => attention.push(item),
            DeadlineStatus::Open => upcoming.push(item),
            _ => done.push(item),
        }
    }
    // Done: the latest first; the list of what is done would otherwise open with 2022.
    done.reverse();
    let count = attention.len();
    let groups: Vec<Value> = [
        ("Cần xử lý", attention),
        ("Sắp tới", upcoming),
        ("Đã nộp", done),
    ]
    .into_iter()
    .filter(|(_, items)| !items.is_empty())
    .map(|(heading, items)| json!({"heading": words::translate(en, heading), "items": items}))
    .collect();
    render(
        req,
        StatusCode::OK,
        "pages/unit.html",
        Some(current),
        json!({
            "title": words::translate(en, "Báo cáo cần nộp"),
            "unit_name": unit_name,
            "groups": groups,
            "attention": (count > 0).then(|| format!("{count} {}", words::translate(en, "cần xử lý"))),
        }),
    )
}

/// What the filing page needs: the deadline, its obligation, the unit's name, the form's fields, and the
/// latest version (to pre-fill a returned report) with the Sở's comment.
struct Filing {
    deadline: Deadline,
    obligation: service::obligations::Brief,
    unit_name: String,
    latest: Option<service::submissions::Submission>,
}

async fn load(
    state: &web::Data<AppState>,
    current: &Current,
    id: i64,
) -> Result<Filing, crate::http::problem::ApiError> {
    let (actor, now) = (current.actor.clone(), Utc::now());
    state
        .run(move |conn| {
            let deadline = service::deadlines::get(conn, &actor, now, id)?;
            let obligation = service::obligations::brief(conn, deadline.obligation_id)?;
            let latest = service::submissions::of_deadline(conn, &actor, now, id, &super::all())?
                .items
                .pop();
            let unit_name = service::units::name_by_code(conn, &deadline.unit)?;
            Ok(Filing {
                deadline,
                obligation,
                unit_name,
                latest,
            })
        })
        .await
}

fn nonce() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 32)
}

/// What an office filing for a unit adds to the form: the day a paper report arrived and its incoming number.
#[derive(Default)]
struct Paper {
    /// The signed-in user files for the unit (an admin or the plan's coordinator), not the unit itself.
    on_behalf: bool,
    received_on: String,
    document_ref: String,
}

impl Paper {
    fn of(current: &Current) -> Self {
        Self {
            on_behalf: matches!(
                current.actor.role,
                service::Role::Admin | service::Role::Coordinator
            ),
            ..Self::default()
        }
    }
}

/// The filing form's context: each field with what it shows and its problem.
fn form_context(
    req: &HttpRequest,
    filing: &Filing,
    values: &std::collections::HashMap<String, Vec<String>>,
    problems: &[form::Problem],
    (note, nonce): (&str, &str),
    paper: &Paper,
) -> Value {
    let lang = language(req);
    let en = lang == "en";
    let fields: Vec<Value> = form::fields(filing.obligation.form.as_ref())
        .into_iter()
        .map(|f| {
            let shown = values.get(&f.name).cloned().unwrap_or_default();
            let (kind, options) = match &f.kind {
                Kind::Text { multiline: true } => ("textarea", vec![]),
                Kind::Text { multiline: false } => ("text", vec![]),
                Kind::Integer => ("integer", vec![]),
                Kind::Number => ("number", vec![]),
                Kind::Choice(o) => ("choice", o.clone()),
                Kind::YesNo => ("yesno", vec![]),
                Kind::TextList => ("list", vec![]),
            };
            let mut rows = shown.clone();
            if kind == "list" {
                rows.resize(rows.len().max(form::LIST_ROWS), String::new());
            }
            json!({
                "name": f.name,
                "title": f.title,
                "hint": f.hint,
                "kind": kind,
                "options": options,
                "required": f.required,
                "value": shown.first().cloned().unwrap_or_default(),
                "values": rows,
                "error": problems.iter().find(|p| p.field == f.name).map(|p| p.message.clone()),
            })
        })
        .collect();
    let comment = (filing.deadline.status == DeadlineStatus::Returned)
        .then(|| {
            filing
                .latest
                .as_ref()
                .and_then(|l| l.review.as_ref())
                .and_then(|r| r.comment.clone())
        })
        .flatten();
    json!({
        "title": format!("{}{} — {}",
            if problems.is_empty() { String::new() } else { words::translate(en, "Lỗi:") + " " },
            filing.obligation.title, period_text(lang, &filing.deadline.period)),
        "obligation": filing.obligation.title,
        "period_words": period_text(lang, &filing.deadline.period),
        "unit_name": filing.unit_name,
        "due_words": due_words(en, &filing.deadline),
        "wording": filing.obligation.wording,
        "comment": comment,
        "file_url": super::file_url(filing.deadline.id),
        "fields": fields,
        "problems": problems.iter().map(|p| json!({"field": p.field, "message": p.message})).collect::<Vec<_>>(),
        "note": note,
        "nonce": nonce,
        "on_behalf": paper.on_behalf,
        "received_on": paper.received_on,
        "document_ref": paper.document_ref,
        "received_on_error": problems.iter().find(|p| p.field == "received_on").map(|p| p.message.clone()),
        "document_ref_error": problems.iter().find(|p| p.field == "document_ref").map(|p| p.message.clone()),
    })
}

/// The filing form: empty, or, for a report returned for revision, filled with the version sent back.
pub async fn file_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> HttpResponse {
    let Some(current) = session(&req, &state).await else {
        return redirect("/sign-in");
    };
    let filing = match load(&state, &current, id.into_inner()).await {
        Ok(f) => f,
        Err(e) => return failure(&req, Some(&current), e),
    };
    let values: std::collections::HashMap<String, Vec<String>> = match &filing.latest {
        Some(latest) if filing.deadline.status == DeadlineStatus::Returned => latest
            .payload
            .as_object()
            .map(|o| {
                o.iter()
                    .map(|(k, v)| (k.clone(), form::shown(Some(v))))
                    .collect()
            })
            .unwrap_or_default(),
        _ => Default::default(),
    };
    let context = form_context(
        &req,
        &filing,
        &values,
        &[],
        ("", &nonce()),
        &Paper::of(&current),
    );
    render(
        &req,
        StatusCode::OK,
        "pages/file.html",
        Some(&current),
        context,
    )
}

/// Files the form: read leniently, checked with messages from the titles, then filed by the same use case as
/// the API, with the form's nonce as the idempotency key (a double click or a reload never files twice).
pub async fn file(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    posted: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let Some(current) = session(&req, &state).await else {
        return redirect("/sign-in");
    };
    let pairs = posted.into_inner();
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    if !csrf_ok(&current, &get("csrf")) {
        return super::forbidden(&req, &current);
    }
    let en = language(&req) == "en";
    let filing = match load(&state, &current, id.into_inner()).await {
        Ok(f) => f,
        Err(e) => return failure(&req, Some(&current), e),
    };
    let (note, nonce) = (get("note"), get("nonce"));
    let fields = form::fields(filing.obligation.form.as_ref());
    let (payload, mut problems) = form::read(&fields, &pairs, en);
    let typed: std::collections::HashMap<String, Vec<String>> = fields
        .iter()
        .map(|f| {
            let given = pairs
                .iter()
                .filter(|(k, _)| *k == f.name)
                .map(|(_, v)| v.clone())
                .collect();
            (f.name.clone(), given)
        })
        .collect();
    let paper = Paper {
        received_on: get("received_on").trim().to_owned(),
        document_ref: get("document_ref").trim().to_owned(),
        ..Paper::of(&current)
    };
    let received_on = if paper.on_behalf && !paper.received_on.is_empty() {
        let day = super::parse_day(&paper.received_on);
        if day.is_none() {
            problems.push(form::Problem {
                field: "received_on".into(),
                message: words::translate(en, "Ngày nhận văn bản: nhập một ngày, ví dụ 28/11/2026"),
            });
        }
        day
    } else {
        None
    };
    if problems.is_empty() {
        let input = NewSubmissionInput {
            obligation_id: filing.obligation.id,
            period: filing.deadline.period.clone(),
            // An office files for the unit: the use case records it as filed on the unit's behalf.
            unit: paper.on_behalf.then(|| filing.deadline.unit.clone()),
            payload,
            note: (!note.trim().is_empty()).then(|| note.clone()),
            received_on,
            document_ref: (paper.on_behalf && !paper.document_ref.is_empty())
                .then(|| paper.document_ref.clone()),
        };
        let (actor, now) = (current.actor.clone(), Utc::now());
        let key = (!nonce.is_empty()).then(|| nonce.clone());
        let filed = state
            .run(move |conn| service::submissions::submit(conn, &actor, now, input, key.as_deref()))
            .await;
        match filed {
            Ok(stored) => {
                if let Some(receipt) = stored.body.get("id").and_then(Value::as_i64) {
                    return redirect(&format!("/submissions/{receipt}/receipt"));
                }
                return failure(
                    &req,
                    Some(&current),
                    ServiceError::data("a receipt without its id"),
                );
            }
            // The use case's own checks, where the form's missed one: beside the field, in words.
            Err(crate::http::problem::ApiError::Service(ServiceError::Validation(errors))) => {
                for e in errors {
                    if let Some(field) = ["received_on", "document_ref"]
                        .into_iter()
                        .find(|f| e.pointer == format!("/{f}"))
                    {
                        let message = if field == "received_on" {
                            "Ngày nhận văn bản: không được sau hôm nay hoặc trước khi kỳ báo cáo bắt đầu"
                        } else {
                            "Số đến: tối đa 100 ký tự"
                        };
                        problems.push(form::Problem {
                            field: field.into(),
                            message: words::translate(en, message),
                        });
                        continue;
                    }
                    let field = e
                        .pointer
                        .strip_prefix("/payload/")
                        .and_then(|p| p.split('/').next())
                        .unwrap_or_default()
                        .to_owned();
                    let title = fields
                        .iter()
                        .find(|f| f.name == field)
                        .map_or_else(|| words::translate(en, "Báo cáo"), |f| f.title.clone());
                    problems.push(form::Problem {
                        field,
                        message: if en {
                            format!("{title}: the value does not fit the form ({})", e.message)
                        } else {
                            format!(
                                "{title}: giá trị chưa đúng yêu cầu của biểu mẫu ({})",
                                e.message
                            )
                        },
                    });
                }
            }
            Err(e) => return failure(&req, Some(&current), e),
        }
    }
    let context = form_context(&req, &filing, &typed, &problems, (&note, &nonce), &paper);
    render(
        &req,
        StatusCode::UNPROCESSABLE_ENTITY,
        "pages/file.html",
        Some(&current),
        context,
    )
}

/// The receipt: what was received, when, on time or how late, which version — bookmarkable and printable.
pub async fn receipt(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> HttpResponse {
    let Some(current) = session(&req, &state).await else {
        return redirect("/sign-in");
    };
    let lang = language(&req);
    let en = lang == "en";
    let (actor, now, zone, id) = (
        current.actor.clone(),
        Utc::now(),
        state.settings.time_zone,
        id.into_inner(),
    );
    let loaded = state
        .run(move |conn| {
            let submission = service::submissions::get(conn, &actor, id)?;
            let deadline =
                service::deadlines::get(conn, &actor, now, submission.receipt.deadline_id)?;
            let obligation = service::obligations::brief(conn, submission.obligation_id)?;
            Ok((submission, deadline, obligation))
        })
        .await;
    let (submission, deadline, obligation) = match loaded {
        Ok(found) => found,
        Err(e) => return failure(&req, Some(&current), e),
    };
    let fields = form::fields(obligation.form.as_ref());
    let answers: Vec<Value> = fields
        .iter()
        .map(|f| {
            let shown = form::shown(submission.payload.get(&f.name));
            json!({
                "title": f.title,
                "value": if shown.is_empty() { words::translate(en, "Không nhập") } else { shown.join("; ") },
            })
        })
        .collect();
    let r = &submission.receipt;
    let timeliness = if r.on_time {
        words::translate(en, "Đúng hạn")
    } else {
        // Timeliness is the first report's (DESIGN.md §2.6).
        let first = deadline.submitted_at.unwrap_or(r.received_at);
        let late = (first - deadline.due_at).num_seconds();
        format!(
            "{} {}",
            words::translate(en, "Nộp muộn"),
            crate::mail::words::duration_words(lang, late)
        )
    };
    render(
        &req,
        StatusCode::OK,
        "pages/receipt.html",
        Some(&current),
        json!({
            "title": words::translate(en, "Đã nộp báo cáo"),
            "reference": format!("HB-{}-{:06}", r.received_at.format("%Y"), r.id),
            "unit_name": submission.unit_name,
            "obligation": obligation.title,
            "period_words": period_text(lang, &r.period),
            "due_words": due_words(en, &deadline),
            "received_words": instant_words(lang, r.received_at.to_utc(), zone),
            "version": r.version,
            "timeliness": timeliness,
            "filed_by": words::translate(en, &person(&r.filed_by)),
            "answers": answers,
        }),
    )
}
