//! The steps of issue 21 that act on a page without finding an element first (answering
//! a dialog, reloading) go through the sensitive-URL guard as every other action does: a
//! confirm a sensitive page opens as it loads is not accepted by an unsafe scenario, nor
//! is a sensitive page reloaded. Real Chromium,
//! real loopback servers; what reached the sensitive server is what it was asked.

use crate::common;

use std::sync::{Arc, Mutex};

use common::loopback::{respond, serve};
use common::*;

/// The sensitive server: `/confirm` asks "Delete everything?" as it loads and, accepted,
/// asks for `/deleted`; every path a browser asked for is noted.
fn live() -> (String, Arc<Mutex<Vec<String>>>) {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let noted = Arc::clone(&asked);
    let url = serve(move |req, stream| {
        let path = req.line.split(' ').nth(1).unwrap_or("/").to_string();
        if req.is_from_browser() {
            noted.lock().expect("lock").push(path.clone());
        }
        match path.as_str() {
            "/confirm" => respond(
                stream,
                "200 OK",
                "<!doctype html><title>Live</title><link rel=\"icon\" href=\"data:,\"><p id=\"done\">kept</p>\
                 <script>window.onload = () => { if (confirm('Delete everything?')) \
                 fetch('/deleted').then(() => { done.textContent = 'deleted'; }); };</script>",
            ),
            "/deleted" => respond(stream, "200 OK", "gone"),
            "/count" => respond(stream, "200 OK", "<!doctype html><title>Counted</title><p id=\"n\">counted</p>"),
            _ => respond(stream, "404 Not Found", "not here"),
        }
    });
    (url, asked)
}

/// The target: a page whose link leads to the sensitive server's confirm page.
fn target(live: &str) -> String {
    let page = format!(
        "<!doctype html><title>Staging</title><link rel=\"icon\" href=\"data:,\"><a id=\"go\" href=\"{live}/confirm\">go</a>\
         <a id=\"count\" href=\"{live}/count\">count</a>"
    );
    serve(move |_, stream| respond(stream, "200 OK", &page))
}

const SPEC: &str = r##"
[[scenario]]
name = "accepts what the page asks"
tags = ["lists"]
steps = [
  { visit = "/" },
  { click = "#go" },
  { accept_dialog = "Delete everything?" },
  { expect_text = "deleted", in = "#done" },
]

[[scenario]]
name = "accepts what the page asks, safely"
tags = ["smoke"]
steps = [
  { visit = "/" },
  { click = "#go" },
  { accept_dialog = "Delete everything?" },
  { expect_text = "deleted", in = "#done" },
]
"##;

/// A reload asks its page again: an unsafe scenario a link led to a sensitive page does
/// not reload it (the page was loaded once, by the click, and no more).
const RELOAD: &str = r##"
[[scenario]]
name = "reloads where a link led"
tags = ["lists"]
steps = [
  { visit = "/" },
  { click = "#count" },
  { reload = true },
  { expect_text = "counted", in = "#n" },
]
"##;

#[test]
fn an_unsafe_scenario_does_not_reload_a_sensitive_page_a_link_led_to() {
    let (out, junit, asked, live) = run_with(RELOAD, &[], &[]);
    assert_eq!(out.code, 3, "{}", out.all());
    let refused = junit.case("reloads where a link led");
    assert_eq!(refused.status, "error", "{refused:?}");
    assert!(refused.message.contains(&format!("the browser landed on {live}/count")), "{refused:?}");
    assert!(refused.message.contains("reload"), "it stopped at the reload: {refused:?}");
    assert_eq!(asked.iter().filter(|p| *p == "/count").count(), 1, "loaded by the click only: {asked:?}");
}

fn run(extra: &[&str], env: &[(&str, &str)]) -> (Output, Junit, Vec<String>, String) {
    run_with(SPEC, extra, env)
}

fn run_with(spec: &str, extra: &[&str], env: &[(&str, &str)]) -> (Output, Junit, Vec<String>, String) {
    let (live, asked) = live();
    let target = target(&live);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("dialogs.toml"), spec).expect("write");
    let sensitive = format!("^{}/", regex::escape(&live));
    let mut cmd = ft_command(dir.path());
    // No scenario here waits out `--max-wait` (the guard refuses at once, the safe one
    // passes): it only bounds each check, and a click whose page opens a dialog as it
    // loads took over 3 s on Firefox at a load of 20.
    cmd.args(["--specs", "dialogs.toml", "--liveserver", &target, "--sensitive-url", &sensitive, "--max-wait", "10"]);
    cmd.args(extra);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = output(&mut cmd);
    let junit = read_junit(&dir.path().join("reports/junit.xml"));
    let asked = asked.lock().expect("lock").clone();
    (out, junit, asked, live)
}

#[test]
fn an_unsafe_scenario_does_not_accept_a_dialog_a_sensitive_page_opened_and_a_safe_one_does() {
    assert_only_the_safe_scenario_accepts(&[]);
}

/// Firefox tells the page behind an open dialog over BiDi too.
#[test]
fn an_unsafe_scenario_does_not_accept_a_dialog_a_sensitive_page_opened_on_firefox() {
    assert_only_the_safe_scenario_accepts(&["--browser", "firefox"]);
}

/// With the browser's signals off, a run the guard watches that answers dialogs still asks
/// for WebDriver BiDi, to read the page behind a dialog.
#[test]
fn with_signals_off_an_unsafe_scenario_does_not_accept_a_dialog_a_sensitive_page_opened() {
    assert_only_the_safe_scenario_accepts(&["--no-signals"]);
}

fn assert_only_the_safe_scenario_accepts(extra: &[&str]) {
    let (out, junit, asked, live) = run(extra, &[]);
    assert_eq!(out.code, 3, "ft refused to go on: an error\n{}", out.all());
    let refused = junit.case("accepts what the page asks");
    assert_eq!(refused.status, "error", "{refused:?}");
    assert!(refused.message.contains(&format!("the browser landed on {live}/confirm")), "{refused:?}");
    assert!(refused.message.contains("stopped before acting there"), "{refused:?}");
    assert!(refused.message.contains("accept the dialog saying"), "it stopped at the dialog step: {refused:?}");
    assert_eq!(junit.case("accepts what the page asks, safely").status, "passed", "{}", out.all());
    assert_eq!(
        asked.iter().filter(|p| *p == "/deleted").count(),
        1,
        "only the safe scenario's dialog was accepted: {asked:?}"
    );
}

/// Without WebDriver BiDi no command can read the URL behind an open dialog: an unsafe
/// scenario does not answer it blind; a safe one still may.
#[test]
fn without_bidi_an_unsafe_scenario_does_not_answer_a_dialog_on_a_page_it_cannot_name() {
    let (out, junit, asked, _) = run(&[], &[("FT_TEST_NO_BIDI", "1")]);
    assert_eq!(out.code, 3, "{}", out.all());
    let refused = junit.case("accepts what the page asks");
    assert_eq!(refused.status, "error", "{refused:?}");
    assert!(
        refused.message.contains("refused to accept the dialog: which page it is on cannot be known"),
        "{refused:?}"
    );
    assert_eq!(junit.case("accepts what the page asks, safely").status, "passed", "{}", out.all());
    assert_eq!(asked.iter().filter(|p| *p == "/deleted").count(), 1, "{asked:?}");
}
