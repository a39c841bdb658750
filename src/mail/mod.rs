//! Email: templates (minijinja files under config/templates/<lang>/) rendered into outbox rows.
//!
//! Every email is first a row of `outbox`, written in the transaction of the change that caused it, with a
//! dedupe key (one email per reason) and a Message-ID. Delivery (SMTP or .eml files) reads the outbox later.

pub mod transport;
pub mod words;

pub use words::{date_words, duration_words};

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use minijinja::Environment;
use rand::distr::{Alphanumeric, SampleString};
use serde::Serialize;

use crate::store::outbox::{NewEmail, Recipients};
use crate::store::{self, AnyConnection, StoreError, TextJson};

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
    "vi": ["reminder", "escalation", "overdue_list", "digest", "receipt", "returned", "calendar", "failed_emails"],
    "en": ["reminder", "escalation", "overdue_list", "digest", "receipt", "returned", "calendar", "failed_emails"],
];

/// The variables hanbao gives each template (all parts, both languages). A replacement template may use only
/// these: checked at start, so a typo is an error then rather than a failed email at 08:00. Debug builds check
/// on every render that the code still provides exactly these, so the list cannot drift from the code.
const CONTEXT_KEYS: &[(&str, &[&str])] = &[
    // `about` (every letter about a deadline): plan_number, plan_title, plan_issued_words, obligation, wording,
    // period_words, last_day_words, recipient, filing, link (with `public_url`: the page, for a unit with its
    // own filing link), office {name, address, phone, email}.
    (
        "reminder",
        &["to", "about", "unit", "days_left", "notice_number"],
    ),
    (
        "escalation",
        &["to", "about", "unit", "days_late", "notices_before"],
    ),
    // units: [{name, days_late, notices_sent, phone, email}]
    ("overdue_list", &["to", "about", "count", "units"]),
    (
        "digest",
        &[
            "unit",
            "slot_words",
            "now",
            "since",
            "soon_days",
            "overdue_count",
            "overdue_more",
            "overdue",
            "soon_count",
            "soon_more",
            "soon",
            "returned_count",
            "returned_more",
            "returned",
            "received_count",
            "received_more",
            "received",
        ],
    ),
    (
        "receipt",
        &[
            "to",
            "about",
            "unit",
            "version",
            "received_words",
            "on_time",
            "lateness_words",
            "on_behalf",
            "received_on_words",
            "document_ref",
        ],
    ),
    ("returned", &["to", "about", "unit", "version", "comment"]),
    // Once a year to the operators: next year's holidays are missing from a calendar.
    ("calendar", &["calendar", "code", "year"]),
    // Daily to the operators when emails failed for good: emails [{subject, to, created_words, error}].
    ("failed_emails", &["now_words", "count", "emails", "more"]),
];

fn context_keys(kind: &str) -> &'static [&'static str] {
    CONTEXT_KEYS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(&[], |(_, keys)| keys)
}

static PUBLIC_URL: OnceLock<Option<String>> = OnceLock::new();

/// Where people reach the pages (`public_url`), for the links in letters; call once, at start (as
/// [`use_templates_from`]). Never set, letters carry no link.
pub fn set_public_url(url: Option<String>) {
    let _ = PUBLIC_URL.set(url);
}

/// The pages' address, when the configuration gives one.
pub fn public_url() -> Option<&'static str> {
    PUBLIC_URL.get().and_then(|u| u.as_deref())
}

static ENV: OnceLock<Environment<'static>> = OnceLock::new();

fn environment() -> &'static Environment<'static> {
    ENV.get_or_init(|| build_environment(&[]).expect("built-in templates parse"))
}

