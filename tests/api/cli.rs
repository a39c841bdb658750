//! The `hanbao` binary: configuration errors name their key; `migrate` prepares a database.

use std::process::Command;

pub(crate) fn hanbao(dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hanbao"));
    command
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("HANBAO_ADMIN_TOKEN");
    command
}

/// The number written right after the first `prefix` in `text` ("delivered: 9 sent" → 9).
fn number_after(text: &str, prefix: &str) -> usize {
    text.split(prefix)
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number after `{prefix}` in {text}"))
}

/// `hanbao serve` on `port` (0: any) with `token` as the admin token, its log piped for [`stderr_of`].
pub(crate) fn serve(dir: &std::path::Path, port: u16, token: &str) -> std::process::Child {
    hanbao(dir)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("HANBAO_ADMIN_TOKEN", token)
        .env("HANBAO_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// Everything a stopped server wrote to its log.
fn stderr_of(server: &mut std::process::Child) -> String {
    use std::io::Read;
    let mut log = String::new();
    server
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    log
}

/// A new data directory with the demo loaded (as of now).
fn demo_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let output = hanbao(dir.path()).arg("demo").output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    dir
}

#[test]
fn invalid_configuration_stops_with_the_key_named() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("HANBAO_TIME_ZONE", "Mars/Olympus_Mons", "time_zone"),
        (
            "DATABASE_URL",
            "mysql://root@localhost/hanbao",
            "database_url",
        ),
        ("HANBAO_LISTEN", "everywhere", "listen"),
        ("HANBAO_POOL_SIZE", "0", "pool_size"),
    ];
    for (var, value, key) in cases {
        let output = hanbao(dir.path())
            .arg("migrate")
            .env(var, value)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{var}={value} was accepted");
        assert!(
            stderr.contains(&format!("`{key}`")) && stderr.contains(var),
            "{var}: {stderr}"
        );
    }
    // Nothing was created by a refused start, not even the data directory.
    assert!(!dir.path().join("data").exists());
}

#[test]
fn migrate_creates_the_sqlite_database_under_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let output = hanbao(dir.path()).arg("migrate").output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dir.path().join("data/hanbao.sqlite3").is_file());
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
        .unwrap()
        .count();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with(&format!("{migrations} migration(s) applied")),
        "{stdout}"
    );
    let again = hanbao(dir.path()).arg("migrate").output().unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).starts_with("0 migration(s) applied"));
}

#[test]
fn help_explains_the_commands() {
    let output = Command::new(env!("CARGO_BIN_EXE_hanbao"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for word in ["serve", "migrate", "DATABASE_URL", "--config"] {
        assert!(
            help.contains(word),
            "--help does not mention {word}:\n{help}"
        );
    }
}

/// The demo loaded as if on 1 January 2025, so that its 2025 cycles are live (not history) for `tick --at`.
const DEMO_AS_OF: &str = "2025-01-01T00:00:00+07:00";

/// Loads the demo as of [`DEMO_AS_OF`] and delivers the receipts of its sample reports (as .eml files), so that
/// what a later tick sends is the tick's alone; returns how many there were.
pub(crate) fn demo_as_of(dir: &std::path::Path) -> usize {
    let loaded = hanbao(dir)
        .args(["demo", "--at", DEMO_AS_OF])
        .output()
        .unwrap();
    assert!(
        loaded.status.success(),
        "{}",
        String::from_utf8_lossy(&loaded.stderr)
    );
    let flushed = hanbao(dir)
        .args(["tick", "--at", DEMO_AS_OF])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&flushed.stdout);
    assert!(
        stdout.contains(" 0 notice(s)"),
        "nothing is due at midnight: {stdout}"
    );
    let sent = number_after(&stdout, "delivered: ");
    assert!(sent > 0, "the sample reports' receipts: {stdout}");
    sent
}

#[test]
fn demo_loads_the_seed_plans_once() {
    let dir = tempfile::tempdir().unwrap();
    let output = hanbao(dir.path()).arg("demo").output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Hà Nội 30 districts × 2022–2024, Biên Hòa 27 addressees × 1 campaign, Cao Bằng 10 × 2023–2025,
    // Thừa Thiên Huế 9 × 2025 (its plan is known from 22/12/2024 only), and Hà Nội 2025 for the 30 units that
    // succeed the districts; 8 sample reports.
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("116 units, 4 plans, 4 obligations, 186 deadlines, 8 sample reports"),
        "{stdout}"
    );
    let again = hanbao(dir.path()).arg("demo").output().unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already loaded"));
}

