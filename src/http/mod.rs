//! The HTTP interface: actix-web server, routes under `/api/v1`, authentication and problem+json errors.

pub mod audit;
pub mod auth;
pub mod calendars;
pub mod compliance;
pub mod deadlines;
pub mod export;
pub mod extract;
pub mod feeds;
pub mod health;
pub mod obligations;
pub mod openapi;
pub mod pages;
pub mod plans;
pub mod problem;
mod request_id;
pub mod submissions;
pub mod tokens;
pub mod units;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::error::PathError;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use tracing_actix_web::TracingLogger;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::{scope, AppExt};

use crate::config::Settings;
use crate::service::ServiceResult;
use crate::store::{AnyConnection, Pool};
use problem::ApiError;

/// What every handler can reach.
pub struct AppState {
    pub pool: Pool,
    pub settings: Arc<Settings>,
    pub admin_token_digest: [u8; 32],
    pub failed_auth: auth::FailedAuthLimiter,
}

impl AppState {
    /// Runs a use case on a pooled connection on the blocking thread pool (diesel is synchronous).
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> ServiceResult<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        let result = web::block(move || -> ServiceResult<T> {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("blocking task failed: {e}")))?;
        Ok(result?)
    }
}

/// Counts each request and its latency by route pattern (never the raw path: ids would make a series each).
async fn count_request(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let started = std::time::Instant::now();
    // Only the methods hanbao serves: anybody can send a made-up one, and each would become a series.
    let method: &'static str = match req.method().as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PATCH" => "PATCH",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "OTHER",
    };
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = next.call(req).await?;
    let metrics = crate::metrics::get();
    metrics
        .http_requests
        .with_label_values(&[method, route.as_str(), response.status().as_str()])
        .inc();
    metrics
        .http_seconds
        .with_label_values(&[route.as_str()])
        .observe(started.elapsed().as_secs_f64());
    Ok(response)
}

