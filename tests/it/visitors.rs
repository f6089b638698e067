//! Issue 21: several visitors in one scenario. `{ visitor = "Edith" }` becomes Edith:
//! started (her own cookies and storage, nothing of anyone else's) the first time she is
//! named, found again later with her page as she left it. Where the remote end makes
//! WebDriver BiDi user contexts a visitor is one, with its own tab; else (`--isolation
//! reset`) a WebDriver session of its own. Every visitor ends with the scenario, and a
//! failure keeps every visitor's page as evidence.
//!
//! The target is a small loopback server: `/set?who=X` sets a cookie, `/whoami` shows the
//! cookie the browser sent, `/post?text=T` writes on a board every visitor shares and
//! `/board` shows it (the book's sharing flow: Edith writes, Onesiphorus sees it and
//! answers, Edith looks again and sees his answer).

use crate::common;

use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::loopback::{respond, serve};
use common::*;

fn target() -> String {
    let board: Arc<Mutex<Vec<String>>> = Arc::default();
    serve(move |req, stream| {
        let path = req.line.split(' ').nth(1).unwrap_or("/");
        let (route, query) = path.split_once('?').unwrap_or((path, ""));
        let arg =
            |name: &str| query.split('&').find_map(|kv| kv.strip_prefix(&format!("{name}="))).unwrap_or("").to_string();
        let page = |status: &str, extra: &str| {
            format!(
                "<!doctype html><html><head><title>Visitors</title><link rel=\"icon\" href=\"data:,\"></head>\
                 <body><p id=\"status\">{status}</p>{extra}</body></html>"
            )
        };
        match route {
            "/set" => {
                let who = arg("who");
                let body = page(&format!("set {who}"), "");
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nSet-Cookie: who={who}; Path=/\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                use std::io::Write;
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(body.as_bytes());
            }
            "/whoami" => {
                let cookie = req
                    .head
                    .lines()
                    .find_map(|l| l.strip_prefix("Cookie: ").or_else(|| l.strip_prefix("cookie: ")))
                    .map(str::trim)
                    .unwrap_or("none")
                    .to_string();
                respond(stream, "200 OK", &page(&format!("cookie: {cookie}"), ""));
            }
            "/post" => {
                let text = arg("text");
                if let Ok(mut b) = board.lock() {
                    b.push(text.clone());
                }
                respond(stream, "200 OK", &page(&format!("posted {text}"), ""));
            }
            "/board" => {
                let items: String =
                    board.lock().map(|b| b.iter().map(|t| format!("<li>{t}</li>")).collect()).unwrap_or_default();
                respond(stream, "200 OK", &page("board", &format!("<ul id=\"board\">{items}</ul>")));
            }
            "/agent" => {
                let agent = req
                    .head
                    .lines()
                    .find_map(|l| l.strip_prefix("User-Agent: ").or_else(|| l.strip_prefix("user-agent: ")))
                    .map(str::trim)
                    .unwrap_or("none")
                    .to_string();
                respond(stream, "200 OK", &page(&format!("agent: {agent}"), ""));
            }
            "/noisy" => {
                respond(stream, "200 OK", &page("noisy", "<script>console.error('boom from onesiphorus')</script>"))
            }
            _ => respond(stream, "404 Not Found", "not here"),
        }
    })
}

/// Two visitors with their own cookies; each found again with its page as it was left. A
/// `new_visitor` replaces only the current visitor (the fresh one keeps the name).
const COOKIES: &str = r##"
[[scenario]]
name = "two visitors keep their own cookies and pages"
steps = [
  { visitor = "Edith" },
  { visit = "/set?who=edith" },
  { expect_text = "set edith", in = "#status" },
  { visitor = "Onesiphorus" },
  { visit = "/whoami" },
  { expect_text = "cookie: none", in = "#status" },
  { visit = "/set?who=onesiphorus" },
  { expect_text = "set onesiphorus", in = "#status" },
  { visitor = "Edith" },
  { expect_text = "set edith", in = "#status" },
  { visit = "/whoami" },
  { expect_text = "cookie: who=edith", in = "#status" },
  { visitor = "Onesiphorus" },
  { expect_text = "set onesiphorus", in = "#status" },
  { visit = "/whoami" },
  { expect_text = "cookie: who=onesiphorus", in = "#status" },
  { new_visitor = true },
  { visit = "/whoami" },
  { expect_text = "cookie: none", in = "#status" },
  { visitor = "Edith" },
  { visit = "/whoami" },
  { expect_text = "cookie: who=edith", in = "#status" },
  { visitor = "Onesiphorus" },
  { expect_text = "cookie: none", in = "#status" },
]
"##;

