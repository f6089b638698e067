//! Issue 22: a scenario starts as a new visitor, with nothing of the scenario before it
//! on the same worker. A page plants a cookie, localStorage, an IndexedDB database, a
//! Cache Storage entry and a service worker; the next scenario, on the same reused
//! session (`--workers 1`), looks for each and must find none. Clearing cookies and
//! storage between scenarios (ft's reset before issue 22) left the last three behind on
//! Chromium and Firefox ("found: service worker, IndexedDB, Cache Storage").
//!
//! Where the remote end makes WebDriver BiDi user contexts, each scenario has its own;
//! where it does not (here: ft asks for no BiDi, as with a remote end without it), the
//! reset clears all five on the page's origin. The console and run.json say which.

use crate::common;

use std::io::Write;
use std::net::TcpStream;

use common::loopback::serve;
use common::*;

/// The plant page says "planted" once every kind of state is in place (the service
/// worker active); the check page lists what it found, or says "nothing found".
fn target() -> String {
    serve(|req, stream| {
        let path = req.line.split(' ').nth(1).unwrap_or("/");
        match path {
            "/plant" => html(stream, PLANT),
            "/check" => html(stream, CHECK),
            "/sw.js" => reply(stream, "text/javascript", "self.addEventListener('fetch', () => {});"),
            _ => reply(stream, "text/plain", "not here"),
        }
    })
}

const PLANT: &str = r#"<!doctype html><html><head><title>Plant</title><link rel="icon" href="data:,"></head>
<body><p id="status">planting</p><script>
document.cookie = "planted=1; max-age=3600; path=/";
localStorage.setItem("planted", "1");
const idb = new Promise((ok, no) => {
  const open = indexedDB.open("planted", 1);
  open.onupgradeneeded = () => open.result.createObjectStore("things");
  open.onsuccess = () => { open.result.close(); ok(); };
  open.onerror = () => no(open.error);
});
const cache = caches.open("planted").then(c => c.put("/planted", new Response("planted")));
const worker = navigator.serviceWorker.register("/sw.js").then(() => navigator.serviceWorker.ready);
Promise.all([idb, cache, worker]).then(
  () => { document.getElementById("status").textContent = "planted"; },
  e => { document.getElementById("status").textContent = "failed to plant: " + e; });
</script></body></html>"#;

const CHECK: &str = r#"<!doctype html><html><head><title>Check</title><link rel="icon" href="data:,"></head>
<body><p id="status">checking</p><script>
const found = [];
if (document.cookie.includes("planted")) found.push("cookie");
if (localStorage.getItem("planted")) found.push("localStorage");
Promise.all([
  indexedDB.databases().then(dbs => { if (dbs.some(d => d.name === "planted")) found.push("IndexedDB"); }),
  caches.keys().then(keys => { if (keys.includes("planted")) found.push("Cache Storage"); }),
  navigator.serviceWorker.getRegistrations().then(rs => { if (rs.length) found.push("service worker"); }),
]).then(
  () => { document.getElementById("status").textContent = found.length ? "found: " + found.join(", ") : "nothing found"; },
  e => { document.getElementById("status").textContent = "failed to check: " + e; });
</script></body></html>"#;

fn html(stream: &mut TcpStream, body: &str) {
    reply(stream, "text/html; charset=utf-8", body);
}

/// A whole 200 response of `content_type` (a service worker's script must be JavaScript).
fn reply(stream: &mut TcpStream, content_type: &str, body: &str) {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
    let _ = stream.flush();
}

/// The planting scenario has more steps, so it runs first (longest first, one worker).
const SPECS: &str = r##"
[[scenario]]
name = "a visitor leaves state behind"
steps = [
  { visit = "/plant" },
  { expect_title = "Plant" },
  { expect_text = "planted", in = "#status" },
]

[[scenario]]
name = "the next visitor finds none of it"
steps = [
  { visit = "/check" },
  { expect_text = "nothing found", in = "#status" },
]
"##;

