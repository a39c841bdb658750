//! The web pages, server-rendered by the binary itself (minijinja, the engine of the emails; templates under
//! `config/templates/pages/`, CSS under `config/static/`, both embedded): sign-in with a token and a session
//! cookie, the office's overview and its units × periods matrix with downloads. Vietnamese first, English by a
//! switch remembered in a cookie (or `Accept-Language`). No script at all: plain links and forms.

mod chart;
mod consolidation;
mod deadline;
mod form;
mod late;
mod profile;
mod unit;
mod words;

use std::sync::OnceLock;

use actix_web::cookie::{time::Duration as CookieAge, Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use minijinja::{Environment, State};
use serde::Deserialize;
use serde_json::{json, Value};

use super::problem::ApiError;
use super::AppState;
use crate::domain::{CellStatus, DeadlineStatus, Period};
use crate::mail::words::{period_words, status_label};
use crate::service::compliance::ComplianceQuery;
use crate::service::sessions::{Current, Signer};
use crate::service::{self, PageParams, ServiceError, TokenKind};

const SESSION_COOKIE: &str = "hanbao_session";
const LANG_COOKIE: &str = "hanbao_lang";

/// The pages' routes (not part of the API document).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/").route(web::get().to(overview)))
        .service(
            web::resource("/sign-in")
                .route(web::get().to(sign_in_form))
                .route(web::post().to(sign_in)),
        )
        .service(web::resource("/sign-out").route(web::post().to(sign_out)))
        .service(web::resource("/language").route(web::get().to(language_switch)))
        .service(
            web::resource("/l/{secret}")
                .route(web::get().to(link_landing))
                .route(web::post().to(link_open)),
        )
        .service(web::resource("/obligations/{id}").route(web::get().to(matrix)))
        .service(web::resource("/obligations/{id}/export.{format}").route(web::get().to(export)))
        .service(
            web::resource("/obligations/{id}/consolidation")
                .route(web::get().to(consolidation::show)),
        )
        .service(web::resource("/deadlines/{id}").route(web::get().to(deadline::show)))
        .service(web::resource("/deadlines/{id}/review").route(web::post().to(deadline::review)))
        .service(web::resource("/deadlines/{id}/remind").route(web::post().to(late::remind)))
        .service(
            web::resource("/deadlines/{id}/extension").route(web::post().to(deadline::extension)),
        )
        .service(web::resource("/deadlines/{id}/waiver").route(web::post().to(deadline::waiver)))
        .service(web::resource("/late").route(web::get().to(late::show)))
        .service(web::resource("/units/{code}").route(web::get().to(profile::show)))
        .service(
            web::resource("/deadlines/{id}/file")
                .route(web::get().to(unit::file_form))
                .route(web::post().to(unit::file)),
        )
        .service(web::resource("/submissions/{id}/receipt").route(web::get().to(unit::receipt)))
        .service(web::resource("/static/hanbao.css").route(web::get().to(stylesheet)));
}

const TEMPLATES: &[(&str, &str)] = &[
    (
        "pages/base.html",
        include_str!("../../../config/templates/pages/base.html"),
    ),
    (
        "pages/sign_in.html",
        include_str!("../../../config/templates/pages/sign_in.html"),
    ),
    (
        "pages/error.html",
        include_str!("../../../config/templates/pages/error.html"),
    ),
    (
        "pages/overview.html",
        include_str!("../../../config/templates/pages/overview.html"),
    ),
    (
        "pages/matrix.html",
        include_str!("../../../config/templates/pages/matrix.html"),
    ),
    (
        "pages/unit.html",
        include_str!("../../../config/templates/pages/unit.html"),
    ),
    (
        "pages/file.html",
        include_str!("../../../config/templates/pages/file.html"),
    ),
    (
        "pages/receipt.html",
        include_str!("../../../config/templates/pages/receipt.html"),
    ),
    (
        "pages/deadline.html",
        include_str!("../../../config/templates/pages/deadline.html"),
    ),
    (
        "pages/link.html",
        include_str!("../../../config/templates/pages/link.html"),
    ),
    (
        "pages/consolidation.html",
        include_str!("../../../config/templates/pages/consolidation.html"),
    ),
    (
        "pages/late.html",
        include_str!("../../../config/templates/pages/late.html"),
    ),
    (
        "pages/profile.html",
        include_str!("../../../config/templates/pages/profile.html"),
    ),
    (
        "pages/print_head.html",
        include_str!("../../../config/templates/pages/print_head.html"),
    ),
    (
        "pages/print_sign.html",
        include_str!("../../../config/templates/pages/print_sign.html"),
    ),
];

static ENV: OnceLock<Environment<'static>> = OnceLock::new();

fn environment() -> &'static Environment<'static> {
    ENV.get_or_init(|| build_environment(&[]).expect("built-in page templates parse"))
}