/// The book's sharing flow, in shape: one visitor writes, the other sees it and answers,
/// the first looks again (a visit for the reload) and sees the answer.
const SHARING: &str = r##"
[[scenario]]
name = "edith shares and onesiphorus answers"
steps = [
  { visitor = "Edith" },
  { visit = "/post?text=fromedith" },
  { expect_text = "posted fromedith", in = "#status" },
  { visitor = "Onesiphorus" },
  { visit = "/board" },
  { expect_text_contains = "fromedith", in = "#board" },
  { visit = "/post?text=fromonesiphorus" },
  { expect_text = "posted fromonesiphorus", in = "#status" },
  { visitor = "Edith" },
  { visit = "/board" },
  { expect_text_contains = "fromonesiphorus", in = "#board" },
]
"##;

/// Fails as Onesiphorus, who does not have Edith's cookie.
const FAILING: &str = r##"
[[scenario]]
name = "onesiphorus does not have edith s cookie"
steps = [
  { visitor = "Edith" },
  { visit = "/set?who=edith" },
  { expect_text = "set edith", in = "#status" },
  { visitor = "Onesiphorus" },
  { visit = "/whoami" },
  { expect_text = "cookie: who=edith", in = "#status" },
]
"##;

struct Run {
    out: Output,
    junit: Junit,
    record: serde_json::Value,
    dir: tempfile::TempDir,
    /// chromedriver's verbose log, when the run used a chromedriver started here.
    log: String,
}

/// Run `specs` on one worker with `extra` flags, through a chromedriver started here with
/// its log on when `logged` (every command and BiDi message ft sends is in it).
fn run(specs: &str, extra: &[&str], logged: bool) -> Run {
    run_with(specs, extra, logged, &[])
}