/// Run the two scenarios on one worker with `extra` flags (and `env`); the output, the
/// run's JUnit and its run record.
fn run(extra: &[&str], env: &[(&str, &str)]) -> (Output, Junit, serde_json::Value) {
    run_specs(SPECS, extra, env)
}

fn run_specs(specs_text: &str, extra: &[&str], env: &[(&str, &str)]) -> (Output, Junit, serde_json::Value) {
    let url = target();
    let specs = tempfile::tempdir().expect("tempdir");
    std::fs::write(specs.path().join("isolation.toml"), specs_text).expect("write");
    let dir = tempfile::tempdir().expect("tempdir");
    let specs_path = specs.path().display().to_string();
    let mut cmd = ft_command(dir.path());
    cmd.args(["--specs", &specs_path, "--liveserver", &url, "--workers", "1", "--max-wait", "5"]).args(extra);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = output(&mut cmd);
    let junit = read_junit(&dir.path().join("reports/junit.xml"));
    let record = read_json(&dir.path().join("reports/run.json"));
    (out, junit, record)
}

/// Both scenarios pass: the second found nothing the first planted.
pub fn assert_isolated(extra: &[&str], env: &[(&str, &str)]) -> (Output, serde_json::Value) {
    let (out, junit, record) = run(extra, env);
    assert_eq!(junit.case("a visitor leaves state behind").status, "passed", "{}", out.all());
    let check = junit.case("the next visitor finds none of it");
    assert_eq!(check.status, "passed", "{}\n{}\n{}", check.message, check.body, out.all());
    assert_eq!(out.code, 0, "{}", out.all());
    (out, record)
}

#[test]
fn a_scenario_finds_nothing_the_one_before_planted_on_chromium() {
    let (out, record) = assert_isolated(&["--isolation", "user-context"], &[]);
    assert_isolation(&out, &record, "user-context", "a user context per scenario");
}

/// The default on both browsers: the thorough reset, which clears everything the page's
/// origin planted (a user context costs a renderer process each: 1.2-1.3x the suite), and
/// says it is the default.
#[test]
fn by_default_the_reset_clears_all_the_origin_planted_and_says_it_reset() {
    let (out, record) = assert_isolated(&[], &[]);
    assert_isolation(
        &out,
        &record,
        "reset",
        "reset between scenarios (no user contexts: --isolation reset, the default on Chromium)",
    );
    let (out, record) = assert_isolated(&["--browser", "firefox"], &[]);
    assert_isolation(
        &out,
        &record,
        "reset",
        "reset between scenarios (no user contexts: --isolation reset, the default on Firefox)",
    );
}

#[test]
fn a_scenario_finds_nothing_the_one_before_planted_on_firefox() {
    let (out, record) = assert_isolated(&["--browser", "firefox", "--isolation", "user-context"], &[]);
    assert_isolation(&out, &record, "user-context", "a user context per scenario");
}

#[test]
fn signals_off_still_isolate_by_user_context() {
    let (out, record) = assert_isolated(&["--no-signals", "--isolation", "user-context"], &[]);
    assert_isolation(&out, &record, "user-context", "a user context per scenario");
}

#[test]
fn without_bidi_the_reset_clears_all_of_it_and_says_it_reset() {
    let (out, record) = assert_isolated(&["--isolation", "user-context"], &[("FT_TEST_NO_BIDI", "1")]);
    assert_isolation(&out, &record, "reset", "reset between scenarios (no user contexts: the remote end offered no");
}

#[test]
fn without_bidi_the_reset_clears_all_of_it_on_firefox() {
    let (out, record) =
        assert_isolated(&["--browser", "firefox", "--isolation", "user-context"], &[("FT_TEST_NO_BIDI", "1")]);
    assert_isolation(&out, &record, "reset", "reset between scenarios");
}

#[test]
fn a_fresh_session_is_a_new_browser_and_says_so() {
    let (out, record) = assert_isolated(&["--fresh-session"], &[]);
    assert_isolation(&out, &record, "fresh-session", "a new browser per scenario");
}

