//! The browser's signals through real browsers: a page that logs `console.error`, throws,
//! loads a missing image and fetches a 500 endpoint fails its scenario with each of the
//! four named; allow patterns let it pass; a clean page passes with the checks on. On
//! Chromium, on Firefox and through a Selenium Grid (BiDi through the Grid's proxy).

use crate::common;

use common::loopback::{respond, serve};
use common::*;

/// The page's own words, so a failure message can be checked for each.
const LOGGED: &str = "boom from the page";
const THROWN: &str = "kaboom thrown by the page";

/// A target with a noisy page and a clean one. The noisy page says "all done" once its
/// image failed and its fetch was answered, so a scenario can wait for that first.
fn target() -> String {
    serve(|req, stream| {
        let path = req.line.split(' ').nth(1).unwrap_or("/");
        match path {
            "/noisy" => {
                let page = format!(
                    "<!doctype html><html><head><title>Noisy</title><link rel=\"icon\" href=\"data:,\"></head>\
                     <body><p id=\"status\">loading</p><script>\
                     console.error({LOGGED:?});\
                     setTimeout(() => {{ throw new Error({THROWN:?}); }});\
                     const img = new Promise(r => {{ const i = new Image(); i.onerror = r; i.onload = r; \
                       i.src = '/missing.png'; document.body.appendChild(i); }});\
                     const api = fetch('/api/broken').catch(() => null);\
                     Promise.all([img, api]).then(() => setTimeout(() => \
                       {{ document.getElementById('status').textContent = 'all done'; }}, 0));\
                     </script></body></html>"
                );
                respond(stream, "200 OK", &page);
            }
            "/clean" => respond(
                stream,
                "200 OK",
                "<!doctype html><html><head><title>Clean</title><link rel=\"icon\" href=\"data:,\"></head>\
                 <body><p id=\"status\">all done</p><script>console.log('fine');</script></body></html>",
            ),
            "/api/broken" => respond(stream, "500 Internal Server Error", "{\"error\": \"broken\"}"),
            _ => respond(stream, "404 Not Found", "not here"),
        }
    })
}

/// The suite's check on: the noisy page fails naming all four, the clean page passes.
const SUITE: &str = r##"
[suite]
signals = { console_errors = "fail", failed_requests = "fail" }

[[scenario]]
name = "a noisy page"
steps = [
  { visit = "/noisy" },
  { expect_text = "all done", in = "#status" },
]

[[scenario]]
name = "a clean page"
steps = [
  { visit = "/clean" },
  { expect_text = "all done", in = "#status" },
]
"##;

/// Steps, each with its own allow-list.
const STEPS: &str = r##"
[[scenario]]
name = "the noisy page with every signal allowed"
steps = [
  { visit = "/noisy" },
  { expect_text = "all done", in = "#status" },
  { expect_no_console_errors = true, allow = ["^boom from", "kaboom"] },
  { expect_no_failed_requests = true, allow = ['/missing\.png$', "/api/broken"] },
]

[[scenario]]
name = "the noisy page with only the logged error allowed"
steps = [
  { visit = "/noisy" },
  { expect_text = "all done", in = "#status" },
  { expect_no_console_errors = true, allow = "^boom from" },
]

[[scenario]]
name = "the noisy page's failed requests"
steps = [
  { visit = "/noisy" },
  { expect_text = "all done", in = "#status" },
  { expect_no_failed_requests = true },
]
"##;

fn specs() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("suite.toml"), SUITE).expect("write");
    std::fs::write(dir.path().join("steps.toml"), STEPS).expect("write");
    dir
}

/// Run the fixture specs against the fixture target with `extra` flags and check each
/// scenario's verdict and message.
fn assert_signals_judged(extra: &[&str]) {
    assert_judged(extra, false);
}