/// A path whose segments hold a control character (percent-encoded, as `%00` or `%0A`) names no resource: 404
/// before any handler sees it, so no NUL reaches the database and no line break reaches the log.
async fn refuse_control_characters(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    if path_has_control(req.path()) {
        // A response, not an error: the outer layers (request id, metrics) see it like any other.
        return Ok(req.error_response(ApiError::NoRoute));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// A query parameter the route does not document is refused (400, naming it and the parameters the route has):
/// a typo such as `?unti=HN-BADINH` would otherwise be ignored, and the answer — every deadline — look right.
/// The OpenAPI document is the list, so a parameter cannot be served undocumented.
async fn refuse_unknown_parameters(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let known = match (
        req.match_pattern(),
        req.app_data::<web::Data<openapi::Document>>(),
    ) {
        (Some(pattern), Some(document)) => document.query_names(&pattern, req.method().as_str()),
        _ => None,
    };
    if let Some(known) = known {
        let unknown: Vec<crate::domain::FieldError> =
            form_urlencoded::parse(req.query_string().as_bytes())
                .map(|(name, _)| name.into_owned())
                .filter(|name| !known.contains(name))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .map(|name| {
                    let allowed = if known.is_empty() {
                        "this route takes no query parameters".to_owned()
                    } else {
                        format!("this route takes {}", known.join(", "))
                    };
                    crate::domain::FieldError::new(
                        format!("/{}", crate::domain::pointer_token(&name)),
                        format!("unknown query parameter; {allowed}"),
                    )
                })
                .collect();
        if !unknown.is_empty() {
            return Ok(req.error_response(ApiError::UnknownParameters(unknown)));
        }
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// Whether a raw (percent-encoded) path decodes to a control character.
fn path_has_control(path: &str) -> bool {
    let bytes = path.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    bytes.iter().enumerate().any(|(i, b)| match b {
        b'%' => match (
            bytes.get(i + 1).and_then(|h| hex(*h)),
            bytes.get(i + 2).and_then(|l| hex(*l)),
        ) {
            (Some(h), Some(l)) => {
                let decoded = h * 16 + l;
                decoded < 0x20 || decoded == 0x7f
            }
            _ => false,
        },
        b => *b < 0x20 || *b == 0x7f,
    })
}

/// A request's path and query as the log may show them: a filing link's token (`/l/<token>`) and the value of
/// every `token` query parameter (a calendar feed's) replaced by `[redacted]`.
pub(crate) fn loggable_target(target: &str) -> String {
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    };
    let mut out = match path.strip_prefix("/l/") {
        Some(rest) => match rest.split_once('/') {
            Some((_, tail)) => format!("/l/[redacted]/{tail}"),
            None => "/l/[redacted]".to_owned(),
        },
        None => path.to_owned(),
    };
    if let Some(query) = query {
        // Names and values as the server decodes them (`%74oken` is `token`); a value that is an address of a
        // letter's link (`back=%2Fl%2Fhb_…`) is a token too.
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| {
                let decoded = form_urlencoded::parse(pair.as_bytes()).next();
                match (pair.split_once('='), decoded) {
                    (Some((name, _)), Some((n, v)))
                        if n.eq_ignore_ascii_case("token") || v.starts_with("/l/") =>
                    {
                        format!("{name}=[redacted]")
                    }
                    _ => pair.to_owned(),
                }
            })
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    out
}

/// The span of each request: tracing-actix-web's fields and the token that made it (`token`, filled by the
/// authentication extractor).
struct RequestSpan;

impl tracing_actix_web::RootSpanBuilder for RequestSpan {
    /// tracing-actix-web's fields, except that `http.target` never carries a secret: the token of a filing
    /// link's address (`/l/<token>`) and of a feed's `?token=` are written as `[redacted]`.
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        use actix_web::HttpMessage;
        let route = request.match_pattern().unwrap_or_else(|| "default".into());
        let method = request.method().as_str().to_owned();
        let info = request.connection_info().clone();
        let request_id = request
            .extensions()
            .get::<tracing_actix_web::RequestId>()
            .map(ToString::to_string)
            .unwrap_or_default();
        let target = loggable_target(
            request
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or(""),
        );
        let user_agent = request
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        tracing::info_span!(
            "HTTP request",
            http.method = %method,
            http.route = %route,
            http.flavor = ?request.version(),
            http.scheme = %info.scheme(),
            http.host = %info.host(),
            http.client_ip = %info.realip_remote_addr().unwrap_or(""),
            http.user_agent = %user_agent,
            http.target = %target,
            http.status_code = tracing::field::Empty,
            otel.name = %format!("{method} {route}"),
            otel.kind = "server",
            otel.status_code = tracing::field::Empty,
            request_id = %request_id,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
            token = tracing::field::Empty,
        )
    }

    /// As tracing-actix-web's default, except that the error's message is written escaped (`Debug`): it may
    /// quote what the client sent (a unit code, a plan number), and a line break there must not forge a log line.
    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        let (status, error) = match outcome {
            Ok(response) => (
                response.status(),
                response
                    .response()
                    .error()
                    .map(actix_web::Error::as_response_error),
            ),
            Err(error) => {
                let error = error.as_response_error();
                (error.status_code(), Some(error))
            }
        };
        if let Some(error) = error {
            span.record(
                "exception.message",
                tracing::field::debug(error.to_string()),
            );
            span.record(
                "exception.details",
                tracing::field::display(format!("{error:?}")),
            );
        }
        span.record("http.status_code", status.as_u16());
        span.record(
            "otel.status_code",
            if status.is_server_error() {
                "ERROR"
            } else {
                "OK"
            },
        );
    }
}

/// How long a stopping server waits for requests under way, and then for emails being sent.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(20);

/// The running server and the port it bound (port 0 in the settings picks a free one, as tests do).
pub struct Application {
    port: u16,
    server: Server,
    pool: Pool,
}

impl Application {
    pub fn build(state: AppState) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(state.settings.listen)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", state.settings.listen))?;
        let port = listener.local_addr()?.port();
        let pool = state.pool.clone();
        let state = web::Data::new(state);
        let document = web::Data::new(openapi::Document::collect());
        let server = HttpServer::new(move || app(state.clone(), document.clone()))
            .shutdown_timeout(SHUTDOWN_GRACE.as_secs())
            // actix stops at once on SIGINT; `hanbao serve` handles both signals gracefully (`stop_on_signals`).
            .disable_signals()
            .listen(listener)?
            .run();
        Ok(Self { port, server, pool })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The application's connection pool, for the background jobs that run beside it.
    pub fn pool(&self) -> Pool {
        self.pool.clone()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    /// On SIGTERM or SIGINT (Ctrl-C), stops taking connections and lets the requests under way finish (up to
    /// [`SHUTDOWN_GRACE`]); [`Self::run_until_stopped`] then returns.
    pub fn stop_on_signals(&self) {
        let handle = self.server.handle();
        tokio::spawn(async move {
            #[cfg(unix)]
            let terminate = async {
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(mut signal) => {
                        signal.recv().await;
                    }
                    Err(_) => std::future::pending::<()>().await,
                }
            };
            #[cfg(not(unix))]
            let terminate = std::future::pending::<()>();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: stopping"),
                () = terminate => tracing::info!("SIGTERM: stopping"),
            }
            handle.stop(true).await;
        });
    }
}

