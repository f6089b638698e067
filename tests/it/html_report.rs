//! Issue 10: `reports/index.html`, proved in a real browser by ft itself. A failing and
//! flaky run writes the page; a tiny file server serves that reports folder; a second ft
//! run visits the page and expects the failed scenario, its message, a screenshot that
//! really loaded, and the retry. That second run exiting 0 is the proof.

use crate::common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;

/// Serves the files of one folder over HTTP on 127.0.0.1 (ft's targets are http(s), and
/// a browser shows `file://` pages under other rules). Stops when dropped.
struct FileServer {
    url: String,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FileServer {
    fn start(root: &Path) -> FileServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let stop = Arc::new(AtomicBool::new(false));
        let root = root.to_path_buf();
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            // Bounded: a page, its images and a preflight need a handful of connections.
            for conn in listener.incoming().take(256) {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let root = root.clone();
                // A thread each: browsers open sockets they never send on.
                std::thread::spawn(move || serve(conn, &root));
            }
        });
        FileServer { url: format!("http://{addr}"), stop, thread: Some(thread) }
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        if let Some(addr) = self.url.strip_prefix("http://") {
            let _ = TcpStream::connect(addr);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(mut conn: TcpStream, root: &Path) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
        if request.len() > 64 * 1024 {
            return;
        }
    }
    let request = String::from_utf8_lossy(&request);
    let path = request.split_whitespace().nth(1).unwrap_or("/");
    let path = path.split(['?', '#']).next().unwrap_or("/");
    let (status, kind, body) = match file_for(root, path).and_then(|f| Some((std::fs::read(&f).ok()?, f))) {
        Some((body, file)) => {
            let kind = match file.extension().and_then(|e| e.to_str()) {
                Some("html") => "text/html; charset=utf-8",
                Some("png") => "image/png",
                Some("json") => "application/json",
                _ => "application/octet-stream",
            };
            ("200 OK", kind, body)
        }
        None => ("404 Not Found", "text/plain", b"not found".to_vec()),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(&body);
}

/// The file a URL path names under `root`, percent-decoded; `/` is the report itself.
/// Nothing outside `root` (no `..`).
fn file_for(root: &Path, path: &str) -> Option<PathBuf> {
    let bytes = path.as_bytes();
    let mut decoded = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            decoded.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    let decoded = String::from_utf8(decoded).ok()?;
    let rel = decoded.trim_start_matches('/');
    let rel = if rel.is_empty() { "index.html" } else { rel };
    if rel.split('/').any(|part| part == ".." || part.is_empty()) {
        return None;
    }
    Some(root.join(rel))
}

/// What the page must show a person, checked by ft in a real browser.
const CHECK_THE_REPORT: &str = r##"
[suite]
description = "ft's own HTML report, as a person sees it"

[[scenario]]
name = "the report shows the failure, its screenshot and the retry"
steps = [
  { visit = "/index.html" },
  { expect_title = "NOT OK (failed)" },
  { expect_text = "NOT OK (failed)", in = "#verdict" },
  { expect_text_contains = "2 scenarios: 1 passed (1 flaky), 1 failed", in = "#fact-counts" },
  { expect_text = "can start a to-do list", in = 'section[data-status="FAIL"] .name' },
  { expect_text_contains = "superlists.toml:", in = 'section[data-status="FAIL"] .attempt:last-child .failure .step' },
  { expect_text_contains = "expect the title to contain", in = 'section[data-status="FAIL"] .attempt:last-child .failure .step' },
  { expect_text_contains = "still not true after", in = 'section[data-status="FAIL"] .attempt:last-child .failure .message' },
  { expect_text_contains = "last seen: the title was", in = 'section[data-status="FAIL"] .attempt:last-child .failure .seen' },
  { expect_present = 'section[data-status="FAIL"] .attempt:last-child .evidence img[data-loaded="yes"]' },
  { expect_visible = 'section[data-status="FAIL"] .attempt:last-child .evidence img' },
  { expect_absent = 'img[data-loaded="no"]' },
  { expect_present = 'section[data-status="FAIL"] .attempt:last-child .evidence a.page[href$=".attempt-2.html"]' },
  { expect_text = "layout and styling", in = 'section[data-status="FLAKY"] .name' },
  { expect_text_contains = "attempt 1 of 2: FAIL", in = 'section[data-status="FLAKY"] .attempt.retry' },
  { expect_text_contains = "answered HTTP 503", in = 'section[data-status="FLAKY"] .attempt.retry .failure .message' },
  { expect_present = 'section[data-status="FLAKY"] .attempt.retry .evidence img[data-loaded="yes"]' },
  { expect_text_contains = "attempt 2 of 2: PASS", in = 'section[data-status="FLAKY"] .attempt:last-child' },
  # The steps are folded until asked for.
  { expect_hidden = 'section[data-status="FLAKY"] .attempt:last-child ol.steps' },
  { click = 'section[data-status="FLAKY"] .attempt:last-child details summary' },
  { expect_visible = 'section[data-status="FLAKY"] .attempt:last-child ol.steps li.ok' },
]
"##;