/// The templates with `overrides` (name, source) in place of the built-in ones of the same name.
fn build_environment(overrides: &[(&str, &'static str)]) -> Result<Environment<'static>, String> {
    // minijinja escapes HTML in templates whose name ends in .html, and nothing in the others.
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    for (name, builtin) in TEMPLATES {
        let source = overrides
            .iter()
            .find(|(n, _)| n == name)
            .map_or(*builtin, |(_, s)| *s);
        env.add_template(name, source)
            .map_err(|e| format!("template {name}: {e:#}"))?;
    }
    Ok(env)
}

/// Uses the templates of `<dir>/templates/<lang>/<name>.<part>` instead of the built-in ones of the same name
/// (`HANBAO_CONFIG_DIR`); call once, at start, before anything is rendered. A file that does not parse, or
/// whose name is not one of hanbao's templates (a typo would otherwise be silently ignored), is an error.
/// Returns how many templates were replaced.
pub fn use_templates_from(dir: &std::path::Path) -> Result<usize, String> {
    let root = dir.join("templates");
    if !root.is_dir() {
        return Ok(0);
    }
    let mut overrides: Vec<(&str, &'static str)> = Vec::new();
    // Hidden entries (.gitkeep, editor swap files, a Kubernetes ConfigMap's ..data) and files that are not
    // template parts (backups such as reminder.txt~) are passed over; a template part with an unknown name is not.
    let visible = |path: &std::path::Path| {
        path.file_name()
            .is_some_and(|n| !n.to_string_lossy().starts_with('.'))
    };
    let part = |path: &std::path::Path| {
        path.extension()
            .is_some_and(|e| e == "subject" || e == "txt" || e == "html")
    };
    let entries = |dir: &std::path::Path| -> Result<Vec<std::path::PathBuf>, String> {
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
            paths.push(entry.map_err(|e| format!("{}: {e}", dir.display()))?.path());
        }
        Ok(paths)
    };
    for lang in entries(&root)? {
        // `pages/` holds the web pages' templates, which are not emails (`http::pages::use_templates_from`).
        if !visible(&lang) || !lang.is_dir() || lang.file_name().is_some_and(|n| n == "pages") {
            continue;
        }
        for path in entries(&lang)? {
            if !visible(&path) || !path.is_file() || !part(&path) {
                continue;
            }
            let name = path
                .strip_prefix(&root)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            let Some((known, _)) = TEMPLATES.iter().find(|(n, _)| *n == name) else {
                return Err(format!(
                    "{} is not one of hanbao's templates (<vi|en>/<reminder|escalation|overdue_list|digest|receipt|returned|calendar|failed_emails>.<subject|txt|html>)",
                    path.display()
                ));
            };
            let source =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            // Read once at start and kept for the life of the process.
            overrides.push((known, Box::leak(source.into_boxed_str())));
        }
    }
    let env = build_environment(&overrides)?;
    let globals: Vec<&str> = env.globals().map(|(name, _)| name).collect();
    for (name, _) in &overrides {
        let kind = name
            .split_once('/')
            .and_then(|(_, file)| file.split_once('.'))
            .map_or("", |(kind, _)| kind);
        let provided = context_keys(kind);
        let template = env
            .get_template(name)
            .map_err(|e| format!("template {name}: {e:#}"))?;
        let mut unknown: Vec<String> = template
            .undeclared_variables(false)
            .into_iter()
            .filter(|v| !provided.contains(&v.as_str()) && !globals.contains(&v.as_str()))
            .collect();
        unknown.sort();
        if !unknown.is_empty() {
            return Err(format!(
                "{}: uses {}, which hanbao does not give {kind} templates (it gives: {})",
                root.join(name).display(),
                unknown
                    .iter()
                    .map(|v| format!("`{v}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                provided.join(", ")
            ));
        }
    }
    ENV.set(env)
        .map_err(|_| "templates were already in use when the overrides were loaded".to_owned())?;
    Ok(overrides.len())
}

/// A rendered email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A template that failed to render: an operator's replacement template that uses a variable wrongly, say.
#[derive(Debug, thiserror::Error)]
#[error("template {template}: {cause}")]
pub struct RenderError {
    /// `<language>/<name>.<part>`, e.g. `vi/reminder.html`.
    pub template: String,
    pub cause: String,
}

/// Renders template `name` in `language` (falling back to Vietnamese) with `context`.
pub fn render<C: Serialize>(
    language: &str,
    name: &str,
    context: &C,
) -> Result<Rendered, RenderError> {
    let language = if language == "en" { "en" } else { "vi" };
    #[cfg(debug_assertions)]
    if let Ok(serde_json::Value::Object(given)) = serde_json::to_value(context) {
        let mut given: Vec<&str> = given.keys().map(String::as_str).collect();
        let mut listed = context_keys(name).to_vec();
        given.sort_unstable();
        listed.sort_unstable();
        debug_assert_eq!(
            given, listed,
            "mail::CONTEXT_KEYS for {name} is out of date"
        );
    }
    let env = environment();
    let part = |ext: &str| -> Result<String, RenderError> {
        let template = format!("{language}/{name}.{ext}");
        env.get_template(&template)
            .and_then(|t| t.render(context))
            .map_err(|e| RenderError {
                template,
                cause: format!("{e:#}"),
            })
    };
    Ok(Rendered {
        subject: part("subject")?.trim().to_owned(),
        text: part("txt")?,
        html: part("html")?,
    })
}

/// An email decided and rendered, not yet queued.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// One email per reason: a second one with the same key is never queued.
    pub dedupe_key: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub email: Rendered,
    /// The sender's display name: the coordinating office the email speaks for (the address is `mail_from`'s).
    pub sender: Option<String>,
}

/// Queues an email in the current transaction. Returns false (and queues nothing) when there is no recipient.
pub fn queue(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    email: &Outgoing,
) -> Result<bool, StoreError> {
    let Some(envelope) = Envelope::new(&email.dedupe_key, &email.to, &email.cc) else {
        return Ok(false);
    };
    store::outbox::insert_email(conn, &envelope.row(email, now))?;
    Ok(true)
}

/// Queues many emails in the current transaction, in multi-row INSERTs (the notice tick's batches). Emails
/// without a recipient are left out, like [`queue`] does; returns how many were queued.
pub fn queue_many(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    emails: &[Outgoing],
) -> Result<usize, StoreError> {
    let envelopes: Vec<(&Outgoing, Envelope)> = emails
        .iter()
        .filter_map(|o| Envelope::new(&o.dedupe_key, &o.to, &o.cc).map(|e| (o, e)))
        .collect();
    let rows: Vec<NewEmail<'_>> = envelopes.iter().map(|(o, e)| e.row(o, now)).collect();
    let queued = store::outbox::insert_emails(conn, &rows)?;
    if queued < rows.len() {
        tracing::warn!(
            skipped = rows.len() - queued,
            "emails not queued: their dedupe key was queued before"
        );
    }
    Ok(queued)
}

/// What the outbox row needs besides the rendered email: a Message-ID and the recipients as JSON.
struct Envelope {
    message_id: String,
    recipients: Recipients,
}

impl Envelope {
    /// None when there is nobody to write to (the unit has no contact address).
    fn new(dedupe_key: &str, to: &[String], cc: &[String]) -> Option<Self> {
        if to.is_empty() && cc.is_empty() {
            tracing::warn!(
                dedupe_key,
                "email not queued: the unit has no contact address"
            );
            return None;
        }
        // The local part only: the transport adds `@` and the domain of `mail_from` when it sends.
        let message_id = format!(
            "{}.{}",
            dedupe_key.replace(|c: char| !c.is_ascii_alphanumeric(), "-"),
            Alphanumeric.sample_string(&mut rand::rng(), 12)
        );
        let recipients = Recipients {
            to: to.to_vec(),
            cc: cc.to_vec(),
        };
        Some(Self {
            message_id,
            recipients,
        })
    }

    fn row<'a>(&'a self, outgoing: &'a Outgoing, now: DateTime<Utc>) -> NewEmail<'a> {
        NewEmail {
            dedupe_key: &outgoing.dedupe_key,
            message_id: &self.message_id,
            recipients: TextJson(&self.recipients),
            subject: &outgoing.email.subject,
            text_body: &outgoing.email.text,
            html_body: &outgoing.email.html,
            next_attempt_at: now.into(),
            created_at: now.into(),
            sender_name: outgoing.sender.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_render_in_both_languages_with_counts_of_the_rest() {
        let line = serde_json::json!({
            "unit": "UBND <B>", "unit_code": "B", "obligation": "Báo cáo năm", "period": "2030",
            "last_day_words": "2 December 2030", "overdue_words": "6 days",
            "received_at": "10:00 on 20 November 2030", "version": 2, "on_time": false,
        });
        let context = serde_json::json!({
            "unit": "Sở", "slot_words": "25 November 2030", "now": "08:00 on 25 November 2030",
            "since": "08:00 on 18 November 2030",
            "soon_days": 14, "overdue_count": 51, "overdue_more": 50, "overdue": [line],
            "soon_count": 0, "soon_more": 0, "soon": [], "returned_count": 0, "returned_more": 0, "returned": [],
            "received_count": 1, "received_more": 0,
            "received": [line],
        });
        let en = render("en", "digest", &context).unwrap();
        assert_eq!(
            en.subject,
            "Reporting digest, 25 November 2030: 51 overdue, 0 due soon, 1 received"
        );
        assert!(en.text.contains(
            "OVERDUE (51)\n- UBND <B>: Báo cáo năm, 2030 — due by the end of 2 December 2030, overdue by 6 days\n- … and 50 more.\n"
        ), "{}", en.text);
        assert!(
            en.text.contains("DUE IN THE NEXT 14 DAYS (0)\n- None.\n\n"),
            "{}",
            en.text
        );
        assert!(
            en.text
                .contains("version 2, received 10:00 on 20 November 2030 (late)\n"),
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
        let about = serde_json::json!({
            "plan_number": "1/KH", "plan_title": "p", "plan_issued_words": null, "obligation": "o",
            "wording": null, "period_words": "2024", "last_day_words": "2 December 2024", "recipient": "r",
            "filing": null, "link": null, "office": {"name": "Sở", "address": null, "phone": null, "email": null},
        });
        let context = serde_json::json!({
            "to": "A & B <script>", "about": about, "unit": "A & B <script>", "version": 2, "comment": "c",
        });
        let email = render("en", "returned", &context).unwrap();
        assert!(email.html.contains("A &amp; B &lt;script&gt;"));
        assert!(email.text.contains("A & B <script>"));
        assert_eq!(email.subject, "Please revise and send again: “o”, 2024");
    }
}
