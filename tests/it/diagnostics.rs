//! Issue 13, diagnostics: a step that waits on a page the server answered with an HTTP
//! error says so (status and request), in Chromium and Firefox; and a server that sends
//! part of a page and then stalls costs a scenario its --max-wait, not a minute.

use crate::common;

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::loopback::{self, respond};
use common::*;

const FORM: &str = "<!doctype html><title>To-Do</title>\
<form method=\"POST\" action=\"/lists/new\"><input id=\"id_text\" name=\"text\"></form>";

/// `/` has the item form, whose POST answers 500; anything else is a 404.
fn failing_server() -> String {
    loopback::serve(|request, stream| {
        if request.line.starts_with("GET / ") {
            respond(stream, "200 OK", FORM)
        } else if request.line.starts_with("POST /lists/new ") {
            respond(stream, "500 Internal Server Error", "<!doctype html><title>Server Error</title><h1>Oops</h1>")
        } else {
            respond(stream, "404 Not Found", "<!doctype html><title>Not Found</title><h1>Not Found</h1>")
        }
    })
}

const HTTP_ERRORS: &str = r##"
[[scenario]]
name = "a form answered 500"
steps = [
  { visit = "/" },
  { type = "Buy milk", into = "#id_text" },
  { press = "Enter", on = "#id_text" },
  { expect_row = "1: Buy milk", in = "#id_list_table" },
]

[[scenario]]
name = "a page answered 404"
steps = [
  { visit = "/nowhere?x=1" },
  { type = "Buy milk", into = "#id_text" },
  { expect_title = "To-Do" },
]
"##;

fn assert_http_errors_named(browser: &str) {
    let url = failing_server();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("errors.toml"), HTTP_ERRORS).expect("write spec");
    let out =
        ft_in(dir.path(), &["--specs", "errors.toml", "--liveserver", &url, "--max-wait", "3", "--browser", browser]);
    assert_eq!(out.code, 1, "{}", out.all());
    let junit = read_junit(&dir.path().join("reports/junit.xml"));
    // The POST's answer: the expectation after it names the status and the request.
    let post = junit.case("a form answered 500");
    assert_eq!(post.status, "failure", "{post:?}");
    assert!(post.message.contains("expect a row \"1: Buy milk\""), "{}", post.message);
    assert!(post.message.contains("the page is an HTTP 500 response (POST /lists/new)"), "{browser}: {}", post.message);
    // A visit's 404: the action waiting for its element names it too (path and query).
    let missing = junit.case("a page answered 404");
    assert!(
        missing.message.contains("the page is an HTTP 404 response (GET /nowhere?x=1)"),
        "{browser}: {}",
        missing.message
    );
    assert!(out.stdout.contains("the page is an HTTP 500 response (POST /lists/new)"), "{}", out.stdout);
}

#[test]
fn an_expectation_after_a_post_answered_500_says_the_page_is_that_error_in_chromium() {
    assert_http_errors_named("chrome");
}

#[test]
fn an_expectation_after_a_post_answered_500_says_the_page_is_that_error_in_firefox() {
    assert_http_errors_named("firefox");
}

/// A server that sends the head and part of the page to browsers (a GET of `/`, or the
/// item form's POST), then holds the connection open and sends nothing more; `/ok` is a
/// whole page, `/form` the item form, and ft's preflight is answered.
fn stalling_server() -> (String, Arc<AtomicUsize>) {
    let posts = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&posts);
    let url = loopback::serve(move |request, stream| {
        if request.line.starts_with("POST ") {
            counted.fetch_add(1, Ordering::SeqCst);
        }
        if request.line.starts_with("GET /ok ") {
            respond(stream, "200 OK", "<!doctype html><title>fine</title><p>fine</p>");
        } else if request.line.starts_with("GET /form ") {
            respond(stream, "200 OK", FORM);
        } else if request.is_from_browser() {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n";
            let _ = stream.write_all(format!("{head}<!doctype html><title>half</title><p>the first part").as_bytes());
            let _ = stream.flush();
            std::thread::sleep(Duration::from_secs(180));
        } else {
            respond(stream, "200 OK", "<!doctype html><title>up</title>");
        }
    });
    (url, posts)
}

const STALLS: &str = r##"
[[scenario]]
name = "cut off"
steps = [ { visit = "/" }, { expect_title = "whole" } ]

[[scenario]]
name = "a form's answer cut off"
steps = [
  { visit = "/form" },
  { type = "Buy milk", into = "#id_text" },
  { press = "Enter", on = "#id_text" },
  { expect_title = "whole" },
]

[[scenario]]
name = "after"
steps = [ { visit = "/ok" }, { expect_title = "fine" } ]
"##;

/// Before: the visit waited for the page for the 60 s every WebDriver command may take,
/// then the scenario was an infrastructure error and its browser was thrown away. Now the
/// page-load deadline (--max-wait, at least 10 s) ends it as the app's failure.
fn assert_stalls_fail_at_the_page_load_deadline(browser: &str) {
    let (url, posts) = stalling_server();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("stall.toml"), STALLS).expect("write spec");
    let t0 = Instant::now();
    let out =
        ft_in(dir.path(), &["--specs", "stall.toml", "--liveserver", &url, "--max-wait", "3", "--browser", browser]);
    let took = t0.elapsed();
    assert_eq!(out.code, 1, "the app's failure, not infrastructure\n{}", out.all());
    // Two stalled scenarios used to cost 60 s each, and a new browser each.
    assert!(took < Duration::from_secs(90), "took {took:?}\n{}", out.all());
    let junit = read_junit(&dir.path().join("reports/junit.xml"));
    let cut = junit.case("cut off");
    assert_eq!(cut.status, "failure", "{cut:?}");
    assert!(cut.message.contains("visit /"), "{}", cut.message);
    assert!(
        cut.message.contains("the page did not finish loading within 10s (--max-wait, at least 10s)"),
        "{browser}: {}",
        cut.message
    );
    assert!(cut.time < 30.0, "the stalled visit cost its page-load deadline, not 60 s: {cut:?}");
    // A form whose answer stalls fails within the same bound, and is not sent again.
    let form = junit.case("a form's answer cut off");
    assert_eq!(form.status, "failure", "{form:?}");
    assert_eq!(posts.load(Ordering::SeqCst), 1, "the form was sent once: {}", out.all());
    assert_eq!(junit.case("after").status, "passed", "the reset after them worked: {}", out.all());
    assert_eq!(junit.property("sessions"), Some("reused"));
}

#[test]
fn a_page_cut_off_mid_response_fails_at_its_page_load_deadline_and_the_worker_goes_on_in_chromium() {
    assert_stalls_fail_at_the_page_load_deadline("chrome");
}

#[test]
fn a_page_cut_off_mid_response_fails_at_its_page_load_deadline_and_the_worker_goes_on_in_firefox() {
    assert_stalls_fail_at_the_page_load_deadline("firefox");
}