/// The console's `isolation:` line and run.json's `isolation` name how the run isolated.
pub fn assert_isolation(out: &Output, record: &serde_json::Value, name: &str, said: &str) {
    assert_eq!(record["predicate"]["ft.run/v1"]["isolation"], name, "{record:#}");
    let line = out.stdout.lines().find(|l| l.trim_start().starts_with("isolation:")).unwrap_or_default();
    assert!(line.contains(said), "{:?} in the console:\n{}", said, out.all());
}

/// Four scenarios, one of them two visitors (`new_visitor`): five visitors in all.
const FIVE_VISITORS: &str = r##"
[[scenario]]
name = "a visitor leaves state behind"
steps = [
  { visit = "/plant" },
  { expect_title = "Plant" },
  { expect_text = "planted", in = "#status" },
  { new_visitor = true },
  { visit = "/check" },
  { expect_text = "nothing found", in = "#status" },
]

[[scenario]]
name = "the next visitor finds none of it"
steps = [
  { visit = "/check" },
  { expect_text = "nothing found", in = "#status" },
]

[[scenario]]
name = "a third visitor plants again"
steps = [
  { visit = "/plant" },
  { expect_text = "planted", in = "#status" },
]

[[scenario]]
name = "a fourth visitor finds none of it"
steps = [
  { visit = "/check" },
  { expect_text = "nothing found", in = "#status" },
]
"##;

/// No user context outlives its visitor: through a chromedriver started here with its
/// log on (every BiDi command ft sends is in it), five visitors on one session leave two
/// user contexts when the run ends, the last visitor's and the next one made ahead;
/// the browser ends with them.
#[test]
fn each_visitor_s_user_context_is_removed_after_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("chromedriver.log");
    let (_driver, webdriver) = chromedriver(&["--verbose".to_string(), format!("--log-path={}", log.display())]);
    let (out, junit, record) =
        run_specs(FIVE_VISITORS, &["--webdriver", &webdriver, "--isolation", "user-context"], &[]);
    assert_eq!((out.code, junit.tests, junit.failures), (0, 4, 0), "{}", out.all());
    assert_eq!(record["predicate"]["ft.run/v1"]["isolation"], "user-context", "{record:#}");
    let log = std::fs::read_to_string(&log).expect("chromedriver's log");
    let sent = |method: &str| log.matches(&format!("\"method\": \"{method}\"")).count();
    let (created, removed) = (sent("browser.createUserContext"), sent("browser.removeUserContext"));
    assert_eq!((created, removed), (6, 4), "five visitors and the next one made; all but the last two removed");
}

/// Issue 22: on a local Chromium (ft's own chromedriver) a user context per attempt is a
/// DevTools browser context: New Session asks for no BiDi (chromedriver's own log, kept by a
/// script given as `--driver`, shows no `webSocketUrl`), and the next scenario still finds
/// nothing the last one planted (cookie, storage, IndexedDB, Cache Storage, service worker).
#[test]
fn a_user_context_per_scenario_on_a_local_chromium_isolates_without_bidi() {
    let scripts = tempfile::tempdir().expect("tempdir");
    let log = scripts.path().join("chromedriver.log");
    let driver = scripts.path().join("chromedriver-logged.sh");
    let script = format!("#!/bin/sh\nexec /usr/bin/chromedriver --verbose --log-path={} \"$@\"\n", log.display());
    std::fs::write(&driver, script).expect("write");
    std::fs::set_permissions(&driver, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    let driver = driver.display().to_string();
    for signals in [&[][..], &["--no-signals"][..]] {
        let mut extra = vec!["--driver", &driver, "--isolation", "user-context"];
        extra.extend_from_slice(signals);
        let (out, record) = assert_isolated(&extra, &[]);
        assert_isolation(&out, &record, "user-context", "a user context per scenario");
        let log = std::fs::read_to_string(&log).expect("chromedriver's log");
        assert!(log.contains("COMMAND InitSession"), "the log was kept:\n{}", out.all());
        assert!(!log.contains("webSocketUrl"), "{signals:?}: New Session asked for no BiDi:\n{log}");
        assert!(!log.contains("\"method\": \"browser.createUserContext\""), "no user context made over BiDi");
    }
}