/// Every route of the service: the one list, from which the OpenAPI document is collected too
/// (utoipa-actix-web), so a handler cannot be served undocumented or documented unserved.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(health::metrics)
        .service(
            scope("/api/v1")
                .service(openapi::document)
                .service(units::create)
                .service(units::list)
                .service(units::get)
                .service(feeds::unit)
                .service(units::update)
                .service(units::succeed)
                .service(plans::create)
                .service(plans::list)
                .service(plans::get)
                .service(plans::update)
                .service(obligations::create)
                .service(obligations::list)
                .service(obligations::list_all)
                .service(obligations::consolidation)
                .service(feeds::obligation)
                .service(obligations::get)
                .service(obligations::update)
                .service(deadlines::list)
                .service(compliance::compliance)
                .service(deadlines::get)
                .service(deadlines::create_event)
                .service(deadlines::list_events)
                .service(calendars::days)
                .service(calendars::put_day)
                .service(calendars::delete_day)
                .service(submissions::create)
                .service(submissions::list)
                .service(submissions::get)
                .service(submissions::review)
                .service(submissions::of_deadline)
                .service(submissions::extension)
                .service(submissions::waiver)
                .service(tokens::create)
                .service(tokens::list)
                .service(tokens::revoke)
                .service(audit::list)
                .service(audit::outbox),
        );
}

/// The application: middleware, state, the routes, and the document they make.
fn app(
    state: web::Data<AppState>,
    document: web::Data<openapi::Document>,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .wrap(actix_web::middleware::from_fn(refuse_unknown_parameters))
        .wrap(actix_web::middleware::from_fn(refuse_control_characters))
        .wrap(
            actix_web::middleware::DefaultHeaders::new()
                .add((actix_web::http::header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                // Answers carry tokens, contacts and reports: no shared or browser cache keeps them.
                .add((actix_web::http::header::CACHE_CONTROL, "no-store")),
        )
        .wrap(actix_web::middleware::from_fn(count_request))
        .wrap(actix_web::middleware::from_fn(request_id::attach))
        .wrap(TracingLogger::<RequestSpan>::new())
        .app_data(state)
        .app_data(document)
        .app_data(web::PathConfig::default().error_handler(|e, _| path_error(e).into()))
        .into_utoipa_app()
        .configure(routes)
        .into_app()
        .configure(pages::routes)
        .default_service(web::to(not_found))
}

async fn not_found(req: HttpRequest) -> HttpResponse {
    use actix_web::ResponseError;
    // A known path with an unsupported method is 405 with the methods it has (`Allow`), anything else 404.
    let Some(pattern) = req.match_pattern() else {
        return ApiError::NoRoute.error_response();
    };
    let mut response = ApiError::MethodNotAllowed.error_response();
    let methods = req
        .app_data::<web::Data<openapi::Document>>()
        .map(|document| document.methods(&pattern).join(", "))
        .unwrap_or_default();
    if let Ok(allow) = actix_web::http::header::HeaderValue::from_str(&methods) {
        response
            .headers_mut()
            .insert(actix_web::http::header::ALLOW, allow);
    }
    response
}

fn path_error(_e: PathError) -> ApiError {
    // A path segment of the wrong shape (e.g. a non-numeric id) names no resource.
    ApiError::NoRoute
}

#[cfg(test)]
mod tests {
    use super::{loggable_target, path_has_control};

    #[test]
    fn tokens_in_addresses_never_reach_the_log() {
        assert_eq!(loggable_target("/l/hb_secret123"), "/l/[redacted]");
        assert_eq!(
            loggable_target("/l/hb_secret123/x?to=%2F"),
            "/l/[redacted]/x?to=%2F"
        );
        assert_eq!(
            loggable_target("/api/v1/units/HN/deadlines.ics?lang=en&token=hb_secret&x=1"),
            "/api/v1/units/HN/deadlines.ics?lang=en&token=[redacted]&x=1"
        );
        assert_eq!(loggable_target("/?TOKEN=hb_s"), "/?TOKEN=[redacted]");
        assert_eq!(
            loggable_target("/x.ics?%74oken=hb_s"),
            "/x.ics?%74oken=[redacted]"
        );
        assert_eq!(
            loggable_target("/language?to=en&back=%2Fl%2Fhb_secret"),
            "/language?to=en&back=[redacted]"
        );
        assert_eq!(
            loggable_target("/matrix?obligation=1"),
            "/matrix?obligation=1"
        );
        assert_eq!(loggable_target("/lang/en"), "/lang/en");
    }

    #[test]
    fn control_characters_in_paths_are_seen_encoded_or_not() {
        assert!(path_has_control("/api/v1/units/HN%00"));
        assert!(path_has_control("/api/v1/units/x%0A2026"));
        assert!(path_has_control("/api/v1/units/x%7f"));
        assert!(!path_has_control("/api/v1/units/H%C3%A0-N%E1%BB%99i"));
        assert!(!path_has_control("/api/v1/units/HN-BADINH%2"));
    }
}
