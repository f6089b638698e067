//! `visit` with a whole http(s) URL, typically a value (a link captured from a page or
//! an email), beside a path on the target: real Chromium, real loopback servers. Where the
//! browser is sent is judged by the sensitive-URL guard before it loads and where it
//! lands; credentials in such a URL are never printed; a literal that is neither a path
//! nor an http(s) URL is a spec error at file:line:col.

use crate::common;

use std::sync::{Arc, Mutex};

use common::loopback::{respond, serve};
use common::*;

/// A second site (the one a captured link leads to): `/welcome` greets, `/broken` is a
/// 500, `/away` redirects to `to_sensitive`; every path a browser asked for is noted.
fn other_site(to_sensitive: Option<String>) -> (String, Arc<Mutex<Vec<String>>>) {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let noted = Arc::clone(&asked);
    let url = serve(move |req, stream| {
        let path = req.line.split(' ').nth(1).unwrap_or("/").to_string();
        if req.is_from_browser() {
            noted.lock().expect("lock").push(path.clone());
        }
        match path.split('?').next().unwrap_or("/") {
            "/welcome" => {
                respond(stream, "200 OK", "<!doctype html><title>Welcome</title><h1 id=\"hi\">Welcome back</h1>")
            }
            "/broken" => respond(stream, "500 Internal Server Error", "<!doctype html><title>Oops</title>oops"),
            "/away" => {
                let to = to_sensitive.clone().unwrap_or_default();
                let head = format!(
                    "HTTP/1.1 302 Found\r\nLocation: {to}/welcome\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = std::io::Write::write_all(stream, head.as_bytes());
            }
            _ => respond(stream, "404 Not Found", "not here"),
        }
    });
    (url, asked)
}

/// The target: its `/` links to `link` (as a login email would) and shows `text`.
fn target(link: &str, text: &str) -> String {
    let page = format!(
        "<!doctype html><title>Target</title><a id=\"login\" href=\"{link}\">log in</a><p id=\"text\">{text}</p>"
    );
    serve(move |_, stream| respond(stream, "200 OK", &page))
}

fn run_spec(spec: &str, target: &str, extra: &[&str]) -> (Output, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("visit.toml"), spec).expect("write");
    let mut args = vec!["--specs", "visit.toml", "--liveserver", target, "--max-wait", "3"];
    args.extend_from_slice(extra);
    let out = ft_in(dir.path(), &args);
    (out, dir)
}

const FOLLOW_THE_LINK: &str = r##"
[[scenario]]
name = "follows the link it was sent"
steps = [
  { visit = "/" },
  { capture = "login_link", attribute = "href", of = "#login" },
  { visit = "${login_link}" },
  { expect_text = "Welcome back", in = "#hi" },
]
"##;

