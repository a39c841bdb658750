//! Email: templates (minijinja files under config/templates/<lang>/) rendered into outbox rows.
//!
//! Every email is first a row of `outbox`, written in the transaction of the change that caused it, with a
//! dedupe key (one email per reason) and a Message-ID. Delivery (SMTP or .eml files) reads the outbox later.

pub mod transport;

use std::sync::OnceLock;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use minijinja::Environment;
use rand::distr::{Alphanumeric, SampleString};
use serde::Serialize;

use crate::store::submissions::NewEmail;
use crate::store::{self, AnyConnection, StoreError};

/// Embeds the subject, text and HTML parts of each named template in each language.
macro_rules! templates {
    ($($lang:literal: [$($name:literal),*]),* $(,)?) => {
        &[$($(
            (concat!($lang, "/", $name, ".subject"),
             include_str!(concat!("../../config/templates/", $lang, "/", $name, ".subject"))),
            (concat!($lang, "/", $name, ".txt"),
             include_str!(concat!("../../config/templates/", $lang, "/", $name, ".txt"))),
            (concat!($lang, "/", $name, ".html"),
             include_str!(concat!("../../config/templates/", $lang, "/", $name, ".html"))),
        )*)*]
    };
}

/// The templates, embedded so the binary runs from any directory.
const TEMPLATES: &[(&str, &str)] = templates![
    "vi": ["reminder", "escalation", "digest", "receipt", "returned"],
    "en": ["reminder", "escalation", "digest", "receipt", "returned"],
];

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        // minijinja escapes HTML in templates whose name ends in .html, and nothing in the others.
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .expect("built-in templates parse");
        }
        env
    })
}

/// A rendered email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Renders template `name` in `language` (falling back to Vietnamese) with `context`.
pub fn render<C: Serialize>(
    language: &str,
    name: &str,
    context: &C,
) -> Result<Rendered, StoreError> {
    let language = if language == "en" { "en" } else { "vi" };
    let env = environment();
    let part = |ext: &str| -> Result<String, StoreError> {
        env.get_template(&format!("{language}/{name}.{ext}"))
            .and_then(|t| t.render(context))
            .map_err(|e| StoreError::Corrupt(format!("template {language}/{name}.{ext}: {e:#}")))
    };
    Ok(Rendered {
        subject: part("subject")?.trim().to_owned(),
        text: part("txt")?,
        html: part("html")?,
    })
}

/// Queues an email in the current transaction. Returns false (and queues nothing) when there is no recipient.
pub fn queue(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    dedupe_key: &str,
    to: &[String],
    cc: &[String],
    email: &Rendered,
) -> Result<bool, StoreError> {
    if to.is_empty() && cc.is_empty() {
        tracing::warn!(
            dedupe_key,
            "email not queued: the unit has no contact address"
        );
        return Ok(false);
    }
    let message_id = format!(
        "<{}.{}@hanbao>",
        dedupe_key.replace(|c: char| !c.is_ascii_alphanumeric(), "-"),
        Alphanumeric.sample_string(&mut rand::rng(), 12)
    );
    let recipients = store::to_json(&serde_json::json!({ "to": to, "cc": cc }));
    store::submissions::insert_email(
        conn,
        &NewEmail {
            dedupe_key,
            message_id: &message_id,
            recipients: &recipients,
            subject: &email.subject,
            text_body: &email.text,
            html_body: &email.html,
            next_attempt_at: now.into(),
            created_at: now.into(),
        },
    )?;
    Ok(true)
}

/// A date in words: "ngày 02 tháng 12 năm 2024" / "2 December 2024".
pub fn date_words(language: &str, date: NaiveDate) -> String {
    if language == "en" {
        date.format("%-d %B %Y").to_string()
    } else {
        format!(
            "ngày {:02} tháng {:02} năm {}",
            date.day(),
            date.month(),
            date.year()
        )
    }
}