/// `run` with `env` set for ft.
fn run_with(specs: &str, extra: &[&str], logged: bool, env: &[(&str, &str)]) -> Run {
    let url = target();
    let spec_dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(spec_dir.path().join("visitors.toml"), specs).expect("write");
    let dir = tempfile::tempdir().expect("tempdir");
    let spec_path = spec_dir.path().display().to_string();
    let log_path = dir.path().join("chromedriver.log");
    let mut _driver = None;
    let mut args: Vec<String> = ["--specs", &spec_path, "--liveserver", &url, "--workers", "1", "--max-wait", "3"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(["--allure".to_string(), "allure-results".to_string()]);
    if logged {
        let (driver, webdriver) = chromedriver(&["--verbose".into(), format!("--log-path={}", log_path.display())]);
        _driver = Some(driver);
        args.extend(["--webdriver".to_string(), webdriver]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = output(ft_command(dir.path()).args(&args).envs(env.iter().copied()));
    let junit = read_junit(&dir.path().join("reports/junit.xml"));
    let record = read_json(&dir.path().join("reports/run.json"));
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    Run { out, junit, record, dir, log }
}

impl Run {
    fn assert_passed(&self, name: &str) {
        let case = self.junit.case(name);
        assert_eq!(case.status, "passed", "{name}: {}\n{}\n{}", case.message, case.body, self.out.all());
    }

    /// How long each `visitor` step took, from the Allure steps (milliseconds).
    fn visitor_steps(&self) -> Vec<(String, i64)> {
        let mut took = Vec::new();
        let results = self.dir.path().join("allure-results");
        for entry in std::fs::read_dir(results).expect("allure results").flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.ends_with("-result.json") {
                continue;
            }
            let case = read_json(&entry.path());
            for step in case["steps"].as_array().cloned().unwrap_or_default() {
                let label = step["name"].as_str().unwrap_or_default().to_string();
                if label.starts_with("visitor ") {
                    let ms = step["stop"].as_i64().unwrap_or(0) - step["start"].as_i64().unwrap_or(0);
                    took.push((label, ms));
                }
            }
        }
        took
    }

    /// The evidence files of the failing scenario, by file name.
    fn evidence(&self) -> Vec<String> {
        let dir = self.dir.path().join("reports/artifacts/visitors/onesiphorus-does-not-have-edith-s-cookie");
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}\n{}", dir.display(), self.out.all()))
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

/// What every run below proves the same way: the two flows pass, the failing scenario
/// fails as Onesiphorus and keeps both visitors' pages, and the HTML report shows Edith's.
fn assert_visitors_work(run: &Run) {
    run.assert_passed("two visitors keep their own cookies and pages");
    run.assert_passed("edith shares and onesiphorus answers");
    let failing = run.junit.case("onesiphorus does not have edith s cookie");
    assert_eq!(failing.status, "failure", "{}", run.out.all());
    let said = format!("{}\n{}", failing.message, failing.body);
    assert!(said.contains("cookie: none"), "Onesiphorus saw no cookie: {said}");
    let stem = "onesiphorus-does-not-have-edith-s-cookie";
    let files = run.evidence();
    for want in [
        format!("{stem}.png"),
        format!("{stem}.html"),
        format!("{stem}.visitor-edith.png"),
        format!("{stem}.visitor-edith.html"),
    ] {
        assert!(files.contains(&want), "{want} in {files:?}");
    }
    let dir = run.dir.path().join("reports/artifacts/visitors").join(stem);
    let own = std::fs::read_to_string(dir.join(format!("{stem}.html"))).expect("page");
    let edith = std::fs::read_to_string(dir.join(format!("{stem}.visitor-edith.html"))).expect("edith's page");
    assert!(own.contains("cookie: none"), "the failing visitor's page is Onesiphorus': {own}");
    assert!(edith.contains("set edith"), "Edith's page as she left it: {edith}");
    let html = std::fs::read_to_string(run.dir.path().join("reports/index.html")).expect("html report");
    assert!(html.contains("visitor edith"), "the HTML report names Edith's screenshot");
    assert!(html.contains(&format!("{stem}.visitor-edith.png")), "and shows it");
    println!("visitor steps (ms): {:?}", run.visitor_steps());
}

/// ft as a remote end without WebDriver BiDi would have it: no user context can be made.
const NO_BIDI: &[(&str, &str)] = &[("FT_TEST_NO_BIDI", "1")];

fn all_three() -> String {
    format!("{COOKIES}{SHARING}{FAILING}")
}

/// No user context outlives its scenario: of those made, only the last scenario's current
/// visitor and the next one made ahead are left when the run ends (the browser ends them).
#[test]
fn visitors_in_user_contexts_keep_their_own_cookies_and_pages_and_end_with_the_scenario() {
    let run = run(&all_three(), &["--isolation", "user-context"], true);
    assert_eq!(run.record["predicate"]["ft.run/v1"]["isolation"], "user-context", "{:#}", run.record);
    assert_visitors_work(&run);
    let sent = |method: &str| run.log.matches(&format!("\"method\": \"{method}\"")).count();
    let (created, removed) = (sent("browser.createUserContext"), sent("browser.removeUserContext"));
    assert!(created >= 7, "three scenarios of two visitors, made ahead: {created}");
    let tabs = sent("browsingContext.create");
    assert_eq!(
        created - removed,
        3,
        "every visitor's user context removed but the last and the two made ahead: {created} made, {removed} \
         removed, {tabs} tabs"
    );
    let sessions = run.log.matches("COMMAND InitSession").count();
    assert_eq!(sessions, 1, "visitors are user contexts in the one session");
}

/// Where no user context can be made (a remote end without BiDi) each visitor is a session
/// of its own; each is quit when its scenario ends (before the next scenario starts its
/// own), failing or not.
#[test]
fn visitors_as_separate_sessions_keep_their_own_cookies_and_pages_and_are_quit_with_the_scenario() {
    let run = run_with(&all_three(), &["--isolation", "reset"], true, NO_BIDI);
    assert_eq!(run.record["predicate"]["ft.run/v1"]["isolation"], "reset", "{:#}", run.record);
    assert_visitors_work(&run);
    let started: Vec<usize> = run.log.match_indices("COMMAND InitSession").map(|(i, _)| i).collect();
    let quit: Vec<usize> = run.log.match_indices("COMMAND Quit").map(|(i, _)| i).collect();
    assert_eq!(started.len(), 4, "the worker's session and one more visitor per scenario:\n{}", run.out.all());
    assert_eq!(quit.len(), started.len(), "every session quit");
    // The second visitor of the first scenario is quit before the next scenario's starts.
    assert!(quit[0] < started[2], "a visitor's session is quit when its scenario ends");
}

#[test]
fn visitors_work_in_firefox_user_contexts() {
    let specs = format!("{COOKIES}{SHARING}");
    let run = run(&specs, &["--browser", "firefox", "--isolation", "user-context"], false);
    run.assert_passed("two visitors keep their own cookies and pages");
    run.assert_passed("edith shares and onesiphorus answers");
    assert_eq!(run.record["predicate"]["ft.run/v1"]["isolation"], "user-context", "{:#}", run.record);
    println!("firefox visitor steps (ms): {:?}", run.visitor_steps());
}

/// With `--isolation reset` the session resets between scenarios, and a visitor beyond the
/// first is a user context made when it is named, in the worker's one session: no second
/// browser, none made ahead, and each removed when its scenario ends.
#[test]
fn visitors_with_the_reset_are_user_contexts_made_when_named_in_the_one_session() {
    let run = run(&all_three(), &["--isolation", "reset"], true);
    assert_eq!(run.record["predicate"]["ft.run/v1"]["isolation"], "reset", "{:#}", run.record);
    assert!(
        run.out.stdout.contains("visitors: a user context each, made when first named"),
        "the header says what a visitor is: {}",
        run.out.stdout
    );
    assert_visitors_work(&run);
    let sent = |method: &str| run.log.matches(&format!("\"method\": \"{method}\"")).count();
    assert_eq!(run.log.matches("COMMAND InitSession").count(), 1, "a visitor costs no session:\n{}", run.out.all());
    // One per scenario's second visitor, none ahead, and one for the `new_visitor` step
    // that replaces Onesiphorus (a new user context, not a reset).
    assert_eq!(sent("browser.createUserContext"), 4, "user contexts made when named");
    assert_eq!(
        sent("browser.removeUserContext"),
        4,
        "each removed, the replaced one at once, the others with their scenario"
    );
    let sessions = run_with(&all_three(), &["--isolation", "reset"], false, NO_BIDI);
    assert_visitors_work(&sessions);
    println!(
        "visitor steps (ms), a user context made when named: {:?}; a session each (no BiDi): {:?}",
        run.visitor_steps(),
        sessions.visitor_steps()
    );
}

/// The next scenario finds nothing of the last one's visitors: not their cookies (the
/// visitor it starts as is the session's own tab, reset; a visitor it names is a new user
/// context), nor their tabs (the first visitor's only tab is its own).
const AFTERWARDS: &str = r##"
[[scenario]]
name = "two visitors leave cookies"
steps = [
  { visitor = "Edith" },
  { visit = "/set?who=edith" },
  { expect_text = "set edith", in = "#status" },
  { visitor = "Onesiphorus" },
  { visit = "/set?who=onesiphorus" },
  { expect_text = "set onesiphorus", in = "#status" },
]

[[scenario]]
name = "the next scenario finds none of their cookies"
steps = [
  { visitor = "Onesiphorus" },
  { visit = "/whoami" },
  { expect_text = "cookie: none", in = "#status" },
  { visitor = "Edith" },
  { visit = "/whoami" },
  { expect_text = "cookie: none", in = "#status" },
  { tab = 1 },
  { expect_text = "cookie: none", in = "#status" },
]

[[scenario]]
name = "the first visitor has only its own tab"
steps = [
  { visit = "/whoami" },
  { expect_text = "cookie: none", in = "#status" },
  { close_tab = true },
]
"##;

fn assert_nothing_leaks(run: &Run) {
    run.assert_passed("two visitors leave cookies");
    run.assert_passed("the next scenario finds none of their cookies");
    let alone = run.junit.case("the first visitor has only its own tab");
    assert_eq!(alone.status, "failure", "{}", run.out.all());
    let said = format!("{}\n{}", alone.message, alone.body);
    assert!(said.contains("this is the visitor's only tab"), "no visitor's tab is left: {said}");
}

#[test]
fn nothing_of_a_scenario_s_visitors_reaches_the_next_with_the_reset() {
    let run = run(AFTERWARDS, &["--isolation", "reset"], true);
    assert_nothing_leaks(&run);
    let sent = |method: &str| run.log.matches(&format!("\"method\": \"{method}\"")).count();
    assert_eq!(sent("browser.createUserContext"), 2, "one per scenario's second visitor");
    assert_eq!(sent("browser.removeUserContext"), 2, "none outlives its scenario");
}

/// Firefox, through one geckodriver started here: geckodriver serves one session at a
/// time, so a visitor that needed a second session could not start there.
#[test]
fn visitors_work_in_firefox_with_the_reset_as_user_contexts_in_one_session() {
    let port = free_port();
    let logs = tempfile::tempdir().expect("tempdir");
    let log = std::fs::File::create(logs.path().join("geckodriver.log")).expect("log");
    let mut driver = Command::new(home_geckodriver());
    driver.args(["--port", &port.to_string(), "--websocket-port", "0", "--log", "debug"]);
    driver.stdout(Stdio::null()).stderr(log).process_group(0);
    let _driver = KillOnDrop::group(driver.spawn().expect("geckodriver starts"));
    eventually("geckodriver to listen", Duration::from_secs(30), || TcpStream::connect(("127.0.0.1", port)).is_ok());
    let webdriver = format!("http://127.0.0.1:{port}");
    let specs = format!("{COOKIES}{SHARING}{AFTERWARDS}");
    let run = run(&specs, &["--browser", "firefox", "--webdriver", &webdriver, "--isolation", "reset"], false);
    run.assert_passed("two visitors keep their own cookies and pages");
    run.assert_passed("edith shares and onesiphorus answers");
    assert_nothing_leaks(&run);
    assert_eq!(run.record["predicate"]["ft.run/v1"]["isolation"], "reset", "{:#}", run.record);
    let log = std::fs::read_to_string(logs.path().join("geckodriver.log")).unwrap_or_default();
    let sessions = log.matches("POST /session ").count();
    assert!(sessions <= 1, "one session for every visitor ({sessions} started):\n{log}");
    println!("firefox visitor steps (ms), user contexts made when named: {:?}", run.visitor_steps());
}

/// geckodriver on PATH, else where `cargo install` puts it.
fn home_geckodriver() -> std::path::PathBuf {
    let on_path = std::env::var_os("PATH")
        .and_then(|p| std::env::split_paths(&p).map(|d| d.join("geckodriver")).find(|f| f.is_file()));
    on_path.unwrap_or_else(|| {
        std::path::PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo/bin/geckodriver")
    })
}

/// A panicking worker drops its session: a second visitor's session goes with it, ended
/// by the reaper before ft exits (chromedriver is told to quit each).
#[test]
fn a_panic_as_the_second_visitor_leaves_no_session_behind() {
    let url = target();
    let spec_dir = tempfile::tempdir().expect("tempdir");
    let spec = r##"
[[scenario]]
name = "panics as onesiphorus"
steps = [
  { visitor = "Edith" },
  { visit = "/set?who=edith" },
  { visitor = "Onesiphorus" },
  { visit = "/whoami" },
  { expect_title = "Visitors" },
]
"##;
    std::fs::write(spec_dir.path().join("visitors.toml"), spec).expect("write");
    let dir = tempfile::tempdir().expect("tempdir");
    let log_path = dir.path().join("chromedriver.log");
    let (_driver, webdriver) = chromedriver(&["--verbose".into(), format!("--log-path={}", log_path.display())]);
    let spec_path = spec_dir.path().display().to_string();
    let out = output(
        ft_command(dir.path())
            .args(["--specs", &spec_path, "--liveserver", &url, "--workers", "1", "--max-wait", "3"])
            .args(["--webdriver", &webdriver, "--isolation", "reset"])
            .env("FT_TEST_PANIC_AT_VERB", "expect_title")
            .envs(NO_BIDI.iter().copied()),
    );
    assert_ne!(out.code, 0, "{}", out.all());
    let log = std::fs::read_to_string(&log_path).expect("log");
    let started = log.matches("COMMAND InitSession").count();
    let quit = log.matches("COMMAND Quit").count();
    assert_eq!(started, 2, "the worker's session and Onesiphorus': {}", out.all());
    assert_eq!(quit, 2, "both ended although the worker panicked");
}

/// Another visitor's console error counts: Onesiphorus' page logs one, and Edith's
/// check after switching back fails naming it.
const NOISY: &str = r##"
[[scenario]]
name = "a console error as onesiphorus counts for the scenario"
steps = [
  { visitor = "Edith" },
  { visit = "/set?who=edith" },
  { visitor = "Onesiphorus" },
  { visit = "/noisy" },
  { expect_text = "noisy", in = "#status" },
  { visitor = "Edith" },
  { expect_text = "set edith", in = "#status" },
  { expect_no_console_errors = true },
]
"##;

fn assert_other_visitors_signals_count(isolation: &str, env: &[(&str, &str)]) {
    let run = run_with(NOISY, &["--isolation", isolation], false, env);
    let case = run.junit.case("a console error as onesiphorus counts for the scenario");
    assert_eq!(case.status, "failure", "{}", run.out.all());
    let said = format!("{}\n{}", case.message, case.body);
    assert!(said.contains("boom from onesiphorus"), "the other visitor's console error is named: {said}");
}

#[test]
fn another_visitor_s_console_error_counts_in_user_contexts() {
    assert_other_visitors_signals_count("user-context", &[]);
}

#[test]
fn another_visitor_s_console_error_counts_with_separate_sessions() {
    assert_other_visitors_signals_count("reset", NO_BIDI);
}

/// With the default isolation and BiDi, the other visitor is a user context made when
/// named: its console error is reported on the session's own subscription.
#[test]
fn another_visitor_s_console_error_counts_in_a_user_context_made_when_named() {
    assert_other_visitors_signals_count("reset", &[]);
}

/// Ctrl-C while the second visitor waits: ft stops, and chromedriver is told to quit both
/// sessions, the worker's and Onesiphorus' (a session of its own: ft asks for no BiDi).
#[test]
fn an_interrupt_as_the_second_visitor_leaves_no_session_behind() {
    let url = target();
    let spec_dir = tempfile::tempdir().expect("tempdir");
    let spec = r##"
[[scenario]]
name = "waits as onesiphorus"
steps = [
  { visitor = "Edith" },
  { visit = "/set?who=edith" },
  { visitor = "Onesiphorus" },
  { visit = "/whoami" },
  { expect_text = "never shown", in = "#status" },
]
"##;
    std::fs::write(spec_dir.path().join("visitors.toml"), spec).expect("write");
    let logs = tempfile::tempdir().expect("tempdir");
    let log_path = logs.path().join("chromedriver.log");
    let (_driver, webdriver) = chromedriver(&["--verbose".into(), format!("--log-path={}", log_path.display())]);
    let spec_path = spec_dir.path().display().to_string();
    let ran = tempfile::tempdir().expect("tempdir");
    let mut ft = ft_command(ran.path());
    ft.args(["--specs", &spec_path, "--liveserver", &url, "--workers", "1", "--max-wait", "120"])
        .args(["--webdriver", &webdriver, "--isolation", "reset", "--no-signals"])
        .envs(NO_BIDI.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut ft = KillOnDrop::new(ft.spawn().expect("ft starts"));
    let count = |what: &str| std::fs::read_to_string(&log_path).unwrap_or_default().matches(what).count();
    eventually("Onesiphorus' session to start", Duration::from_secs(60), || count("COMMAND InitSession") == 2);
    // Onesiphorus is now looking for a text that never comes.
    eventually("Onesiphorus to look", Duration::from_secs(30), || count("COMMAND ExecuteScript") >= 4);
    let (code, _) = interrupt_until_exit(&mut ft, Duration::from_secs(60));
    assert_eq!(code, Some(130));
    assert_eq!(count("COMMAND Quit"), 2, "both sessions quit although the run was interrupted");
}

/// With the browser's signals off (`--no-signals`, no BiDi needed for them), a suite that
/// names visitors still asks for WebDriver BiDi, so each visitor beyond the first is a user
/// context of the worker's one browser, not a browser session the worker pool does not
/// count; a suite without visitors asks for none.
#[test]
fn with_signals_off_visitors_are_still_user_contexts_in_the_one_session() {
    let run = run(&all_three(), &["--no-signals"], true);
    assert!(
        run.out.stdout.contains("visitors: a user context each, made when first named"),
        "the header says what a visitor is: {}",
        run.out.stdout
    );
    assert_visitors_work(&run);
    let sent = |method: &str| run.log.matches(&format!("\"method\": \"{method}\"")).count();
    assert_eq!(run.log.matches("COMMAND InitSession").count(), 1, "no session per visitor:\n{}", run.out.all());
    assert_eq!(sent("browser.createUserContext"), 4, "user contexts made when named");
    assert_eq!(sent("session.subscribe"), 0, "signals stay off: nothing is subscribed to");
    let plain = r##"
[[scenario]]
name = "one visitor"
steps = [{ visit = "/whoami" }, { expect_text = "cookie: none", in = "#status" }]
"##;
    let alone = run_with(plain, &["--no-signals"], true, &[]);
    alone.assert_passed("one visitor");
    assert!(run.log.contains("\"webSocketUrl\": true"), "a suite with visitors asks for BiDi");
    assert!(!alone.log.contains("webSocketUrl"), "a suite without visitors asks for no BiDi:\n{}", alone.log);
}

/// Through a Grid: visitors are user contexts (made ahead with a user context per
/// attempt, made when named with the reset), and sessions of their own (a second slot)
/// where ft asks for no BiDi.
#[test]
fn visitors_work_through_a_selenium_grid_as_user_contexts_and_as_sessions() {
    let grid = common::grid::Grid::shared();
    let specs = format!("{COOKIES}{SHARING}");
    for (isolation, env) in [("user-context", &[][..]), ("reset", &[][..]), ("reset", NO_BIDI)] {
        let run = run_with(&specs, &["--webdriver", grid.url, "--isolation", isolation], false, env);
        run.assert_passed("two visitors keep their own cookies and pages");
        run.assert_passed("edith shares and onesiphorus answers");
        assert_eq!(run.record["predicate"]["ft.run/v1"]["isolation"], isolation, "{:#}", run.record);
        let bidi = if env.is_empty() { "" } else { ", no BiDi" };
        println!("through the Grid, {isolation}{bidi}: visitor steps (ms): {:?}", run.visitor_steps());
    }
}

fn refused(steps: &str) -> Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = format!("[[scenario]]\nname = \"one\"\nsteps = [\n{steps}\n  {{ expect_title = \"x\" }},\n]\n");
    std::fs::write(dir.path().join("spec.toml"), text).expect("write spec");
    let out = ft_in(dir.path(), &["--specs", "spec.toml", "--driver", "/nonexistent/chromedriver"]);
    assert_eq!(out.code, 2, "{}", out.all());
    out
}

#[test]
fn a_visitor_without_a_name_is_refused_at_load() {
    let out = refused("  { visitor = \" \" },");
    assert!(out.stderr.contains("spec.toml:4:15: error: `visitor` needs a name"), "{}", out.stderr);
}

#[test]
fn a_visitor_name_too_long_is_refused_at_load() {
    let long = "x".repeat(41);
    let out = refused(&format!("  {{ visitor = \"{long}\" }},"));
    assert!(out.stderr.contains("spec.toml:4:15: error: a visitor's name is at most 40 characters"), "{}", out.stderr);
}

#[test]
fn a_ninth_visitor_in_one_scenario_is_refused_at_load() {
    let steps: Vec<String> = (1..=9).map(|i| format!("  {{ visitor = \"v{i}\" }},")).collect();
    let out = refused(&steps.join("\n"));
    assert!(
        out.stderr.contains("spec.toml:12:3: error: a scenario may name at most 8 visitors; \"v9\" would be one more"),
        "{}",
        out.stderr
    );
}

/// Issue 22: on a local Chromium (ft's own chromedriver, no `--webdriver`) a visitor is a
/// browser context made over the DevTools endpoint chromedriver opened, not a BiDi user
/// context: New Session asks for no `webSocketUrl`, so chromedriver starts no BiDi mapper
/// (0.5-0.7 s a session, and every signal through it). chromedriver is ft's own here,
/// through a script that turns its log on (`--driver`).
fn run_on_own_chromedriver(specs: &str, extra: &[&str]) -> Run {
    let scripts = tempfile::tempdir().expect("tempdir");
    let log_path = scripts.path().join("chromedriver.log");
    let driver = scripts.path().join("chromedriver-logged.sh");
    let script = format!("#!/bin/sh\nexec /usr/bin/chromedriver --verbose --log-path={} \"$@\"\n", log_path.display());
    std::fs::write(&driver, script).expect("write");
    std::fs::set_permissions(&driver, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    let mut args = vec!["--driver", driver.to_str().expect("utf-8 path")];
    args.extend_from_slice(extra);
    let mut run = run_with(specs, &args, false, &[]);
    run.log = std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(run.log.contains("COMMAND InitSession"), "chromedriver's log was kept:\n{}", run.out.all());
    run
}

/// What every run on ft's own chromedriver shows: no BiDi asked nor used, one session.
fn assert_no_bidi(run: &Run) {
    assert!(!run.log.contains("webSocketUrl"), "New Session asked for no BiDi:\n{}", run.log);
    assert!(!run.log.contains("\"method\": \"browser."), "no BiDi command went through chromedriver");
    assert_eq!(run.log.matches("COMMAND InitSession").count(), 1, "a visitor costs no session:\n{}", run.out.all());
}

#[test]
fn two_visitors_on_a_local_chromium_are_browser_contexts_made_over_devtools_without_bidi() {
    let run = run_on_own_chromedriver(&all_three(), &[]);
    assert!(
        run.out.stdout.contains("visitors: a user context each, made when first named (DevTools)"),
        "the header says how visitors are made: {}",
        run.out.stdout
    );
    assert_visitors_work(&run);
    assert_no_bidi(&run);
    // Each visitor's tab is one WebDriver drives: chromedriver switched to it by its id.
    assert!(run.log.matches("COMMAND SwitchToWindow").count() >= 6, "each visitor's tab driven by its handle");
    println!("visitor steps (ms), a browser context over DevTools made when named: {:?}", run.visitor_steps());
}

#[test]
fn visitors_on_a_local_chromium_with_a_user_context_per_attempt_need_no_bidi_either() {
    let run = run_on_own_chromedriver(&all_three(), &["--isolation", "user-context"]);
    assert_eq!(run.record["predicate"]["ft.run/v1"]["isolation"], "user-context", "{:#}", run.record);
    assert!(
        run.out.stdout.contains("visitors: a user context each, made ahead (DevTools)"),
        "the header says how visitors are made: {}",
        run.out.stdout
    );
    assert_visitors_work(&run);
    assert_no_bidi(&run);
    println!("visitor steps (ms), browser contexts over DevTools made ahead: {:?}", run.visitor_steps());
}

/// The second visitor's console error is heard over DevTools (the collector attaches to
/// a tab of another browser context as to any) and fails the check, with no BiDi.
#[test]
fn a_console_error_in_a_second_visitor_s_devtools_context_fails_the_check() {
    for isolation in ["reset", "user-context"] {
        let run = run_on_own_chromedriver(NOISY, &["--isolation", isolation]);
        assert_no_bidi(&run);
        let case = run.junit.case("a console error as onesiphorus counts for the scenario");
        assert_eq!(case.status, "failure", "{isolation}: {}", run.out.all());
        let said = format!("{}\n{}", case.message, case.body);
        assert!(said.contains("boom from onesiphorus"), "{isolation}: the other visitor's error is named: {said}");
    }
}

/// A visitor whose console error is not looked at passes: the check above fails for the
/// error, not for the visitor.
#[test]
fn a_quiet_second_visitor_in_a_devtools_context_passes_the_signals_check() {
    let quiet = r##"
[[scenario]]
name = "a quiet onesiphorus leaves the check clean"
steps = [
  { visitor = "Edith" },
  { visit = "/set?who=edith" },
  { visitor = "Onesiphorus" },
  { visit = "/whoami" },
  { expect_text = "cookie: none", in = "#status" },
  { visitor = "Edith" },
  { expect_text = "set edith", in = "#status" },
  { expect_no_console_errors = true },
]
"##;
    let run = run_on_own_chromedriver(quiet, &[]);
    assert_no_bidi(&run);
    run.assert_passed("a quiet onesiphorus leaves the check clean");
}

/// `ft watch` marks every request as synthetic: a second visitor's too, whose browser
/// context (made over DevTools on a local Chromium) gets the mark on its tab before its
/// first page.
#[test]
fn a_second_visitor_s_requests_are_marked_as_synthetic_when_watching() {
    let url = target();
    let specs = tempfile::tempdir().expect("tempdir");
    let spec = r##"
[[scenario]]
name = "every visitor is marked"
tags = ["smoke"]
steps = [
  { visitor = "Edith" },
  { visit = "/agent" },
  { expect_text_contains = "ft-synthetic/", in = "#status" },
  { visitor = "Onesiphorus" },
  { visit = "/agent" },
  { expect_text_contains = "ft-synthetic/", in = "#status" },
]
"##;
    std::fs::write(specs.path().join("marked.toml"), spec).expect("write");
    let specs_path = specs.path().display().to_string();
    let mut ft = Running::start(&["watch", "--liveserver", &url, "--every", "1h", "--specs", &specs_path]);
    ft.wait_for_line("ft watch: run 1:");
    let said = ft.seen.join("\n");
    assert!(said.contains("visitors: a user context each, made when first named (DevTools)"), "{said}");
    assert!(ft.seen.last().is_some_and(|l| l.contains("passed")), "both visitors' requests are marked:\n{said}");
    ft.signal(libc::SIGINT);
    assert_eq!(ft.wait(), 130);
}