#[test]
fn the_html_report_of_a_failing_and_flaky_run_shows_in_a_browser_the_failure_its_screenshot_and_the_retry() {
    // Every other browser visit to `/` is a 503 (flaky-home) and the title is wrong
    // (wrong-title). Each scenario visits `/` once per attempt before it can fail, so in
    // either order, with one retry, "can start" fails twice (a 503, then the title) and
    // "layout and styling", which never checks the title, fails on a 503 then passes.
    let served = Served::start(&["flaky-home", "wrong-title"]);
    let run = tempfile::tempdir().expect("tempdir");
    let args = ["--liveserver", &served.url, "--filter", "can start a to-do", "--filter", "layout", "--retries", "1"];
    let out = ft_in(run.path(), &[&args[..], &["--max-wait", "3"]].concat());
    assert_eq!(out.code, 1, "{}", out.all());
    let junit = read_junit(&run.path().join("reports/junit.xml"));
    assert_eq!(junit.case("can start a to-do list").status, "failure", "{}", out.all());
    assert_eq!(junit.case("layout and styling").flaky.len(), 1, "{}", out.all());
    let reports = run.path().join("reports");
    let page = std::fs::read_to_string(reports.join("index.html")).expect("index.html is written");
    assert!(!page.contains("src=\"http") && !page.contains("href=\"http"), "nothing links elsewhere: {page}");

    // The check runs from a folder of its own: its reports must not replace the ones served.
    let server = FileServer::start(&reports);
    let check = tempfile::tempdir().expect("tempdir");
    std::fs::write(check.path().join("report.toml"), CHECK_THE_REPORT).expect("spec written");
    let out = ft_in(check.path(), &["--specs", "report.toml", "--liveserver", &server.url, "--max-wait", "10"]);
    assert_eq!(out.code, 0, "the page as a browser shows it:\n{}\n{page}", out.all());
    assert_eq!(read_json(&check.path().join("reports/run.json"))["predicate"]["result"], "PASSED");
}

/// The filmstrip as a person sees it: three frames that load, in step order, captioned.
const CHECK_THE_FILMSTRIP: &str = r##"
[[scenario]]
name = "the report shows the filmstrip in step order"
steps = [
  { visit = "/index.html" },
  { expect_present = 'section[data-status="FAIL"] ol.filmstrip li:nth-child(3) img[data-loaded="yes"]' },
  { expect_present = 'section[data-status="FAIL"] ol.filmstrip li:nth-child(1) img[data-loaded="yes"]' },
  { expect_present = 'section[data-status="FAIL"] ol.filmstrip li:nth-child(2) img[data-loaded="yes"]' },
  { expect_absent = 'section[data-status="FAIL"] ol.filmstrip li:nth-child(4)' },
  { expect_absent = 'img[data-loaded="no"]' },
  { expect_visible = 'section[data-status="FAIL"] ol.filmstrip li:nth-child(1) img' },
  { expect_text = 'after line 6: press Enter on #id_text', in = 'ol.filmstrip li:nth-child(1) figcaption' },
  { expect_text = 'after line 8: type "Buy eggs" into #id_text', in = 'ol.filmstrip li:nth-child(2) figcaption' },
  { expect_text = 'after line 9: press Enter on #id_text', in = 'ol.filmstrip li:nth-child(3) figcaption' },
  { expect_present = 'section[data-status="FAIL"] .evidence img[alt^="screenshot"][data-loaded="yes"]' },
]
"##;