#[test]
fn token_create_prints_the_token_alone_on_the_last_line() {
    let dir = tempfile::tempdir().unwrap();
    let output = hanbao(dir.path())
        .args(["token", "create", "--role", "viewer", "--name", "Thanh tra"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().unwrap();
    assert!(
        last.starts_with("hb_") && last.len() > 40 && !last.contains(' '),
        "{stdout}"
    );
    let refused = hanbao(dir.path())
        .args(["token", "create", "--role", "reporter", "--unit", "NOWHERE"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("/unit"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let bad_role = hanbao(dir.path())
        .args(["token", "create", "--role", "boss"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&bad_role.stderr).contains("--role"));
}

#[test]
fn the_demo_switched_on_today_sends_no_history() {
    let dir = demo_dir();
    // Every demo plan ended by 2025: loaded now, all of it is history. Before, this tick queued 192 step-3
    // escalations for 2021-2024, 90 of them to a department that closed in 2025.
    let output = hanbao(dir.path())
        .args(["tick", "--at", "2026-12-02T08:30:00+07:00"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("0 notice(s)"), "{stdout}");
    let why = stdout
        .lines()
        .find(|l| l.starts_with("nothing to send at"))
        .unwrap_or_else(|| panic!("no explanation: {stdout}"));
    let overdue = number_after(why, ": ");
    assert!(overdue > 100, "{why}");
    assert!(why.contains("recorded as history"), "{why}");
    // Nothing at all goes out: the sample reports are 2022-2024 paper reports the office entered for districts
    // dissolved in 2025, whose mailboxes nobody reads (before, 8 receipts and a return letter went to them).
    assert!(stdout.contains("delivered: 0 sent"), "{stdout}");
    let mails = std::fs::read_dir(dir.path().join("data/mail")).map_or(0, Iterator::count);
    assert_eq!(mails, 0);
}

#[test]
fn tick_dry_run_previews_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let receipts = demo_as_of(dir.path());
    // Cao Bằng's and Huế's district plans are due "by 31/1/2025", a Tết holiday: the last day moves to Monday
    // 3/2, so the P14D reminder goes out on Tuesday 21/1 at 08:00. Older cycles were history when the demo was
    // loaded (already past due on 1/1/2025): they get no email.
    let preview = || {
        let output = hanbao(dir.path())
            .args(["tick", "--at", "2025-01-21T08:30:00+07:00", "--dry-run"])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let first = preview();
    let would: Vec<&str> = first
        .lines()
        .filter(|l| l.starts_with("would send reminder"))
        .collect();
    assert_eq!(would.len(), 19, "10 Cao Bằng and 9 Huế districts:\n{first}");
    assert!(would.iter().all(|l| l.contains("step P14D")), "{first}");
    assert_eq!(preview(), first, "a dry run changes nothing");
    let total = first
        .lines()
        .filter(|l| l.starts_with("would send"))
        .count();
    let real = hanbao(dir.path())
        .args(["tick", "--at", "2025-01-21T08:30:00+07:00"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&real.stdout);
    let queued = |prefix: &str| stdout.lines().filter(|l| l.starts_with(prefix)).count();
    assert_eq!(queued("queued reminder"), 19, "{stdout}");
    assert_eq!(
        queued("queued"),
        total,
        "the dry run announced exactly what was then sent"
    );
    assert!(
        stdout.contains(&format!("delivered: {total} sent")),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path().join("data/mail"))
            .unwrap()
            .count(),
        total + receipts
    );
}

#[test]
fn a_config_dir_replaces_templates_and_refuses_unknown_ones() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::create_dir_all(config.join("templates/vi")).unwrap();
    std::fs::write(
        config.join("templates/vi/reminder.subject"),
        "NHẮC HẠN: {{ unit }} — {{ about.obligation }} ({{ about.period_words }})\n",
    )
    .unwrap();
    // What version control and editors leave behind is passed over.
    std::fs::write(config.join("templates/.gitkeep"), "").unwrap();
    std::fs::write(config.join("templates/vi/reminder.txt~"), "{{ broken").unwrap();
    demo_as_of(dir.path());
    let output = hanbao(dir.path())
        .args(["tick", "--at", "2025-01-21T08:30:00+07:00", "--dry-run"])
        .env("HANBAO_CONFIG_DIR", &config)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let reminders: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("would send reminder"))
        .collect();
    assert!(!reminders.is_empty(), "{stdout}");
    assert!(
        reminders.iter().all(|l| l.contains(": NHẮC HẠN: ")),
        "{stdout}"
    );

    // `hanbao config` with the directory: (succeeded, standard error).
    let start = || {
        let output = hanbao(dir.path())
            .args(["--config-dir", config.to_str().unwrap(), "config"])
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };

    // A variable hanbao does not provide would fail every reminder at 08:00: refused at start instead.
    std::fs::write(
        config.join("templates/vi/reminder.txt"),
        "Kính gửi {{ unit }}, hạn {{ deadline_day }}.\n",
    )
    .unwrap();
    let (ok, stderr) = start();
    assert!(!ok);
    assert!(
        stderr.contains("`deadline_day`") && stderr.contains("days_left"),
        "{stderr}"
    );
    std::fs::write(
        config.join("templates/vi/reminder.txt"),
        "Kính gửi {{ unit }}, hạn {{ about.last_day_words }}{% for x in [1] %}{{ x }}{% endfor %}.\n",
    )
    .unwrap();
    let (ok, stderr) = start();
    assert!(ok, "{stderr}");

    // A misspelt file would otherwise be ignored without a word.
    std::fs::write(config.join("templates/vi/remider.txt"), "x").unwrap();
    let (ok, stderr) = start();
    assert!(!ok);
    assert!(stderr.contains("remider.txt"), "{stderr}");
}

#[test]
fn a_config_dir_replaces_page_templates_and_refuses_broken_ones() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::create_dir_all(config.join("templates/pages")).unwrap();
    let start = || {
        let output = hanbao(dir.path())
            .args(["--config-dir", config.to_str().unwrap(), "config"])
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    // An office's own header on every page: accepted.
    std::fs::write(
        config.join("templates/pages/base.html"),
        include_str!("../../config/templates/pages/base.html").replace(
            "<main",
            "<p class=\"agency\">SỞ NỘI VỤ THÀNH PHỐ HÀ NỘI</p>\n<main",
        ),
    )
    .unwrap();
    std::fs::write(config.join("templates/pages/.gitkeep"), "").unwrap();
    let (ok, stderr) = start();
    assert!(ok, "{stderr}");
    // A template that does not parse is refused at start, with its name.
    std::fs::write(config.join("templates/pages/matrix.html"), "{% if %}").unwrap();
    let (ok, stderr) = start();
    assert!(!ok);
    assert!(stderr.contains("pages/matrix.html"), "{stderr}");
    std::fs::remove_file(config.join("templates/pages/matrix.html")).unwrap();
    // So is a misspelt name, with the names there are.
    std::fs::write(config.join("templates/pages/matrx.html"), "x").unwrap();
    let (ok, stderr) = start();
    assert!(!ok);
    assert!(
        stderr.contains("matrx.html") && stderr.contains("matrix.html"),
        "{stderr}"
    );
}

/// `hanbao tick --at` against a real SMTP conversation: the reminders due then arrive at the server, each once,
/// and mail that the server refused while it was busy goes out when a later tick finds it accepting.
#[test]
fn tick_at_delivers_by_smtp_once() {
    use crate::sink::{Mood, Sink};
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    demo_as_of(dir.path());
    let tick = |at: &str, port: u16| {
        let output = hanbao(dir.path())
            .args(["tick", "--at", at])
            .env("HANBAO_SMTP_URL", format!("smtp://127.0.0.1:{port}"))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };

    // The server is busy at the P14D moment: everything stays queued for a retry.
    let busy = runtime.block_on(Sink::start(0, Mood::Busy));
    let first = tick("2025-01-21T08:30:00+07:00", busy.port);
    let queued = first.lines().filter(|l| l.starts_with("queued")).count();
    assert!(queued >= 19, "{first}");
    assert!(
        first.contains(&format!("delivered: 0 sent, {queued} to retry")),
        "{first}"
    );
    let port = runtime.block_on(busy.stop());

    // Back and accepting, after the backoff: the same emails arrive, and nothing new is decided.
    let sink = runtime.block_on(Sink::start(port, Mood::Accept));
    let later = tick("2025-01-21T09:30:00+07:00", sink.port);
    assert!(!later.lines().any(|l| l.starts_with("queued")), "{later}");
    assert!(
        later.contains(&format!("delivered: {queued} sent")),
        "{later}"
    );
    let received = sink.received.lock().unwrap().clone();
    assert_eq!(received.len(), queued);
    assert!(
        received
            .iter()
            .any(|m| m.contains("To: baocao.cb-") && m.contains("Subject: ")),
        "{}",
        received[0]
    );
    let again = tick("2025-01-21T10:30:00+07:00", sink.port);
    assert!(
        again.contains("delivered: 0 sent, 0 to retry, 0 failed"),
        "{again}"
    );
    assert_eq!(
        sink.received.lock().unwrap().len(),
        queued,
        "each email once"
    );
}

/// `docker compose up` starts several instances on one fresh database at once: their start-up work (migrations,
/// calendars) must not race into duplicate tables or rows.
#[test]
fn instances_starting_together_on_postgres_prepare_the_database_once() {
    let Ok(admin) = std::env::var("HANBAO_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but HANBAO_TEST_POSTGRES_URL is not set: this PostgreSQL test cannot be skipped in CI"
        );
        eprintln!("PostgreSQL skipped: set HANBAO_TEST_POSTGRES_URL to run this test");
        return;
    };
    let database = crate::helpers::PgDatabase::create(&admin);
    let dir = tempfile::tempdir().unwrap();
    let starts: Vec<_> = (0..3)
        .map(|_| {
            hanbao(dir.path())
                .arg("migrate")
                .env("DATABASE_URL", &database.url)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<_> = starts
        .into_iter()
        .map(|child| child.wait_with_output().unwrap())
        .collect();
    for output in &outputs {
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let applied: usize = outputs
        .iter()
        .map(|o| {
            let out = String::from_utf8_lossy(&o.stdout);
            out.split_whitespace()
                .next()
                .unwrap()
                .parse::<usize>()
                .unwrap()
        })
        .sum();
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .unwrap()
        .count();
    assert!(migrations >= 4);
    assert_eq!(
        applied, migrations,
        "each migration applied by exactly one instance"
    );
}

#[test]
fn config_says_where_the_generated_admin_token_is() {
    let dir = tempfile::tempdir().unwrap();
    let show = || {
        let output = hanbao(dir.path()).arg("config").output().unwrap();
        assert!(output.status.success());
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        stdout
            .lines()
            .find(|l| l.starts_with("admin_token"))
            .unwrap()
            .to_owned()
    };
    assert!(
        show().contains("(not set: `hanbao serve` generates one into data"),
        "{}",
        show()
    );
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::write(
        dir.path().join("data/admin.token"),
        "hb_admin_0123456789abcdef\n",
    )
    .unwrap();
    let line = show();
    assert!(line.contains("(generated, in data"), "{line}");
    assert!(
        !line.contains("hb_admin_"),
        "the secret is never printed: {line}"
    );
    let set = hanbao(dir.path())
        .arg("config")
        .env("HANBAO_ADMIN_TOKEN", "a-token-of-the-operators-own")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&set.stdout);
    assert!(
        stdout.contains("admin_token        = (set, hidden)"),
        "{stdout}"
    );
}

/// `HANBAO_LOG_FORMAT=json`: every log line is one JSON object a collector can read (issue 11 §1.3).
#[test]
fn json_logs_are_one_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let output = hanbao(dir.path())
        .arg("demo")
        .env("HANBAO_LOG_FORMAT", "json")
        .env("HANBAO_LOG", "info")
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["message"] == "applied migrations" && l["level"] == "INFO"),
        "{stderr}"
    );
}

/// No request can forge a log line: a line break or a NUL sent percent-encoded in a path, a query or a JSON key is
/// written escaped, never raw (issue 11 §1.3).
#[test]
fn requests_cannot_forge_log_lines() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = serve(dir.path(), port, "log-test-token-0123456789");
    let send = |request: String| -> Option<String> {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
        stream.write_all(request.as_bytes()).ok()?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).ok()?;
        Some(answer)
    };
    let get = |target: &str| {
        format!(
            "GET {target} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer log-test-token-0123456789\r\nConnection: close\r\n\r\n"
        )
    };
    let started = std::time::Instant::now();
    while send(get("/healthz")).is_none() {
        assert!(started.elapsed().as_secs() < 30, "the server did not start");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let forged = "%0A2026-12-01T13:00:00.000000Z%20ERROR%20hanbao::forged%00";
    for target in [
        format!("/api/v1/units/x{forged}"),
        format!("/api/v1/deadlines?period=2024{forged}"),
        format!("/nowhere{forged}"),
    ] {
        let answer = send(get(&target)).unwrap();
        assert!(answer.starts_with("HTTP/1.1 4"), "{target}: {answer}");
    }
    let post = |path: &str, body: &str| {
        send(format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer log-test-token-0123456789\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ))
        .unwrap()
    };
    let answer = post(
        "/api/v1/units",
        r#"{"code":"X","name":"x","kind":"ward","a\n2026-12-01T13:00:00.000000Z ERROR hanbao::forged\u0000":1}"#,
    );
    assert!(answer.starts_with("HTTP/1.1 422"), "{answer}");
    // A name is one line: a plan number with a line break is refused at input (error messages that quote a value
    // are written escaped as well, should one ever hold a line break).
    let plan = r#"{"number":"1\n2026-12-01T13:00:00.000000Z ERROR hanbao::forged","title":"t","coordinator":"S",
        "issued_on":"2022-10-18","starts_on":"2022-01-01","ends_on":"2025-12-31"}"#;
    let answer = post("/api/v1/plans", plan);
    assert!(
        answer.starts_with("HTTP/1.1 422") && answer.contains("/number"),
        "{answer}"
    );
    server.kill().unwrap();
    server.wait().unwrap();
    let log = stderr_of(&mut server);
    assert!(
        log.contains("hanbao::forged"),
        "the requests were logged: {log}"
    );
    // Who made a request is in its line: the token's id, or "admin", never the secret.
    assert!(log.contains(r#"token="admin""#), "{log}");
    assert!(!log.contains("log-test-token-0123456789"), "{log}");
    for line in log.lines() {
        assert!(
            !line.starts_with("2026-12-01T13:00:00") && !line.contains('\0'),
            "forged: {line}"
        );
    }
}

/// `hanbao backup FILE`: a copy of the SQLite database that opens as any hanbao database, with everything in it;
/// an existing file is never overwritten (issue 11 §2).
#[test]
fn backup_copies_the_sqlite_database_and_never_overwrites() {
    use diesel::{Connection, RunQueryDsl};
    let dir = demo_dir();
    let copy = dir.path().join("copy.sqlite3");
    let output = hanbao(dir.path())
        .args(["backup", copy.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let count = |file: &std::path::Path, table: &str| {
        let mut c = diesel::SqliteConnection::establish(file.to_str().unwrap()).unwrap();
        diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
            .get_result::<Count>(&mut c)
            .unwrap()
            .n
    };
    let original = dir.path().join("data/hanbao.sqlite3");
    for table in ["units", "deadlines", "submissions", "audit_log"] {
        assert_eq!(count(&copy, table), count(&original, table), "{table}");
    }
    assert_eq!(count(&copy, "units"), 116);
    let again = hanbao(dir.path())
        .args(["backup", copy.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
    // Run from a directory with no database: refused, and nothing is created there.
    let elsewhere = tempfile::tempdir().unwrap();
    let lost = hanbao(elsewhere.path())
        .args(["backup", "copy.sqlite3"])
        .output()
        .unwrap();
    assert!(!lost.status.success());
    assert!(String::from_utf8_lossy(&lost.stderr).contains("no database at"));
    assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
}

/// Ctrl-C (SIGINT) stops `hanbao serve` as gracefully as SIGTERM (actix alone would stop at once).
#[test]
fn ctrl_c_stops_serve_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = serve(dir.path(), 0, "sigint-test-token-0123456789");
    // Give it time to start (migrations on a new SQLite file take well under a second).
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert!(Command::new("sh")
        .args(["-c", &format!("kill -INT {}", server.id())])
        .status()
        .unwrap()
        .success());
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed().as_secs() < 30,
            "still running after SIGINT"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let log = stderr_of(&mut server);
    assert!(status.success(), "{status}: {log}");
    assert!(
        log.contains("SIGINT: stopping") && log.contains("hanbao stopped"),
        "{log}"
    );
}

/// A reminder as it sits in the outbox: its text and HTML parts.
#[derive(diesel::QueryableByName)]
pub(crate) struct Letter {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub text_body: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub html_body: String,
}

/// Runs the tick of 18/11/2025 on the demo of `dir` with `public_url` = `public`, and returns the reminders it
/// queued (each with a filing link), their links' expiry moved into the test's present (the tick wrote them in
/// 2025; the expiry itself is the rule of any token, tested with the API).
pub(crate) fn reminders_with_links(dir: &std::path::Path, public: &str) -> Vec<Letter> {
    use diesel::{Connection, RunQueryDsl};
    let ticked = hanbao(dir)
        .args(["tick", "--at", "2025-11-18T08:30:00+07:00"])
        .env("HANBAO_PUBLIC_URL", public)
        .output()
        .unwrap();
    assert!(
        ticked.status.success(),
        "{}",
        String::from_utf8_lossy(&ticked.stderr)
    );
    let mut db =
        diesel::SqliteConnection::establish(dir.join("data/hanbao.sqlite3").to_str().unwrap())
            .unwrap();
    diesel::sql_query(
        "UPDATE tokens SET expires_at = '2999-01-01T00:00:00.000000Z' WHERE expires_at IS NOT NULL",
    )
    .execute(&mut db)
    .unwrap();
    diesel::sql_query(
        "SELECT text_body, html_body FROM outbox WHERE dedupe_key LIKE 'reminder:%' ORDER BY id",
    )
    .load(&mut db)
    .unwrap()
}

/// With `public_url`, a unit's reminder carries a link of its own: the link lands on a page with one button
/// (mail scanners open links), the button signs the unit in and takes it, the token out of the address bar, to
/// the deadline's filing form (issue 13 §2).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reminder_links_the_unit_to_its_form() {
    let dir = tempfile::tempdir().unwrap();
    demo_as_of(dir.path());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let public = format!("http://127.0.0.1:{port}");
    let letters = reminders_with_links(dir.path(), &public);
    let text = &letters[0].text_body;
    let link = text
        .split_whitespace()
        .find(|w| w.starts_with(&format!("{public}/l/")))
        .unwrap_or_else(|| panic!("no link in {text}"))
        .to_owned();
    assert!(text.contains("Gửi báo cáo trực tuyến tại:"), "{text}");
    assert!(text.contains("dùng được trong 30 ngày"));
    // The HTML part links the same page (minijinja escapes the slashes, which a mail client reads back).
    let secret = link.split("/l/").nth(1).unwrap().split('?').next().unwrap();
    assert!(letters[0].html_body.contains(secret) && letters[0].html_body.contains("<a href="));
    // Each letter its own link.
    let second = letters[1]
        .text_body
        .split_whitespace()
        .find(|w| w.contains("/l/"))
        .unwrap();
    assert_ne!(second, link);

    let mut server = serve(dir.path(), port, "link-test-token-0123456789");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    while client
        .get(format!("{public}/healthz"))
        .send()
        .await
        .is_err()
    {
        assert!(started.elapsed().as_secs() < 30, "the server did not start");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Opening the link (as a mail scanner would) signs nobody in: a page with one button.
    let landing = client.get(&link).send().await.unwrap();
    assert_eq!(landing.status(), reqwest::StatusCode::OK);
    assert!(landing.headers().get("set-cookie").is_none());
    let page = landing.text().await.unwrap();
    assert!(
        page.contains("Tiếp tục") && page.contains("method=\"post\""),
        "{page}"
    );
    // The button: a session, and on to the form, the token gone from the address.
    let (path, query) = link.trim_start_matches(&public).split_once('?').unwrap();
    let to: String = form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "to")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let opened = client
        .post(format!("{public}{path}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "to={}",
            form_urlencoded::byte_serialize(to.as_bytes()).collect::<String>()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(opened.status(), reqwest::StatusCode::SEE_OTHER);
    assert_eq!(opened.headers()["location"], to.as_str());
    assert!(
        to.starts_with("/deadlines/") && to.ends_with("/file"),
        "{to}"
    );
    let cookie = opened.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let form = client
        .get(format!("{public}{to}"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), reqwest::StatusCode::OK);
    let form = form.text().await.unwrap();
    assert!(
        form.contains("Nộp báo cáo") && form.contains("name=\"nonce\""),
        "{form}"
    );
    // A made-up link: refused, in words.
    let bad = client
        .post(format!("{public}/l/hb_not-a-real-link"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("to=%2F")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), reqwest::StatusCode::UNAUTHORIZED);
    assert!(bad
        .text()
        .await
        .unwrap()
        .contains("Liên kết không đúng, đã hết hạn"));
    let _ = std::process::Command::new("sh")
        .args(["-c", &format!("kill -TERM {}", server.id())])
        .status();
    server.wait().unwrap();
}