/// As `assert_signals_judged`; `without_bidi` runs ft as with a remote end that offers
/// no BiDi (Chromium's log is the fallback: it does not tell what kind of resource failed).
fn assert_judged(extra: &[&str], without_bidi: bool) {
    let url = target();
    let specs = specs();
    let dir = tempfile::tempdir().expect("tempdir");
    let specs_path = specs.path().display().to_string();
    let mut args = vec!["--specs", specs_path.as_str(), "--liveserver", url.as_str(), "--max-wait", "5"];
    args.extend_from_slice(extra);
    let mut cmd = ft_command(dir.path());
    cmd.args(&args);
    if without_bidi {
        cmd.env("FT_TEST_NO_BIDI", "1");
    }
    let out = output(&mut cmd);
    let image = if without_bidi { "" } else { " (image)" };
    assert_eq!(out.code, 1, "{}", out.all());
    let junit = read_junit(&dir.path().join("reports/junit.xml"));
    assert_eq!(
        junit.failed_names(),
        vec!["a noisy page", "the noisy page with only the logged error allowed", "the noisy page's failed requests"],
        "{}",
        out.all()
    );
    assert_eq!(junit.errors, 0, "{}", out.all());

    let noisy = junit.case("a noisy page");
    let all = format!("{}\n{}", noisy.message, noisy.body);
    for want in [
        format!("1 console error: \"{LOGGED}\""),
        "1 uncaught exception:".to_string(),
        THROWN.to_string(),
        format!("GET /missing.png → 404{image}"),
        "GET /api/broken → 500".to_string(),
    ] {
        assert!(all.contains(&want), "the failure names {want:?}:\n{all}");
    }
    assert!(all.contains("[suite] signals"), "the failing check is the suite's: {all}");
    // The evidence beside the screenshot names each of the four too, as data.
    let noisy_signals = signals_files(&dir.path().join("reports/artifacts"))
        .into_iter()
        .map(|p| serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(&p).expect("read")).expect("json"))
        .find(|v| v.to_string().contains(LOGGED))
        .unwrap_or_else(|| panic!("a signals.json names the logged error: {}", out.all()));
    let entries = noisy_signals["entries"].as_array().expect("entries");
    let has =
        |kind: &str, what: &dyn Fn(&serde_json::Value) -> bool| entries.iter().any(|e| e["kind"] == kind && what(e));
    assert!(has("console_error", &|e| e["text"] == LOGGED), "{noisy_signals:#}");
    assert!(has("exception", &|e| e["text"].as_str().is_some_and(|t| t.contains(THROWN))), "{noisy_signals:#}");
    let request = |path: &'static str, status: u64| {
        move |e: &serde_json::Value| {
            e["status"] == status && e["url"].as_str().is_some_and(|u| u.ends_with(path)) && e["method"] != "POST"
        }
    };
    assert!(has("failed_request", &request("/missing.png", 404)), "{noisy_signals:#}");
    assert!(has("failed_request", &request("/api/broken", 500)), "{noisy_signals:#}");
    // A local Chromium's signals come over DevTools (no BiDi mapper to start); a Grid's
    // and Firefox's over BiDi.
    let over_bidi = extra.iter().any(|a| *a == "--webdriver" || *a == "firefox");
    let source = match (without_bidi, over_bidi) {
        (true, _) => "chromium-log",
        (false, true) => "bidi",
        (false, false) => "devtools",
    };
    assert_eq!(noisy_signals["source"], source, "{noisy_signals:#}");

    let partly = junit.case("the noisy page with only the logged error allowed");
    let text = step_words(&partly.message, &partly.body);
    assert!(text.contains(THROWN) && !text.contains(LOGGED), "only the exception is left: {text}");
    assert!(!text.contains("missing.png"), "requests are not this step's business: {text}");

    let requests = junit.case("the noisy page's failed requests");
    let text = step_words(&requests.message, &requests.body);
    assert!(
        text.contains(&format!("GET /missing.png → 404{image}")) && text.contains("GET /api/broken → 500"),
        "{text}"
    );
    assert!(!text.contains(LOGGED), "console errors are not this step's business: {text}");
}

/// A failure's own words, without the browser's summary every failure carries (`[browser:
/// ...]` at the end of the message, a `browser:` line in the body): what the step judged.
fn step_words(message: &str, body: &str) -> String {
    let message = message.split(" [browser: ").next().unwrap_or(message);
    let body: Vec<&str> = body.lines().filter(|l| !l.starts_with("browser: ")).collect();
    format!("{message}\n{}", body.join("\n"))
}

/// Every `*.signals.json` evidence file under `dir`.
fn signals_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(signals_files(&path));
        } else if path.to_string_lossy().ends_with(".signals.json") {
            found.push(path);
        }
    }
    found
}

#[test]
fn a_noisy_page_fails_naming_each_signal_and_a_clean_page_passes_on_chromium() {
    assert_signals_judged(&[]);
}

#[test]
fn without_bidi_chromium_s_own_log_is_the_fallback() {
    assert_judged(&[], true);
}

#[test]
fn a_noisy_page_fails_naming_each_signal_and_a_clean_page_passes_on_firefox() {
    assert_signals_judged(&["--browser", "firefox"]);
}

#[test]
fn without_signals_a_written_check_fails_saying_so_and_the_suite_check_is_skipped() {
    let url = target();
    let specs = specs();
    let dir = tempfile::tempdir().expect("tempdir");
    let specs_path = specs.path().display().to_string();
    let out = ft_in(
        dir.path(),
        &["--specs", &specs_path, "--liveserver", &url, "--max-wait", "5", "--no-signals", "--filter", "every signal"],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("signals were not collected (signals are turned off (--no-signals))"), "{}", out.all());
    let out =
        ft_in(dir.path(), &["--specs", &specs_path, "--liveserver", &url, "--no-signals", "--filter", "a noisy page"]);
    assert_eq!(out.code, 0, "the suite's check is skipped when signals are off\n{}", out.all());
}

#[test]
fn signals_are_collected_through_a_selenium_grid_on_chromium_and_firefox() {
    let grid = common::grid::Grid::shared();
    assert_signals_judged(&["--webdriver", grid.url, "--driver", "/nonexistent"]);
    assert_signals_judged(&["--webdriver", grid.url, "--browser", "firefox"]);
}

/// Firefox has no log to fall back on: a remote end without BiDi leaves the signals
/// uncollected, and even the suite's check fails saying so rather than passing.
#[test]
fn without_bidi_firefox_s_checks_fail_saying_the_signals_were_not_collected() {
    let url = target();
    let specs = specs();
    let dir = tempfile::tempdir().expect("tempdir");
    let specs_path = specs.path().display().to_string();
    let args = ["--specs", &specs_path, "--liveserver", &url, "--browser", "firefox", "--filter", "a clean page"];
    let out = output(ft_command(dir.path()).args(args).env("FT_TEST_NO_BIDI", "1"));
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains(
            "cannot tell: the browser's signals were not collected (the remote end offered no WebDriver BiDi"
        ),
        "{}",
        out.all()
    );
}