#[test]
fn a_visit_to_a_captured_url_loads_that_page_and_never_prints_its_credentials() {
    let (site, asked) = other_site(None);
    let with_creds = site.replacen("http://", "http://edith:hunter2@", 1);
    let target = target(&format!("{with_creds}/welcome?token=s3cr3t"), "");
    let (out, dir) = run_spec(FOLLOW_THE_LINK, &target, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(asked.lock().expect("lock").iter().any(|p| p.starts_with("/welcome")), "the browser went there");
    let run = std::fs::read_to_string(dir.path().join("reports/run.json")).expect("run.json");
    for text in [out.all(), run] {
        assert!(!text.contains("hunter2") && !text.contains("s3cr3t"), "credentials printed:\n{text}");
    }
}

#[test]
fn a_visit_to_a_captured_url_loads_that_page_on_firefox() {
    let (site, asked) = other_site(None);
    let target = target(&format!("{site}/welcome?token=s3cr3t"), "");
    let (out, _dir) = run_spec(FOLLOW_THE_LINK, &target, &["--browser", "firefox"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(asked.lock().expect("lock").iter().any(|p| p.starts_with("/welcome")), "the browser went there");
    assert!(!out.all().contains("s3cr3t"), "{}", out.all());
}

#[test]
fn a_captured_url_that_fails_to_load_fails_its_visit_named_without_credentials() {
    let (site, _) = other_site(None);
    let with_creds = site.replacen("http://", "http://edith:hunter2@", 1);
    let target = target(&format!("{with_creds}/broken"), "");
    let (out, dir) = run_spec(FOLLOW_THE_LINK, &target, &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    let junit = read_junit(&dir.path().join("reports/junit.xml"));
    let case = junit.case("follows the link it was sent");
    assert_eq!(case.status, "failure", "{case:?}");
    assert!(case.message.contains("answered HTTP 500"), "{case:?}");
    assert!(case.message.contains("http://***@127.0.0.1:"), "the URL is named, its credentials hidden: {case:?}");
    assert!(!out.all().contains("hunter2"), "{}", out.all());
}

#[test]
fn a_value_that_is_neither_a_path_nor_an_http_url_fails_its_visit_saying_so() {
    let target = target("/welcome", "lists/1/");
    let spec = r##"
[[scenario]]
name = "visits a relative path from the page"
steps = [
  { visit = "/" },
  { capture = "where", text_of = "#text" },
  { visit = "${where}" },
  { expect_title = "Target" },
]
"##;
    let (out, dir) = run_spec(spec, &target, &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    let case = read_junit(&dir.path().join("reports/junit.xml")).case("visits a relative path from the page").clone();
    assert!(
        case.message.contains(
            "cannot visit \"lists/1/\": it is neither a path on the target (starting with `/`) nor an http(s) URL"
        ),
        "{case:?}"
    );
}

#[test]
fn an_unsafe_scenario_may_not_visit_a_sensitive_url_nor_land_on_one_through_a_redirect() {
    let (live, live_asked) = other_site(None);
    let (front, _) = other_site(Some(live.clone()));
    let target = target(&format!("{live}/welcome?token=s3cr3t"), "");
    let spec = format!(
        r##"
[[scenario]]
name = "follows the link it was sent"
tags = ["accounts"]
steps = [
  {{ visit = "/" }},
  {{ capture = "login_link", attribute = "href", of = "#login" }},
  {{ visit = "${{login_link}}" }},
  {{ expect_text = "Welcome back", in = "#hi" }},
]

[[scenario]]
name = "is redirected there"
tags = ["accounts"]
steps = [{{ visit = "{front}/away" }}, {{ expect_text = "Welcome back", in = "#hi" }}]

[[scenario]]
name = "is safe"
tags = ["smoke"]
steps = [{{ visit = "{live}/welcome" }}, {{ expect_text = "Welcome back", in = "#hi" }}]
"##
    );
    let sensitive = format!("^{}/", regex::escape(&live));
    let (out, dir) = run_spec(&spec, &target, &["--sensitive-url", &sensitive]);
    assert_eq!(out.code, 3, "ft refused to go on: an error\n{}", out.all());
    let junit = read_junit(&dir.path().join("reports/junit.xml"));
    let refused = junit.case("follows the link it was sent");
    assert_eq!(refused.status, "error", "{refused:?}");
    assert!(refused.message.contains(&format!("refused to load {live}/welcome?token=***")), "{refused:?}");
    let redirected = junit.case("is redirected there");
    assert_eq!(redirected.status, "error", "{redirected:?}");
    assert!(redirected.message.contains(&format!("the browser landed on {live}/welcome")), "{redirected:?}");
    assert_eq!(junit.case("is safe").status, "passed");
    // Only the redirect (which the guard judges where it lands) and the safe scenario got there.
    let asked = live_asked.lock().expect("lock").clone();
    assert_eq!(asked.iter().filter(|p| p.contains("token")).count(), 0, "the refused link was never loaded: {asked:?}");
    assert!(!out.all().contains("s3cr3t"), "{}", out.all());
}

#[test]
fn a_literal_that_is_neither_a_path_nor_an_http_url_is_a_spec_error_where_it_is_written() {
    let spec = r##"[[scenario]]
name = "bad visits"
steps = [
  { visit = "lists/1/" },
  { visit = "ftp://files.example/report" },
  { visit = "https://" },
  { visit = "mailto:${run.id}" },
  { visit = "https://u:hunter2@example.com/" },
  { visit = "https://${run.id}.example.com/" },
]
"##;
    let (out, _dir) = run_spec(spec, "http://127.0.0.1:9", &[]);
    assert_eq!(out.code, 2, "{}", out.all());
    let err = &out.stderr;
    assert!(
        err.contains("visit.toml:4:13: error: `visit` takes a path on the target (starting with `/`) or an http(s) URL, found \"lists/1/\""),
        "{err}"
    );
    assert!(err.contains("{ visit = \"${login_link}\" }"), "the hint shows a whole URL from a value: {err}");
    assert!(err.contains("visit.toml:5:13: error:") && err.contains("not ftp:"), "{err}");
    assert!(err.contains("visit.toml:6:13: error:") && err.contains("not a URL a browser can load"), "{err}");
    assert!(err.contains("visit.toml:7:13: error:") && err.contains("\"mailto:${run.id}\""), "{err}");
    assert!(!err.contains("visit.toml:8:") && !err.contains("visit.toml:9:"), "a whole URL is fine: {err}");
}
