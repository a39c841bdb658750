//! The consolidated report of a period, printable (`../shared/UX.md` §2.1): each figure summed up, with its
//! coverage stated beside it ("Tổng hợp từ 118/126 đơn vị …"), the texts per unit, and the units not counted.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use super::form;
use super::{
    css_class, failure, language, period_text, redirect, render, session, status_words, words,
};
use crate::http::AppState;
use crate::service::{self, Role};

#[derive(Debug, Default, Deserialize)]
pub struct PeriodQuery {
    #[serde(default)]
    period: String,
}

/// "1.250" or "12,5": Vietnamese digit grouping and decimal comma; "1,250" and "12.5" in English.
fn number(en: bool, n: f64) -> String {
    let rounded = (n * 100.0).round() / 100.0;
    let whole = rounded.trunc().abs() as u64;
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(if en { ',' } else { '.' });
        }
        grouped.push(c);
    }
    let fraction = ((rounded.abs() - whole as f64) * 100.0).round() as u64;
    let sign = if rounded < 0.0 { "-" } else { "" };
    if fraction == 0 {
        format!("{sign}{grouped}")
    } else {
        let fraction = format!("{fraction:02}");
        let fraction = fraction.trim_end_matches('0');
        format!("{sign}{grouped}{}{fraction}", if en { '.' } else { ',' })
    }
}

/// The consolidation page of an obligation: the period asked for, else the latest one that is due.
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<PeriodQuery>,
) -> HttpResponse {
    let Some(current) = session(&req, &state).await else {
        return redirect("/sign-in");
    };
    if current.actor.role == Role::Reporter {
        return redirect("/");
    }
    let lang = language(&req);
    let en = lang == "en";
    let (actor, now, id) = (current.actor.clone(), Utc::now(), id.into_inner());
    let zone = state.settings.time_zone;
    let asked = query.into_inner().period;
    let loaded = state
        .run(move |conn| {
            let obligation = service::obligations::brief(conn, id)?;
            let number = service::plans::get(conn, obligation.plan_id)?.number;
            // The print frame names the office that signs for the plan today (Decree 30/2020: the issuing body,
            // top left), as the day's letters do.
            let office = service::letters::signing_office_of(
                conn,
                id,
                now.with_timezone(&zone).date_naive(),
            )?;
            let plan = (number, office);
            let periods = service::deadlines::period_dues(conn, id)?;
            let period = if asked.is_empty() {
                periods
                    .iter()
                    .rev()
                    .find(|(_, due)| *due <= now)
                    .or(periods.first())
                    .map(|(p, _)| p.clone())
                    .unwrap_or_default()
            } else {
                asked
            };
            let answer = service::consolidation::consolidation(conn, &actor, now, id, &period)?;
            Ok((obligation, plan, periods, answer))
        })
        .await;
    let (obligation, plan, periods, answer) = match loaded {
        Ok(found) => found,
        Err(e) => return failure(&req, Some(&current), e),
    };
    let titles: Vec<form::Field> = form::fields(obligation.form.as_ref());
    let title_of = |name: &str, given: &Option<String>| {
        given.clone().unwrap_or_else(|| {
            titles
                .iter()
                .find(|f| f.name == name)
                .map_or_else(|| name.to_owned(), |f| f.title.clone())
        })
    };
    let coverage = if en {
        format!(
            "Consolidated from {}/{} units that reported; the {} not counted are listed below.",
            answer.units_included,
            answer.units_expected,
            answer.units_expected - answer.units_included
        )
    } else {
        format!(
            "Tổng hợp từ {}/{} đơn vị đã nộp; {} đơn vị chưa nộp (hoặc bị trả lại) không được tính, liệt kê dưới đây.",
            answer.units_included,
            answer.units_expected,
            answer.units_expected - answer.units_included
        )
    };
    render(
        &req,
        StatusCode::OK,
        "pages/consolidation.html",
        Some(&current),
        json!({
            "title": format!("{} — {}", words::translate(en, "Tổng hợp số liệu"), obligation.title),
            "obligation": obligation.title,
            "matrix_url": super::matrix_url(id),
            "consolidation_url": super::consolidation_url(id),
            "plan": plan.0,
            "print": super::print_frame(lang, &plan.1, now.with_timezone(&zone).date_naive()),
            "period": answer.period,
            "period_words": period_text(lang, &answer.period),
            "periods": periods.iter().map(|(p, _)| json!({"id": p, "words": period_text(lang, p)})).collect::<Vec<_>>(),
            "coverage": coverage,
            "fields": answer.fields.iter().map(|f| json!({
                "title": title_of(&f.field, &f.title),
                "aggregate": crate::http::export::aggregate_words(en, f.aggregate),
                "value": f.value.map_or_else(|| "–".to_owned(), |v| number(en, v)),
                "units": f.units,
            })).collect::<Vec<_>>(),
            "texts": answer.texts.iter().map(|t| json!({
                "title": title_of(&t.field, &t.title),
                "answers": t.answers.iter().map(|a| json!({
                    "unit_name": a.unit_name,
                    "value": form::shown(Some(&a.value)).join("; "),
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "missing": answer.missing.iter().map(|m| {
                let (symbol, label) = status_words(en, m.status);
                json!({"unit_name": m.unit_name, "symbol": symbol, "label": label, "class": css_class(m.status)})
            }).collect::<Vec<_>>(),
        }),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_as_offices_write_them() {
        assert_eq!(super::number(false, 1_250_000.0), "1.250.000");
        assert_eq!(super::number(false, 12.5), "12,5");
        assert_eq!(super::number(true, 1250.25), "1,250.25");
        assert_eq!(super::number(false, 0.0), "0");
    }
}
