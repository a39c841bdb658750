//! What every email about a deadline says besides its own news, as an official letter says it: the plan and
//! the obligation in their own words, the period, the last day, how to file, and the coordinating office that
//! signs it (its name is also the sender's display name). Never an id, a token or an HTTP method.

use chrono_tz::Tz;
use serde::Serialize;

use super::{ServiceError, ServiceResult};
use crate::domain::Period;
use crate::mail::words;
use crate::store::deadlines::DeadlineRow;
use crate::store::obligations::ObligationRow;
use crate::store::plans::PlanRow;
use crate::store::units::UnitRow;
use crate::store::{self, AnyConnection};

/// The office that signs: its name, and how to reach it when the unit record says.
#[derive(Debug, Clone, Serialize)]
pub struct Office {
    pub name: String,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

impl Office {
    pub fn of(unit: &UnitRow) -> Self {
        Self {
            name: unit.name.clone(),
            address: unit.address.clone(),
            phone: unit.phone.clone(),
            email: unit.email.clone(),
        }
    }
}

/// The parts of a letter about one deadline that do not depend on its kind (`about` in the templates).
#[derive(Debug, Clone, Serialize)]
pub struct About {
    pub plan_number: String,
    pub plan_title: String,
    /// "ngày 18 tháng 10 năm 2022", when the plan says when it was issued.
    pub plan_issued_words: Option<String>,
    pub obligation: String,
    /// The plan's own words of the obligation, when recorded.
    pub wording: Option<String>,
    /// "năm 2025", "đợt tuyên truyền tháng 3/2025".
    pub period_words: String,
    /// "ngày 01 tháng 12 năm 2025": the report is in time until the end of that day.
    pub last_day_words: String,
    /// The office the report goes to.
    pub recipient: String,
    /// How to file, in the plan's words; without it the letter names the coordinating office to ask.
    pub filing: Option<String>,
    /// The page the letter is about, when `public_url` is set: for a unit, with a filing link's token.
    pub link: Option<String>,
    pub office: Office,
}

/// What a letter about `deadline` needs to know, read once by the caller.
pub struct Subject<'a> {
    pub plan: &'a PlanRow,
    pub obligation: &'a ObligationRow,
    pub deadline: &'a DeadlineRow,
    pub recipient: &'a UnitRow,
    pub coordinator: &'a UnitRow,
}

impl Subject<'_> {
    /// The common parts in `language`; an event period is named by its event (read here).
    pub fn about(&self, conn: &mut AnyConnection, language: &str) -> ServiceResult<About> {
        let period: Period = self.deadline.period.parse().map_err(|_| {
            ServiceError::data(format!(
                "deadline {} has period `{}`",
                self.deadline.id, self.deadline.period
            ))
        })?;
        let event = match self.deadline.event_id {
            Some(id) => store::obligations::find_event(conn, id)?.map(|e| e.name),
            None => None,
        };
        Ok(About {
            plan_number: self.plan.number.clone(),
            plan_title: self.plan.title.clone(),
            plan_issued_words: self.plan.issued_on.map(|d| words::date_words(language, d)),
            obligation: self.obligation.title.clone(),
            wording: self.obligation.wording.clone(),
            period_words: words::period_words(language, &period, event.as_deref()),
            last_day_words: words::date_words(language, self.deadline.last_day),
            recipient: self.recipient.name.clone(),
            filing: self.plan.filing_instructions.clone(),
            link: None,
            office: Office::of(self.coordinator),
        })
    }
}

/// The office that signs letters about a plan: its coordinating office while that exists; after it closed, the
/// office its work went to (one successor, followed); failing that, the deadline's recipient. A letter of 2025
/// is not signed by a department dissolved in February.
pub fn signing_office(
    conn: &mut AnyConnection,
    coordinator: UnitRow,
    recipient: &UnitRow,
    today: chrono::NaiveDate,
) -> ServiceResult<UnitRow> {
    let mut unit = coordinator;
    for _ in 0..50 {
        if crate::domain::unit::is_valid_on(unit.valid_from, unit.valid_until, today) {
            return Ok(unit);
        }
        match store::units::successions_from(conn, &[unit.id])?.as_slice() {
            [one] => {
                unit = store::units::find(conn, one.successor_id)?.ok_or_else(|| {
                    ServiceError::data(format!("successor unit {} vanished", one.successor_id))
                })?;
            }
            _ => break,
        }
    }
    Ok(recipient.clone())
}

/// The name of the office that signs for obligation `id`'s plan on `today` ([`signing_office`]; the obligation's
/// recipient when the coordinating office closed without one successor): the head of a printed matrix or
/// consolidation names the same office as the letters of that day.
pub fn signing_office_of(
    conn: &mut AnyConnection,
    id: i64,
    today: chrono::NaiveDate,
) -> ServiceResult<String> {
    let (obligation, plan) = store::obligations::find_with_plan(conn, id)?
        .ok_or_else(|| ServiceError::not_found("obligation", id))?;
    let unit = |conn: &mut AnyConnection, id: i64| {
        store::units::find(conn, id)?
            .ok_or_else(|| ServiceError::data(format!("unit {id} vanished")))
    };
    let coordinator = unit(conn, plan.coordinator_id)?;
    let recipient = unit(conn, obligation.recipient_id)?;
    Ok(signing_office(conn, coordinator, &recipient, today)?.name)
}

/// A unit's time zone, or unusable data.
pub fn zone(unit: &UnitRow) -> ServiceResult<Tz> {
    unit.time_zone.parse().map_err(|_| {
        ServiceError::data(format!(
            "unit {} has time zone `{}`",
            unit.code, unit.time_zone
        ))
    })
}

/// The link a unit's letter carries to `path` (its filing form, its receipt): a filing link's token of its own
/// (30 days, that unit only), through the landing page that exchanges it for a session. None without
/// `public_url`.
pub fn unit_link(
    conn: &mut AnyConnection,
    unit_id: i64,
    path: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> ServiceResult<Option<String>> {
    let Some(base) = crate::mail::public_url() else {
        return Ok(None);
    };
    let secret = super::tokens::filing_link(conn, unit_id, now)?;
    let to: String = form_urlencoded::byte_serialize(path.as_bytes()).collect();
    Ok(Some(format!("{base}/l/{secret}?to={to}")))
}

/// The link an office's letter carries to `path` (it signs in as usual). None without `public_url`.
pub fn office_link(path: &str) -> Option<String> {
    crate::mail::public_url().map(|base| format!("{base}{path}"))
}