/// A positive duration in words, to the minute: "2 ngày 3 giờ 5 phút" / "2 days 3 hours 5 minutes".
pub fn duration_words(language: &str, seconds: i64) -> String {
    let minutes = (seconds.max(0) + 59) / 60;
    let (days, hours, mins) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    let names: [(&str, &str); 3] = if language == "en" {
        [("day", "days"), ("hour", "hours"), ("minute", "minutes")]
    } else {
        [("ngày", "ngày"), ("giờ", "giờ"), ("phút", "phút")]
    };
    let parts: Vec<String> = [days, hours, mins]
        .into_iter()
        .zip(names)
        .filter(|(n, _)| *n > 0)
        .map(|(n, (one, many))| format!("{n} {}", if n == 1 { one } else { many }))
        .collect();
    if parts.is_empty() {
        format!("0 {}", names[2].1)
    } else {
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        let d = NaiveDate::from_ymd_opt(2024, 12, 2).unwrap();
        assert_eq!(date_words("vi", d), "ngày 02 tháng 12 năm 2024");
        assert_eq!(date_words("en", d), "2 December 2024");
        assert_eq!(
            duration_words("en", 2 * 86400 + 3 * 3600 + 300),
            "2 days 3 hours 5 minutes"
        );
        assert_eq!(duration_words("vi", 3600), "1 giờ");
        assert_eq!(duration_words("en", 1), "1 minute");
    }

    #[test]
    fn digests_render_in_both_languages_with_counts_of_the_rest() {
        let line = serde_json::json!({
            "unit": "UBND <B>", "unit_code": "B", "obligation": "Báo cáo năm", "period": "2030",
            "last_day_words": "2 December 2030", "due_at": "2030-12-03 00:00", "overdue_words": "6 days",
            "received_at": "2030-11-20 10:00", "version": 2, "on_time": false,
        });
        let context = serde_json::json!({
            "unit": "Sở", "slot_words": "25 November 2030", "now": "2030-11-25 08:00", "since": "2030-11-18 08:00",
            "soon_days": 14, "overdue_count": 51, "overdue_more": 50, "overdue": [line],
            "soon_count": 0, "soon_more": 0, "soon": [], "returned_count": 0, "returned_more": 0, "returned": [],
            "received_count": 1, "received_more": 0,
            "received": [line],
        });
        let en = render("en", "digest", &context).unwrap();
        assert_eq!(
            en.subject,
            "[hanbao] Reporting digest, 25 November 2030: 51 overdue, 0 due soon, 1 received"
        );
        assert!(en.text.contains(
            "OVERDUE (51)\n- UBND <B>: Báo cáo năm, period 2030 — due by the end of 2 December 2030, overdue by 6 days\n- … and 50 more.\n"
        ), "{}", en.text);
        assert!(
            en.text.contains("DUE IN THE NEXT 14 DAYS (0)\n- None.\n\n"),
            "{}",
            en.text
        );
        assert!(
            en.text
                .contains("version 2, received 2030-11-20 10:00 (late)\n"),
            "{}",
            en.text
        );
        assert!(en.html.contains("UBND &lt;B&gt;"));
        let vi = render("vi", "digest", &context).unwrap();
        assert!(vi.subject.contains("51 quá hạn, 0 sắp đến hạn, 1 đã nhận"));
        assert!(vi.text.contains("- … và 50 báo cáo khác.\n"), "{}", vi.text);
    }

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let context = serde_json::json!({
            "unit": "A & B <script>", "obligation": "o", "period": "2024", "plan": "p", "comment": "c",
            "submission_id": 1, "version": 2,
        });
        let email = render("en", "returned", &context).unwrap();
        assert!(email.html.contains("A &amp; B &lt;script&gt;"));
        assert!(email.text.contains("A & B <script>"));
        assert!(email.subject.starts_with("[hanbao] Report returned: o"));
    }
}