/// The page templates with `overrides` (name, source) in place of the built-in ones of the same name.
fn build_environment(overrides: &[(&str, &'static str)]) -> Result<Environment<'static>, String> {
    // Autoescape: every template name ends in .html.
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
    env.add_function("t", |state: &State, text: String| -> String {
        let english = state
            .lookup("lang")
            .is_some_and(|l| l.as_str() == Some("en"));
        words::translate(english, &text)
    });
    Ok(env)
}

/// Uses the page templates of `<dir>/templates/pages/<name>.html` instead of the built-in ones of the same name
/// (`HANBAO_CONFIG_DIR`, like the email templates): an office can put its own header, its agency's name, its
/// print frame. Call once, at start, before a page is rendered. A file that does not parse, or whose name is not
/// one of hanbao's page templates, is an error (a typo would otherwise be silently ignored). Returns how many
/// templates were replaced.
pub fn use_templates_from(dir: &std::path::Path) -> Result<usize, String> {
    let root = dir.join("templates").join("pages");
    if !root.is_dir() {
        return Ok(0);
    }
    let mut overrides: Vec<(&str, &'static str)> = Vec::new();
    let entries = std::fs::read_dir(&root).map_err(|e| format!("{}: {e}", root.display()))?;
    for entry in entries {
        let path = entry
            .map_err(|e| format!("{}: {e}", root.display()))?
            .path();
        let file = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Hidden entries and backups (`.gitkeep`, `matrix.html~`) are passed over.
        if file.starts_with('.') || !file.ends_with(".html") || !path.is_file() {
            continue;
        }
        let name = format!("pages/{file}");
        let Some((known, _)) = TEMPLATES.iter().find(|(n, _)| *n == name) else {
            let names: Vec<&str> = TEMPLATES
                .iter()
                .filter_map(|(n, _)| n.strip_prefix("pages/"))
                .collect();
            return Err(format!(
                "{} is not one of hanbao's page templates ({})",
                path.display(),
                names.join(", ")
            ));
        };
        let source =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        // Read once at start and kept for the life of the process.
        overrides.push((known, Box::leak(source.into_boxed_str())));
    }
    let env = build_environment(&overrides)?;
    ENV.set(env).map_err(|_| {
        "page templates were already in use when the overrides were loaded".to_owned()
    })?;
    Ok(overrides.len())
}

/// The request's language: the switch's cookie, else the browser's first choice, else Vietnamese.
fn language(req: &HttpRequest) -> &'static str {
    let chosen = req
        .cookie(LANG_COOKIE)
        .map(|c| c.value().to_owned())
        .or_else(|| {
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .map(|l| l.trim().to_ascii_lowercase())
        });
    match chosen.as_deref() {
        Some(l) if l == "en" || l.starts_with("en-") => "en",
        _ => "vi",
    }
}

/// A page: HTML with the headers every page carries (no script may run, no framing, no Referer beyond the
/// site — a filing link must not leak through it — and no caching of what a session saw).
fn page(status: StatusCode, html: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'",
        ))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(html)
}

/// Renders `template` with the layout's context (language, who is signed in, the form secret) added.
fn render(
    req: &HttpRequest,
    status: StatusCode,
    template: &str,
    session: Option<&Current>,
    mut context: Value,
) -> HttpResponse {
    let lang = language(req);
    let other = if lang == "vi" { "en" } else { "vi" };
    // Back to this page after the switch, except from a letter's link: its token must not travel on in an
    // address (and into the request log).
    let here = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let here = if here.starts_with("/l/") { "/" } else { here };
    let back: String = form_urlencoded::byte_serialize(here.as_bytes()).collect();
    let base = json!({
        "lang": lang,
        "other_lang": other,
        "switch_url": format!("/language?to={other}&back={back}"),
        "user": session.map(|s| s.label.clone().unwrap_or_else(|| words::translate(lang == "en", "Quản trị hệ thống"))),
        "csrf": session.map(|s| s.csrf.clone()),
        "attention": Value::Null,
        "now_words": Value::Null,
    });
    if let (Value::Object(c), Value::Object(b)) = (&mut context, base) {
        for (k, v) in b {
            c.entry(k).or_insert(v);
        }
    }
    match environment()
        .get_template(template)
        .and_then(|t| t.render(&context))
    {
        Ok(html) => page(status, html),
        Err(e) => {
            tracing::error!("page {template}: {e:#}");
            page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "<!doctype html><title>hanbao</title><p>Đã có lỗi ở máy chủ. An error occurred.</p>".into(),
            )
        }
    }
}

/// A page that says what went wrong, in the user's language.
fn error_page(
    req: &HttpRequest,
    status: StatusCode,
    session: Option<&Current>,
    heading: &str,
    message: &str,
) -> HttpResponse {
    let en = language(req) == "en";
    render(
        req,
        status,
        "pages/error.html",
        session,
        json!({
            "title": words::translate(en, heading),
            "heading": words::translate(en, heading),
            "message": words::translate(en, message),
        }),
    )
}

fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// The session of the request's cookie, if it is still good.
async fn session(req: &HttpRequest, state: &web::Data<AppState>) -> Option<Current> {
    let cookie = req.cookie(SESSION_COOKIE)?.value().to_owned();
    let admin = hex(&state.admin_token_digest);
    let now = Utc::now();
    match state
        .run(move |conn| service::sessions::current(conn, &cookie, &admin, now))
        .await
    {
        Ok(current) => current,
        Err(e) => {
            tracing::error!("reading a session: {e}");
            None
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The sign-in page (anyone).
async fn sign_in_form(req: HttpRequest) -> HttpResponse {
    let en = language(&req) == "en";
    render(
        &req,
        StatusCode::OK,
        "pages/sign_in.html",
        None,
        json!({"title": words::translate(en, "Đăng nhập"), "error": Value::Null}),
    )
}

/// What a sign-in came to.
enum SignIn {
    Opened(service::sessions::Opened),
    /// A calendar feed's token: valid, but not for signing in.
    FeedOnly,
    Refused,
}

#[derive(Deserialize)]
struct SignInForm {
    #[serde(default)]
    token: String,
}

/// Signs in with a token (any role): opens a session and sets its cookie. A wrong token counts toward the
/// failed-authentication limit of the address, as on the API.
async fn sign_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<SignInForm>,
) -> HttpResponse {
    let en = language(&req) == "en";
    let ip = super::auth::client_address(&req, &state);
    let instant = std::time::Instant::now();
    if let Some(wait) = ip.and_then(|ip| state.failed_auth.blocked(ip, instant)) {
        let message = if en {
            format!("Too many failed sign-ins from this address. Try again in {wait} seconds.")
        } else {
            format!("Đăng nhập sai quá nhiều lần từ địa chỉ này. Đề nghị thử lại sau {wait} giây.")
        };
        return render(
            &req,
            StatusCode::TOO_MANY_REQUESTS,
            "pages/sign_in.html",
            None,
            json!({"title": words::translate(en, "Đăng nhập"), "error": message}),
        );
    }
    let token = form.into_inner().token.trim().to_owned();
    let digest = super::auth::digest(&token);
    let admin = bool::from(subtle::ConstantTimeEq::ct_eq(
        &digest[..],
        &state.admin_token_digest[..],
    ));
    let now = Utc::now();
    let opened = state
        .run(move |conn| {
            let signer = if admin {
                Some(Signer::Admin {
                    digest: hex(&digest),
                })
            } else {
                match service::tokens::authenticate(conn, &token, now)? {
                    // A calendar feed's token reads feeds only: it opens no session.
                    Some((_, TokenKind::Feed)) => return Ok(SignIn::FeedOnly),
                    found => found
                        .and_then(|(actor, _)| actor.token_id)
                        .map(Signer::Token),
                }
            };
            match signer {
                Some(signer) => Ok(SignIn::Opened(service::sessions::open(conn, signer, now)?)),
                None => Ok(SignIn::Refused),
            }
        })
        .await;
    match opened {
        Ok(SignIn::Opened(opened)) => signed_in(&req, opened, "/"),
        Ok(SignIn::FeedOnly) => render(
            &req,
            StatusCode::FORBIDDEN,
            "pages/sign_in.html",
            None,
            json!({
                "title": words::translate(en, "Lỗi: Đăng nhập"),
                "error": words::translate(
                    en,
                    "Mã này chỉ dùng để theo dõi lịch hạn nộp, không dùng để đăng nhập. Đề nghị dùng mã truy cập do quản trị viên cấp",
                ),
            }),
        ),
        Ok(SignIn::Refused) => {
            if let Some(ip) = ip {
                state.failed_auth.fail(ip, instant);
            }
            render(
                &req,
                StatusCode::UNAUTHORIZED,
                "pages/sign_in.html",
                None,
                json!({
                    "title": words::translate(en, "Lỗi: Đăng nhập"),
                    "error": words::translate(en, "Mã truy cập không đúng hoặc đã bị thu hồi"),
                }),
            )
        }
        Err(e) => {
            tracing::error!("sign-in: {e}");
            error_page(
                &req,
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                "Không đăng nhập được",
                "Máy chủ đang bận hoặc không kết nối được cơ sở dữ liệu. Đề nghị thử lại sau ít phút.",
            )
        }
    }
}

/// A path of this site only (never an address elsewhere), else `/`.
fn site_path(path: &str) -> String {
    // Browsers drop tabs and line breaks from addresses ("/\t/evil.example" is "//evil.example"), and a line
    // break cannot be in a header: any control character and the answer is the home page.
    if path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(char::is_control)
    {
        path.to_owned()
    } else {
        "/".to_owned()
    }
}

#[derive(Deserialize)]
struct LinkQuery {
    #[serde(default)]
    to: String,
}

/// A filing link from a letter lands here: a page with one button, since mail scanners open links and must
/// not use them up or sign anyone in (`../shared/UX.md` §6.7).
async fn link_landing(
    req: HttpRequest,
    secret: web::Path<String>,
    query: web::Query<LinkQuery>,
) -> HttpResponse {
    let en = language(&req) == "en";
    render(
        &req,
        StatusCode::OK,
        "pages/link.html",
        None,
        json!({
            "title": words::translate(en, "Gửi báo cáo của đơn vị"),
            "action": format!("/l/{}", secret.into_inner()),
            "to": site_path(&query.to),
            "error": Value::Null,
        }),
    )
}

/// The button: the link's token, if still good, opens a session for its unit, and the token leaves the
/// address bar by the redirect to the page the letter was about.
async fn link_open(
    req: HttpRequest,
    state: web::Data<AppState>,
    secret: web::Path<String>,
    form: web::Form<LinkQuery>,
) -> HttpResponse {
    let en = language(&req) == "en";
    let ip = super::auth::client_address(&req, &state);
    let instant = std::time::Instant::now();
    let refused = |status: StatusCode, message: &str| {
        render(
            &req,
            status,
            "pages/link.html",
            None,
            json!({
                "title": words::translate(en, "Liên kết không dùng được"),
                "action": "",
                "to": "/",
                "error": words::translate(en, message),
            }),
        )
    };
    if ip.is_some_and(|ip| state.failed_auth.blocked(ip, instant).is_some()) {
        return refused(
            StatusCode::TOO_MANY_REQUESTS,
            "Đã thử quá nhiều lần từ địa chỉ này. Đề nghị thử lại sau ít phút.",
        );
    }
    let (secret, now) = (secret.into_inner(), Utc::now());
    let opened = state
        .run(move |conn| {
            // Only a letter's link opens here: an API or feed token has no business in this address.
            match service::tokens::authenticate(conn, &secret, now)?
                .filter(|(actor, kind)| {
                    *kind == TokenKind::FilingLink && actor.role == service::Role::Reporter
                })
                .and_then(|(actor, _)| actor.token_id)
            {
                Some(id) => Ok(Some(service::sessions::open(conn, Signer::Token(id), now)?)),
                None => Ok(None),
            }
        })
        .await;
    match opened {
        Ok(Some(opened)) => signed_in(&req, opened, &site_path(&form.to)),
        Ok(None) => {
            if let Some(ip) = ip {
                state.failed_auth.fail(ip, instant);
            }
            refused(
                StatusCode::UNAUTHORIZED,
                "Liên kết không đúng, đã hết hạn (30 ngày) hoặc đã bị thu hồi. Đề nghị liên hệ văn phòng điều phối để nhận liên kết mới, hoặc đăng nhập bằng mã truy cập của đơn vị.",
            )
        }
        Err(e) => failure(&req, None, e),
    }
}

/// The answer of a successful sign-in: the session's cookie, and on to `to`.
fn signed_in(req: &HttpRequest, opened: service::sessions::Opened, to: &str) -> HttpResponse {
    // Secure when the pages are served over https, as `public_url` says (a header a client sends cannot say so).
    let secure = crate::mail::public_url().is_some_and(|u| u.starts_with("https://"));
    let _ = req;
    let cookie = Cookie::build(SESSION_COOKIE, opened.cookie)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(CookieAge::days(7))
        .finish();
    let mut response = redirect(to);
    if let Err(e) = response.add_cookie(&cookie) {
        tracing::error!("session cookie: {e}");
    }
    response
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// Whether a posted form carries the session's secret.
fn csrf_ok(session: &Current, given: &str) -> bool {
    bool::from(subtle::ConstantTimeEq::ct_eq(
        session.csrf.as_bytes(),
        given.as_bytes(),
    ))
}

/// Signs out (a form with the session's secret).
async fn sign_out(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    let Some(current) = session(&req, &state).await else {
        return redirect("/sign-in");
    };
    if !csrf_ok(&current, &form.csrf) {
        return forbidden(&req, &current);
    }
    let id_hash = current.id_hash.clone();
    if let Err(e) = state
        .run(move |conn| service::sessions::close(conn, &id_hash))
        .await
    {
        tracing::error!("sign-out: {e}");
    }
    let mut response = redirect("/sign-in");
    let mut gone = Cookie::build(SESSION_COOKIE, "").path("/").finish();
    gone.make_removal();
    let _ = response.add_cookie(&gone);
    response
}

/// A form that this site's pages never send (a hand-made or truncated post): refused, nothing changed.
fn bad_form(req: &HttpRequest, current: &Current) -> HttpResponse {
    error_page(
        req,
        StatusCode::BAD_REQUEST,
        Some(current),
        "Không thực hiện được",
        "Biểu mẫu đã cũ hoặc không gửi từ trang của hệ thống. Đề nghị tải lại trang và thử lại.",
    )
}

fn forbidden(req: &HttpRequest, current: &Current) -> HttpResponse {
    error_page(
        req,
        StatusCode::FORBIDDEN,
        Some(current),
        "Không thực hiện được",
        "Biểu mẫu đã cũ hoặc không gửi từ trang của hệ thống. Đề nghị tải lại trang và thử lại.",
    )
}

#[derive(Deserialize)]
struct LanguageQuery {
    to: String,
    #[serde(default)]
    back: String,
}

/// The language switch: remembered in a cookie for a year, then back to the page it came from.
async fn language_switch(query: web::Query<LanguageQuery>) -> HttpResponse {
    let lang = if query.to == "en" { "en" } else { "vi" };
    let mut response = redirect(&site_path(&query.back));
    let cookie = Cookie::build(LANG_COOKIE, lang)
        .path("/")
        .same_site(SameSite::Lax)
        .max_age(CookieAge::days(365))
        .finish();
    let _ = response.add_cookie(&cookie);
    response
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("../../../config/static/hanbao.css"))
}

/// "93,7%" (Vietnamese decimal comma) or "93.7%".
fn percent(en: bool, rate: Option<f64>) -> Option<String> {
    rate.map(|r| {
        let text = format!("{:.1}%", r * 100.0);
        if en {
            text
        } else {
            text.replace('.', ",")
        }
    })
}

/// The words of a deadline's status for its unit (`../shared/UX.md` §4.1).
fn status_words(en: bool, status: DeadlineStatus) -> (&'static str, &'static str) {
    let (symbol, vi, english) = match status {
        DeadlineStatus::Open => ("○", "Chưa đến hạn", "Not yet due"),
        DeadlineStatus::Submitted => ("✓", "Đúng hạn", "On time"),
        DeadlineStatus::Late => ("◷", "Nộp muộn", "Submitted late"),
        DeadlineStatus::Overdue => ("▲", "Quá hạn", "Overdue"),
        DeadlineStatus::Waived => ("–", "Được miễn", "Exempt"),
        DeadlineStatus::Returned => ("↩", "Bị trả lại", "Returned for correction"),
    };
    (symbol, if en { english } else { vi })
}

/// The stylesheet's class of a status: the compliance matrix's word for it.
fn css_class(status: DeadlineStatus) -> &'static str {
    CellStatus::from(status).as_str()
}

/// The pages' addresses, in one place: templates get them whole (`|safe`: made here of numbers and fixed
/// words, so nothing a user typed is in them (the link page's address holds a token from the request: escaped).
fn matrix_url(obligation: i64) -> String {
    format!("/obligations/{obligation}")
}

fn consolidation_url(obligation: i64) -> String {
    format!("/obligations/{obligation}/consolidation")
}

fn deadline_url(deadline: i64) -> String {
    format!("/deadlines/{deadline}")
}

fn file_url(deadline: i64) -> String {
    format!("/deadlines/{deadline}/file")
}

/// What a printed matrix or consolidation carries around it (Decree 30/2020/NĐ-CP, appendix I): the issuing
/// office top left, the national motto top right, the place and date line (the place left for the hand), and the
/// signature blocks at the foot.
fn print_frame(lang: &str, office: &str, today: chrono::NaiveDate) -> Value {
    json!({
        "office": office.to_uppercase(),
        "date": crate::mail::words::date_words(lang, today),
    })
}

/// Every item of a list, in one page of the largest size.
fn all() -> PageParams {
    PageParams {
        limit: Some(service::MAX_LIMIT),
        cursor: None,
    }
}

/// A day as offices type it: `2026-12-10` (a date field) or `10/12/2026`.
fn parse_day(text: &str) -> Option<chrono::NaiveDate> {
    let text = text.trim();
    text.parse()
        .ok()
        .or_else(|| chrono::NaiveDate::parse_from_str(text, "%d/%m/%Y").ok())
}

/// Who filed or reviewed, as a person reads it: a token's name ("token 7 (Văn thư phường A)" → "Văn thư phường
/// A"), never its id; a letter's filing link is the unit itself, "through the link in its letter".
fn person(filed_by: &str) -> String {
    let name = match (filed_by.find('('), filed_by.rfind(')')) {
        (Some(open), Some(close)) if filed_by.starts_with("token ") && close > open => {
            &filed_by[open + 1..close]
        }
        _ => filed_by,
    };
    if name == service::tokens::FILING_LINK_NAME {
        "Đơn vị, qua liên kết trong thư".to_owned()
    } else {
        name.to_owned()
    }
}

fn period_text(lang: &str, period: &str) -> String {
    period
        .parse::<Period>()
        .map(|p| period_words(lang, &p, None))
        .unwrap_or_else(|_| period.to_owned())
}

/// "Tổng quan": each plan the session may see, each obligation's current period, problems first.
async fn overview(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let Some(current) = session(&req, &state).await else {
        return redirect("/sign-in");
    };
    // A reporting unit lands on its own list: what it has to file.
    if current.actor.role == service::Role::Reporter {
        return unit::deadlines(&req, &state, &current).await;
    }
    let lang = language(&req);
    let en = lang == "en";
    let (actor, zone, now) = (current.actor.clone(), state.settings.time_zone, Utc::now());
    let plans = match state
        .run(move |conn| service::overview::overview(conn, &actor, now, zone))
        .await
    {
        Ok(plans) => plans,
        Err(e) => return failure(&req, Some(&current), e),
    };
    let today = now.with_timezone(&zone).date_naive();
    let mut attention = 0;
    let plans: Vec<Value> = plans
        .iter()
        .map(|plan| {
            attention += plan.overdue + plan.returned;
            json!({
                "number": plan.number,
                "title": plan.title,
                "obligations": plan.obligations.iter().map(|o| {
                    let days_left = o.last_day.map(|d| (d - today).num_days()).unwrap_or_default();
                    json!({
                        "id": o.id,
                        "title": o.title,
                        "period_words": period_text(lang, &o.period),
                        "last_day_words": o.last_day.map(|d| d.format("%d/%m/%Y").to_string()),
                        "upcoming": o.upcoming,
                        "days_left_words": if en { format!("{days_left} day(s) left") } else { format!("còn {days_left} ngày") },
                        "totals": o.totals,
                        "rate_words": if o.upcoming { None } else { percent(en, o.totals.reporting_rate) },
                        "chart": chart::on_time(
                            en,
                            &words::translate(en, "Tỷ lệ nộp đúng hạn các kỳ trước"),
                            &o.history
                                .iter()
                                .map(|(p, rate)| chart::Bar { label: chart::short_period(en, p), rate: *rate })
                                .collect::<Vec<_>>(),
                        ),
                    })
                }).collect::<Vec<_>>(),
            })
        })
        .collect();
    let title = words::translate(en, "Tổng quan");
    let now_words = now
        .with_timezone(&zone)
        .format(if en {
            "%H:%M, %d/%m/%Y"
        } else {
            "%H:%M ngày %d/%m/%Y"
        })
        .to_string();
    render(
        &req,
        StatusCode::OK,
        "pages/overview.html",
        Some(&current),
        json!({
            "title": title,
            "plans": plans,
            "attention": if attention > 0 { Some(format!("{attention} {}", words::translate(en, "cần xử lý"))) } else { None },
            "now_words": now_words,
        }),
    )
}

/// A use case's failure as a page: what the user can do about it, never a stack of internals.
fn failure(req: &HttpRequest, session: Option<&Current>, e: impl Into<ApiError>) -> HttpResponse {
    match e.into() {
        ApiError::Service(ServiceError::NotFound { .. }) => error_page(
            req,
            StatusCode::NOT_FOUND,
            session,
            "Không tìm thấy",
            "Trang này không có, hoặc tài khoản đang đăng nhập không được xem.",
        ),
        ApiError::Service(ServiceError::Validation(_)) | ApiError::Invalid(_) => error_page(
            req,
            StatusCode::UNPROCESSABLE_ENTITY,
            session,
            "Không thực hiện được",
            "Yêu cầu có giá trị chưa đúng (ví dụ: kỳ báo cáo hoặc bộ lọc). Đề nghị quay lại và kiểm tra.",
        ),
        ApiError::Service(ServiceError::Conflict { .. }) => error_page(
            req,
            StatusCode::CONFLICT,
            session,
            "Không thực hiện được",
            "Việc này không làm được ở trạng thái hiện tại (ví dụ: báo cáo đã được xem xét, có phiên bản mới hơn, hoặc đơn vị được miễn nộp kỳ này). Đề nghị tải lại trang.",
        ),
        ApiError::Service(ServiceError::Forbidden(_)) => error_page(
            req,
            StatusCode::FORBIDDEN,
            session,
            "Không được phép",
            "Tài khoản đang đăng nhập không được xem hoặc làm việc này.",
        ),
        e => {
            tracing::error!("page: {e}");
            error_page(
                req,
                StatusCode::INTERNAL_SERVER_ERROR,
                session,
                "Đã có lỗi",
                "Máy chủ chưa xử lý được yêu cầu. Đề nghị thử lại; nếu vẫn lỗi, báo bộ phận quản trị hệ thống.",
            )
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct MatrixQuery {
    #[serde(default)]
    from_period: String,
    #[serde(default)]
    to_period: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    parent: String,
    #[serde(default)]
    cursor: String,
}

impl MatrixQuery {
    fn compliance(&self, obligation: i64) -> ComplianceQuery {
        let some = |s: &String| (!s.trim().is_empty()).then(|| s.trim().to_owned());
        ComplianceQuery {
            obligation: Some(obligation),
            from_period: some(&self.from_period),
            to_period: some(&self.to_period),
            status: some(&self.status),
            parent: some(&self.parent),
            ..ComplianceQuery::default()
        }
    }

    /// The query string of these filters (for the next page and the downloads).
    fn encoded(&self, cursor: Option<&str>) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("from_period", &self.from_period),
            ("to_period", &self.to_period),
            ("status", &self.status),
            ("parent", &self.parent),
        ] {
            if !v.is_empty() {
                out.append_pair(k, v);
            }
        }
        if let Some(c) = cursor {
            out.append_pair("cursor", c);
        }
        out.finish()
    }
}

const SYMBOLS: [(CellStatus, &str); 8] = [
    (CellStatus::OnTime, "✓"),
    (CellStatus::Late, "◷"),
    (CellStatus::Overdue, "▲"),
    (CellStatus::Open, "○"),
    (CellStatus::Returned, "↩"),
    (CellStatus::Extended, "+"),
    (CellStatus::Waived, "–"),
    (CellStatus::NotExpected, "·"),
];

fn symbol(status: CellStatus) -> &'static str {
    SYMBOLS
        .iter()
        .find(|(s, _)| *s == status)
        .map_or("", |(_, sym)| sym)
}

/// "Tình hình nộp theo đơn vị và kỳ": one obligation's units × periods, with filters and pages.
async fn matrix(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<MatrixQuery>,
) -> HttpResponse {
    let Some(current) = session(&req, &state).await else {
        return redirect("/sign-in");
    };
    let lang = language(&req);
    let en = lang == "en";
    let id = id.into_inner();
    let query = query.into_inner();
    let compliance_query = query.compliance(id);
    let page_params = PageParams {
        limit: Some(100),
        cursor: (!query.cursor.is_empty()).then(|| query.cursor.clone()),
    };
    let (actor, zone, now) = (current.actor.clone(), state.settings.time_zone, Utc::now());
    let outcome = state
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
            // The obligation must be one the session may see.
            let visible = service::obligations::visible_to(conn, &actor, id)?;
            if !visible {
                return Err(ServiceError::not_found("obligation", id));
            }
            let answer = service::compliance::question(
                conn,
                &actor,
                now,
                zone,
                &compliance_query,
                &page_params,
            )
            .and_then(|q| service::compliance::compliance(conn, &q));
            Ok((obligation, plan, answer))
        })
        .await;
    let (obligation, plan, answer) = match outcome {
        Ok(found) => found,
        Err(e) => return failure(&req, Some(&current), e),
    };
    let statuses: Vec<Value> = SYMBOLS
        .iter()
        .filter(|(s, _)| *s != CellStatus::NotExpected)
        .map(|(s, sym)| json!({"code": s.as_str(), "label": status_label(lang, *s), "symbol": sym}))
        .collect();
    let mut context = json!({
        "title": obligation.title,
        "obligation": obligation.title,
        "matrix_url": matrix_url(id),
        "consolidation_url": consolidation_url(id),
        "plan": plan.0,
        "print": print_frame(lang, &plan.1, now.with_timezone(&zone).date_naive()),
        "statuses": statuses,
        "filters": {
            "from_period": query.from_period,
            "to_period": query.to_period,
            "status": query.status,
            "parent": query.parent,
        },
        "xlsx_url": format!("/obligations/{id}/export.xlsx?{}", query.encoded(None)),
        "csv_url": format!("/obligations/{id}/export.csv?{}", query.encoded(None)),
        "errors": Value::Null,
        "field_errors": {},
        "rows": [],
        "periods": [],
        "total": {"received": 0, "expected": 0, "rate": Value::Null},
        "next_url": Value::Null,
    });
    let answer = match answer {
        Ok(answer) => answer,
        Err(ServiceError::Validation(errors)) => {
            let errors: Vec<Value> = errors
                .iter()
                .map(|e| {
                    let field = e.pointer.trim_start_matches('/').to_owned();
                    json!({"field": field, "message": words::field_error(en, &field, &e.message)})
                })
                .collect();
            let field_errors: serde_json::Map<String, Value> = errors
                .iter()
                .map(|e| {
                    (
                        e["field"].as_str().unwrap_or_default().to_owned(),
                        e["message"].clone(),
                    )
                })
                .collect();
            context["errors"] = json!(errors);
            context["field_errors"] = Value::Object(field_errors);
            context["title"] = json!(format!(
                "{} {}",
                words::translate(en, "Lỗi:"),
                obligation.title
            ));
            return render(
                &req,
                StatusCode::UNPROCESSABLE_ENTITY,
                "pages/matrix.html",
                Some(&current),
                context,
            );
        }
        Err(e) => return failure(&req, Some(&current), e),
    };
    let cell_detail = |c: &service::compliance::Cell| -> Option<String> {
        match c.status {
            CellStatus::OnTime => c.received_at.map(|t| t.format("%d/%m/%Y").to_string()),
            CellStatus::Late | CellStatus::Overdue => c.days_late.map(|d| {
                if en {
                    format!("{d} day(s)")
                } else {
                    format!("{d} ngày")
                }
            }),
            CellStatus::Open | CellStatus::Extended => c
                .last_day
                .map(|d| format!("{} {}", words::translate(en, "hạn"), d.format("%d/%m/%Y"))),
            _ => None,
        }
    };
    let rows: Vec<Value> = answer
        .items
        .iter()
        .map(|row| {
            json!({
                "name": row.unit_name,
                "code": row.unit,
                "closed": row.unit_valid_until.map(|d| format!("{} {}", words::translate(en, "Hoạt động đến"), d.format("%d/%m/%Y"))),
                "received": row.totals.received,
                "expected": row.totals.expected,
                "cells": row.cells.iter().map(|c| json!({
                    "url": c.deadline_id.map(deadline_url),
                    "status": c.status.as_str(),
                    "symbol": symbol(c.status),
                    "label": status_label(lang, c.status),
                    "detail": cell_detail(c),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let periods: Vec<Value> = answer
        .totals
        .per_period
        .iter()
        .map(|p| {
            json!({
                "words": period_text(lang, &p.period),
                "received": p.rates.received,
                "expected": p.rates.expected,
                "rate": percent(en, p.rates.reporting_rate),
            })
        })
        .collect();
    let overall = &answer.totals.overall;
    context["rows"] = json!(rows);
    context["periods"] = json!(periods);
    context["total"] = json!({
        "received": overall.received,
        "expected": overall.expected,
        "rate": percent(en, overall.reporting_rate),
    });
    context["next_url"] = json!(answer
        .next_cursor
        .as_deref()
        .map(|c| format!("/obligations/{id}?{}", query.encoded(Some(c)))));
    let attention = overall.overdue + overall.returned;
    if attention > 0 {
        context["attention"] = json!(format!("{attention} {}", words::translate(en, "cần xử lý")));
    }
    render(
        &req,
        StatusCode::OK,
        "pages/matrix.html",
        Some(&current),
        context,
    )
}

/// The matrix's downloads for a session: the same filters, the whole selection, as XLSX or CSV.
async fn export(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(i64, String)>,
    query: web::Query<MatrixQuery>,
) -> HttpResponse {
    let Some(current) = session(&req, &state).await else {
        return redirect("/sign-in");
    };
    let (id, format) = path.into_inner();
    let lang = language(&req);
    let compliance_query = query.into_inner().compliance(id);
    let (actor, zone, now) = (current.actor.clone(), state.settings.time_zone, Utc::now());
    let question = state
        .run(move |conn| {
            if !service::obligations::visible_to(conn, &actor, id)? {
                return Err(ServiceError::not_found("obligation", id));
            }
            let mut q = service::compliance::question(
                conn,
                &actor,
                now,
                zone,
                &compliance_query,
                &PageParams::default(),
            )?;
            q.limit = service::MAX_LIMIT;
            Ok(q)
        })
        .await;
    let question = match question {
        Ok(q) => q,
        Err(e) => return failure(&req, Some(&current), e),
    };
    let stamp = question
        .filter
        .as_of
        .0
        .with_timezone(&zone)
        .format("%Y%m%d-%H%M")
        .to_string();
    match format.as_str() {
        "csv" => super::compliance::csv(
            &state,
            &format!("tinh-hinh-bao-cao-{stamp}.csv"),
            lang,
            question,
        ),
        "xlsx" => {
            let answer = state
                .run(move |conn| {
                    let plan = service::compliance::plan_of(conn, &question)?;
                    Ok((service::compliance::all(conn, question)?, plan))
                })
                .await;
            match answer {
                Ok((answer, plan)) => {
                    match super::compliance::workbook(lang, &answer, plan.as_deref(), zone) {
                        Ok(book) => {
                            super::export::xlsx(&format!("tinh-hinh-bao-cao-{stamp}.xlsx"), book)
                        }
                        Err(e) => failure(&req, Some(&current), ServiceError::Task(e.to_string())),
                    }
                }
                Err(e) => failure(&req, Some(&current), e),
            }
        }
        _ => failure(&req, Some(&current), ServiceError::not_found("download", 0)),
    }
}

#[cfg(test)]
mod tests {
    /// An office's replacement template is the one rendered; the others stay hanbao's.
    #[test]
    fn a_replaced_template_is_rendered() {
        let base = include_str!("../../../config/templates/pages/base.html")
            .replace("<main", "<p class=\"agency\">SỞ NỘI VỤ</p><main");
        let base: &'static str = Box::leak(base.into_boxed_str());
        let env = super::build_environment(&[("pages/base.html", base)]).unwrap();
        let html = env
            .get_template("pages/error.html")
            .unwrap()
            .render(serde_json::json!({
                "lang": "vi", "other_lang": "en", "switch_url": "/language?to=en", "user": null,
                "csrf": null, "attention": null, "now_words": null, "title": "Không tìm thấy",
                "message": "x", "heading": "Không tìm thấy",
            }))
            .unwrap();
        assert!(html.contains("<p class=\"agency\">SỞ NỘI VỤ</p>"), "{html}");
        assert!(super::build_environment(&[("pages/matrix.html", "{% if %}")]).is_err());
    }
}