#[test]
fn the_html_report_shows_a_failed_scenarios_filmstrip_in_step_order_and_every_frame_loads() {
    let run = tempfile::tempdir().expect("tempdir");
    std::fs::write(run.path().join("list.toml"), FAILS_AFTER_FIVE_STEPS).expect("spec written");
    let out = ft_in(run.path(), &["--specs", "list.toml", "--filmstrip", "3", "--max-wait", "3"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let reports = run.path().join("reports");
    let page = std::fs::read_to_string(reports.join("index.html")).expect("index.html is written");

    let server = FileServer::start(&reports);
    let check = tempfile::tempdir().expect("tempdir");
    std::fs::write(check.path().join("report.toml"), CHECK_THE_FILMSTRIP).expect("spec written");
    let out = ft_in(check.path(), &["--specs", "report.toml", "--liveserver", &server.url, "--max-wait", "10"]);
    assert_eq!(out.code, 0, "the page as a browser shows it:\n{}\n{page}", out.all());
}

/// Issue 23's run: on two workers with one retry, "never says so" fails twice (its page
/// never shows the heading), "second try" fails on the first browser visit to `/` (the
/// flaky-home target answers it 503) and passes on the second, "not found" passes. Only
/// "second try" visits `/`, so that is so whatever the workers' order.
const TWO_WORKER_RUN: &str = r##"
[[scenario]]
name = "a list that <never> says so"
tags = ["lists"]
steps = [
  { visit = "/lists/999/" },
  { expect_text = "Buy peacock feathers", in = "h1" },
]

[[scenario]]
name = "the home page, on the second try"
tags = ["smoke"]
steps = [
  { visit = "/" },
  { expect_present = "#id_text" },
]

[[scenario]]
name = "a missing list is not found"
tags = ["smoke"]
steps = [
  { visit = "/lists/999/" },
  { expect_present = "body" },
]
"##;

const FAILS: &str = "a list that <never> says so";
const FLAKY: &str = "the home page, on the second try";
const PASSES: &str = "a missing list is not found";

/// Three earlier runs of the same scenarios, as `history.jsonl` keeps them.
fn earlier_runs() -> String {
    let runs = [
        ("2026-12-01T10:00:00Z", [("passed", 1.0, 1), ("passed", 0.5, 1), ("passed", 0.4, 1)], 3.5),
        ("2026-12-02T10:00:00Z", [("failed", 2.0, 2), ("flaky", 0.9, 2), ("passed", 0.4, 1)], 5.0),
        ("2026-12-03T10:00:00Z", [("passed", 1.1, 1), ("passed", 0.5, 1), ("passed", 0.3, 1)], 3.0),
    ];
    let mut text = String::new();
    for (at, outcomes, wall) in runs {
        for ((name, line), (outcome, seconds, attempts)) in
            [(FAILS, 2), (FLAKY, 9), (PASSES, 16)].into_iter().zip(outcomes)
        {
            let run = serde_json::json!({
                "run_started_at": at, "scenario": name, "file": "run.toml", "line": line, "outcome": outcome,
                "seconds": seconds, "attempts": attempts, "commit": null, "target": "http://127.0.0.1:1",
                "run_seconds": wall,
            });
            text.push_str(&format!("{run}\n"));
        }
    }
    text
}

/// What a person sees of that run's page, checked by ft in a real browser. `{F}` and `{K}`
/// are the lanes of the workers that ran the failing and the flaky scenario.
const CHECK_THE_RUN: &str = r##"
[[scenario]]
name = "the report shows the run"
steps = [
  { visit = "/index.html" },
  { expect_no_console_errors = true },
  # Failures and flakes first.
  { expect_attribute = "data-status", of = "#scenarios > section:nth-of-type(1)", equals = "FAIL" },
  { expect_text = "a list that <never> says so", in = "#scenarios > section:nth-of-type(1) .name" },
  { expect_attribute = "data-status", of = "#scenarios > section:nth-of-type(2)", equals = "FLAKY" },
  { expect_attribute = "data-status", of = "#scenarios > section:nth-of-type(3)", equals = "PASS" },
  # Filtered to what passed, the failure is hidden; back to all, it shows.
  { expect_text = "all 3 shown", in = "#filter-shown" },
  { click = 'label[for="status-PASS"]' },
  { expect_hidden = 'section[data-status="FAIL"]' },
  { expect_hidden = 'section[data-status="FLAKY"]' },
  { expect_visible = 'section[data-status="PASS"]' },
  { expect_text = "1 of 3 shown", in = "#filter-shown" },
  { click = 'label[for="status-all"]' },
  { expect_visible = 'section[data-status="FAIL"]' },
  # By a tag: a click on it.
  { click = 'section[data-status="PASS"] .tag' },
  { expect_hidden = 'section[data-status="FAIL"]' },
  { expect_text = "2 of 3 shown", in = "#filter-shown" },
  # By words of the name.
  { type = "second try", into = "#filter-name" },
  { expect_hidden = 'section[data-status="PASS"]' },
  { expect_visible = 'section[data-status="FLAKY"]' },
  { expect_text = "1 of 3 shown", in = "#filter-shown" },
  # The timeline: each attempt a bar in the lane of the worker that ran it.
  { expect_present = '#lane-{F} rect.bar.FAIL.retried[data-attempt="1"]' },
  { expect_present = '#lane-{F} rect.bar.FAIL[data-attempt="2"]:not(.retried)' },
  { expect_present = '#lane-{K} rect.bar.FAIL.retried[data-attempt="1"]' },
  { expect_present = '#lane-{K} rect.bar.PASS[data-attempt="2"]' },
  { expect_absent = '#lane-{F} rect.bar.PASS[data-attempt="2"]' },
  { expect_absent = '#lane-{K} rect.bar.FAIL[data-attempt="2"]' },
  { expect_absent = '#timeline rect.bar[data-attempt="3"]' },
  # A bar leads to its scenario, shown even where a filter hid it.
  { click = '#lane-{K} rect.bar.PASS[data-attempt="2"]' },
  { expect_text = "the home page, on the second try", in = "section.scenario:target .name" },
  { click = '#lane-{F} rect.bar.FAIL[data-attempt="2"]' },
  { expect_text = "a list that <never> says so", in = "section.scenario:target .name" },
  { expect_visible = 'section[data-status="FAIL"]' },
  # Its recent history: three earlier runs, then this one.
  { expect_present = 'section[data-status="FAIL"] ol.strip li:nth-child(1).passed' },
  { expect_present = 'section[data-status="FAIL"] ol.strip li:nth-child(2).failed' },
  { expect_present = 'section[data-status="FAIL"] ol.strip li:nth-child(3).passed' },
  { expect_present = 'section[data-status="FAIL"] ol.strip li:nth-child(4).failed.now' },
  { expect_absent = 'section[data-status="FAIL"] ol.strip li:nth-child(5)' },
  { expect_present = 'section[data-status="FLAKY"] ol.strip li:nth-child(2).flaky' },
  { expect_present = 'section[data-status="FLAKY"] ol.strip li:nth-child(4).flaky.now' },
  { expect_visible = 'section[data-status="FAIL"] svg.spark polyline' },
  { expect_text_contains = "The last 4 runs: median pass rate", in = "#trend-figures" },
  { expect_present = '#trend rect.rate.short.now' },
  # The screenshot opens at full size.
  { expect_present = 'section[data-status="FAIL"] .attempt:last-child .evidence img[data-loaded="yes"]' },
  { expect_hidden = "dialog#viewer" },
  { click = 'section[data-status="FAIL"] .attempt:last-child .evidence a.shot' },
  { expect_visible = 'dialog#viewer img[data-loaded="yes"]' },
  { expect_text_contains = "shown at 100%", in = "#viewer-size" },
  { expect_text_contains = "1 of 1: screenshot", in = "dialog#viewer figcaption" },
  { click = "#viewer-close" },
  { expect_hidden = "dialog#viewer" },
  { expect_no_console_errors = true },
]
"##;

#[test]
fn the_html_report_of_a_failing_flaky_two_worker_run_shows_failures_first_filters_a_timeline_history_and_full_size_screenshots(
) {
    let served = Served::start(&["flaky-home"]);
    let run = tempfile::tempdir().expect("tempdir");
    std::fs::write(run.path().join("run.toml"), TWO_WORKER_RUN).expect("spec written");
    let reports = run.path().join("reports");
    std::fs::create_dir_all(&reports).expect("reports folder");
    std::fs::write(reports.join("history.jsonl"), earlier_runs()).expect("history written");
    let args = ["--specs", "run.toml", "--liveserver", &served.url, "--workers", "2", "--retries", "1"];
    let out = ft_in(run.path(), &[&args[..], &["--max-wait", "3", "--message-format", "json"]].concat());
    assert_eq!(out.code, 1, "{}", out.all());
    let junit = read_junit(&reports.join("junit.xml"));
    assert_eq!(junit.case(FAILS).status, "failure", "{}", out.all());
    assert_eq!(junit.case(FLAKY).flaky.len(), 1, "{}", out.all());

    // The lanes, as the run's own events name its workers (0-based there, 1-based on the page).
    let lane = |name: &str| -> String {
        let started = out
            .stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|e| e["event"] == "scenario_started" && e["scenario"] == name)
            .unwrap_or_else(|| panic!("{name} started: {}", out.all()));
        (started["worker"].as_u64().expect("a worker") + 1).to_string()
    };
    let check = CHECK_THE_RUN.replace("{F}", &lane(FAILS)).replace("{K}", &lane(FLAKY));
    let page = std::fs::read_to_string(reports.join("index.html")).expect("index.html is written");
    assert!(!page.contains("src=\"http") && !page.contains("href=\"http"), "nothing links elsewhere: {page}");

    let server = FileServer::start(&reports);
    let checker = tempfile::tempdir().expect("tempdir");
    std::fs::write(checker.path().join("report.toml"), check).expect("spec written");
    let out = ft_in(checker.path(), &["--specs", "report.toml", "--liveserver", &server.url, "--max-wait", "10"]);
    assert_eq!(out.code, 0, "the page as a browser shows it:\n{}\n{page}", out.all());

    // From `file://` too, the strict policy lets the page's own script run and its
    // evidence load (a browser's DOM once the page has loaded).
    let dom = chromium_dom(&reports.join("index.html"));
    assert!(dom.contains("all 3 shown"), "the script ran: {dom}");
    assert!(dom.contains("data-loaded=\"yes\"") && !dom.contains("data-loaded=\"no\""), "evidence loaded: {dom}");
}

/// The DOM of a page opened from `file://` in headless Chromium (its headless shell, which
/// scripts/install-deps.sh installs: a third of the full browser's CPU), after it loaded.
fn chromium_dom(page: &Path) -> String {
    let profile = tempfile::tempdir().expect("tempdir");
    // Bounded: a browser that does not finish must not hang the suite.
    let out = std::process::Command::new("timeout")
        .args(["60", "chromium-headless-shell", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("file://{}", page.display()))
        .stdin(std::process::Stdio::null())
        .output()
        .expect("chromium runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}
