//! A unit's page for the office (`../shared/UX.md` §2.5): who it is, whom to write to (to those allowed to see
//! contacts), the units it took over from or that took over from it, its on-time rate per year, and its
//! deadlines across plans from a year back.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Datelike, Duration, Utc};
use serde_json::{json, Value};

use super::{
    chart, css_class, deadline_url, failure, language, period_text, redirect, render, session,
    status_words, words,
};
use crate::domain::unit::UnitKind;
use crate::domain::DeadlineStatus;
use crate::http::AppState;
use crate::service::deadlines::{Deadline, DeadlineQuery};
use crate::service::{self, PageParams, Role};

/// Deadlines read for the page (the chart's years and the list).
const READ: i64 = 1000;

fn kind_words(en: bool, kind: UnitKind) -> &'static str {
    match (kind, en) {
        (UnitKind::Province, false) => "Tỉnh, thành phố",
        (UnitKind::Department, false) => "Sở, ban, ngành",
        (UnitKind::District, false) => "Cấp huyện",
        (UnitKind::Commune, false) => "Cấp xã",
        (UnitKind::Office, false) => "Phòng chuyên môn",
        (UnitKind::Agency, false) => "Cơ quan, đơn vị",
        (UnitKind::Other, false) => "Khác",
        (UnitKind::Province, true) => "Province or city",
        (UnitKind::Department, true) => "Department",
        (UnitKind::District, true) => "District level",
        (UnitKind::Commune, true) => "Commune level",
        (UnitKind::Office, true) => "Office",
        (UnitKind::Agency, true) => "Agency",
        (UnitKind::Other, true) => "Other",
    }
}

fn succession_words(en: bool, kind: &str) -> &'static str {
    match (kind, en) {
        ("merge", false) => "sáp nhập",
        ("split", false) => "chia tách",
        ("rename", false) => "đổi tên",
        ("merge", true) => "merger",
        ("split", true) => "split",
        ("rename", true) => "renaming",
        (_, false) => "kế thừa",
        (_, true) => "succession",
    }
}

/// The unit's page (office roles; a reporting unit sees its own list instead).
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> HttpResponse {
    let Some(current) = session(&req, &state).await else {
        return redirect("/sign-in");
    };
    if current.actor.role == Role::Reporter {
        return redirect("/");
    }
    let lang = language(&req);
    let en = lang == "en";
    let (actor, now, zone, code) = (
        current.actor.clone(),
        Utc::now(),
        state.settings.time_zone,
        code.into_inner(),
    );
    let loaded = state
        .run(move |conn| {
            let unit = service::units::get(conn, &actor, &code)?;
            let parent = match &unit.parent {
                Some(p) => Some(service::units::name_by_code(conn, p)?),
                None => None,
            };
            let (from, to) = service::units::successions(conn, &code)?;
            // Every deadline of the unit the actor may see (a coordinator: its plans'), in due order.
            let mut deadlines: Vec<Deadline> = Vec::new();
            let mut params = PageParams {
                limit: Some(READ),
                cursor: None,
            };
            // Six years back: the chart's years and the list; a unit of many weekly reports stays within reach.
            let query = DeadlineQuery {
                unit: Some(code.clone()),
                due_after: Some(
                    (now.with_timezone(&zone).date_naive() - Duration::days(6 * 366)).to_string(),
                ),
                ..Default::default()
            };
            loop {
                let page = service::deadlines::list(conn, &actor, now, zone, &query, &params)?;
                deadlines.extend(page.items);
                match page.next_cursor {
                    Some(c) if deadlines.len() < 10 * READ as usize => params.cursor = Some(c),
                    _ => break,
                }
            }
            let titles: std::collections::HashMap<i64, String> = {
                let mut ids: Vec<i64> = deadlines.iter().map(|d| d.obligation_id).collect();
                ids.sort_unstable();
                ids.dedup();
                let mut titles = std::collections::HashMap::new();
                for id in ids {
                    titles.insert(id, service::obligations::brief(conn, id)?.title);
                }
                titles
            };
            Ok((unit, parent, from, to, deadlines, titles))
        })
        .await;
    let (unit, parent, from, to, deadlines, titles) = match loaded {
        Ok(found) => found,
        Err(e) => return failure(&req, Some(&current), e),
    };
    // The on-time rate per year of the last day (DHIS2: on time / expected; waived deadlines not expected).
    let today = now.with_timezone(&zone).date_naive();
    let mut years: std::collections::BTreeMap<i32, (u32, u32)> = std::collections::BTreeMap::new();
    for d in deadlines.iter().filter(|d| d.due_at.to_utc() <= now) {
        if d.status == DeadlineStatus::Waived {
            continue;
        }
        let year = years.entry(d.last_day.year()).or_default();
        year.0 += 1;
        if d.status == DeadlineStatus::Submitted {
            year.1 += 1;
        }
    }
    let bars: Vec<chart::Bar> = years
        .iter()
        .rev()
        .take(6)
        .rev()
        .map(|(year, (expected, on_time))| chart::Bar {
            label: year.to_string(),
            rate: (*expected > 0).then(|| f64::from(*on_time) / f64::from(*expected)),
        })
        .collect();
    let from_day = today - Duration::days(366);
    let rows: Vec<Value> = deadlines
        .iter()
        .filter(|d| d.last_day >= from_day)
        .map(|d| {
            let (symbol, label) = status_words(en, d.status);
            json!({
                "url": deadline_url(d.id),
                "obligation": titles.get(&d.obligation_id).cloned().unwrap_or_default(),
                "period_words": period_text(lang, &d.period),
                "last_day": d.last_day.format("%d/%m/%Y").to_string(),
                "status": css_class(d.status),
                "symbol": symbol,
                "label": label,
            })
        })
        .collect();
    let link = |s: &service::units::Succession| {
        json!({
            "url": format!("/units/{}", s.code),
            "name": s.name,
            "kind": succession_words(en, &s.kind),
            "day": crate::mail::words::date_words(lang, s.effective_on),
        })
    };
    let contacts = unit
        .contacts
        .as_ref()
        .map(|c| json!({"reporters": c.reporters.join(", "), "heads": c.heads.join(", ")}));
    render(
        &req,
        StatusCode::OK,
        "pages/profile.html",
        Some(&current),
        json!({
            "title": unit.name,
            "name": unit.name,
            "code": unit.code,
            "kind": kind_words(en, unit.kind),
            "parent": parent,
            "parent_url": unit.parent.as_ref().map(|p| format!("/units/{p}")),
            "valid_from": unit.valid_from.map(|d| crate::mail::words::date_words(lang, d)),
            "valid_until": unit.valid_until.map(|d| crate::mail::words::date_words(lang, d)),
            "contacts": contacts,
            "address": unit.address,
            "phone": unit.phone,
            "email": unit.email,
            "predecessors": from.iter().map(link).collect::<Vec<_>>(),
            "successors": to.iter().map(link).collect::<Vec<_>>(),
            "chart": chart::on_time(en, &words::translate(en, "Tỷ lệ nộp đúng hạn theo năm"), &bars),
            "rows": rows,
        }),
    )
}
