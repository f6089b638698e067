//! Sensitive targets judged where the browser lands (issue 9): a harmless-looking target
//! that redirects to a precious server, or a page that links there, must not let an
//! unsafe scenario write to it. And URL comparisons ignore a target URL's credentials.
//! Real browser, real servers; what reached the precious server is read from its database.

use crate::common;

use std::io::{Read, Write};
use std::net::TcpListener;

use common::*;

/// What the scenarios of the built-in suite tagged `smoke` write; nothing else may reach
/// a sensitive server.
const SAFE_ITEMS: [&str; 3] = ["Buy peacock feathers", "Use peacock feathers to make a fly", "testing"];

/// A tiny HTTP server standing in for a staging name in front of `live`: `/` is its own
/// page with a link and a form leading to `live`, `/go` answers 302 to `live`, and with
/// `redirect_all` every request is redirected to the same path on `live`.
fn front(live: &str, redirect_all: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let live = live.to_string();
    std::thread::spawn(move || {
        for conn in listener.incoming().take(500) {
            let Ok(mut conn) = conn else { continue };
            let live = live.clone();
            // A connection each: browsers open sockets they never send on.
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                let n = conn.read(&mut buf).unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]);
                let path = req.split_whitespace().nth(1).unwrap_or("/").to_string();
                let answer = if redirect_all || path == "/go" {
                    let to = if redirect_all { format!("{live}{path}") } else { format!("{live}/") };
                    format!("HTTP/1.1 302 Found\r\nlocation: {to}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                } else {
                    let body = format!(
                        "<!doctype html><title>staging</title><a id=\"go\" href=\"{live}/\">the app</a>\
                         <form method=\"get\" action=\"{live}/\"><button id=\"send\">send</button></form>"
                    );
                    format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    )
                };
                let _ = conn.write_all(answer.as_bytes());
            });
        }
    });
    url
}

/// `--sensitive-url` for exactly this server (the trailing `/` keeps port 4000 from
/// matching 40001).
fn only(served: &Served) -> String {
    format!("^{}/", regex::escape(&served.url))
}

fn items(served: &Served) -> Vec<String> {
    let conn = rusqlite::Connection::open(served.db()).expect("open the app's database");
    let mut stmt = conn.prepare("SELECT text FROM items ORDER BY id").expect("query");
    let rows = stmt.query_map([], |row| row.get::<_, String>(0)).expect("rows");
    rows.map(|r| r.expect("row")).collect()
}

#[test]
fn a_target_redirecting_to_a_sensitive_server_runs_only_safe_scenarios_there() {
    let live = Served::start(&[]);
    let staging = front(&live.url, true);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = ft_in(dir.path(), &["--liveserver", &staging, "--sensitive-url", &only(&live)]);
    assert_eq!(out.code, 0, "{}", out.all());
    let junit = read_junit(&dir.path().join("reports/junit.xml"));
    assert_eq!((junit.tests, junit.skipped), (7, 5), "{}", out.all());
    let skipped = junit.case("cannot add duplicate items");
    assert_eq!(skipped.status, "skipped");
    assert!(
        skipped.message.contains(&format!("{staging} redirects to {}/, which matches --sensitive-url", live.url)),
        "the reason names where the target led: {skipped:?}"
    );
    let written = items(&live);
    assert!(!written.is_empty(), "the safe scenarios did run on the server behind the redirect");
    assert!(written.iter().all(|i| SAFE_ITEMS.contains(&i.as_str())), "an unsafe scenario wrote {written:?}");
}

#[test]
fn an_unsafe_scenario_led_to_a_sensitive_server_mid_run_stops_as_an_error_before_acting() {
    let live = Served::start(&[]);
    let staging = front(&live.url, false);
    let dir = tempfile::tempdir().expect("tempdir");
    // Add an item to a list, and see it there.
    let add = |item: &str| {
        format!(
            "{{ type = \"{item}\", into = \"#id_text\" }}, {{ press = \"Enter\", on = \"#id_text\" }}, \
             {{ expect_row = \"1: {item}\", in = \"#id_list_table\" }}"
        )
    };
    let spec = format!(
        "[[scenario]]\nname = \"follows a link\"\ntags = [\"lists\"]\n\
         steps = [ {{ visit = \"/\" }}, {{ click = \"#go\" }}, {add_link} ]\n\n\
         [[scenario]]\nname = \"submits a form\"\ntags = [\"lists\"]\n\
         steps = [ {{ visit = \"/\" }}, {{ click = \"#send\" }}, {add_form} ]\n\n\
         [[scenario]]\nname = \"visits a redirect\"\ntags = [\"lists\"]\n\
         steps = [ {{ visit = \"/go\" }}, {add_redirect} ]\n\n\
         [[scenario]]\nname = \"safe\"\ntags = [\"smoke\"]\n\
         steps = [ {{ visit = \"/\" }}, {{ click = \"#go\" }}, {add_safe} ]\n",
        add_link = add("Link item"),
        add_form = add("Form item"),
        add_redirect = add("Redirect item"),
        add_safe = add("Safe item"),
    );
    std::fs::write(dir.path().join("led.toml"), spec).expect("write");
    let out = ft_in(dir.path(), &["--specs", "led.toml", "--liveserver", &staging, "--sensitive-url", &only(&live)]);
    assert_eq!(out.code, 3, "ft refused to go on: an error, not the app's failure\n{}", out.all());
    let junit = read_junit(&dir.path().join("reports/junit.xml"));
    let landed = format!("the browser landed on {}/", live.url);
    for (name, step) in [("follows a link", "type"), ("submits a form", "type"), ("visits a redirect", "visit /go")] {
        let case = junit.case(name);
        assert_eq!(case.status, "error", "{case:?}");
        assert!(case.message.contains(&landed), "{case:?}");
        assert!(case.message.contains(&format!("(target {staging})")), "both URLs are named: {case:?}");
        assert!(case.message.contains("stopped before acting there"), "{case:?}");
        assert!(case.message.contains(step), "it stopped at the step that would act: {case:?}");
    }
    assert_eq!(junit.case("safe").status, "passed", "a safe scenario may go there");
    assert_eq!(items(&live), ["Safe item"], "only the safe scenario wrote to the sensitive server");
}

/// Issue 9 part 8: the remembered URL kept the target's credentials, the page's did not,
/// so `expect_url_differs` could never fail.
#[test]
fn expect_url_differs_fails_on_an_unchanged_url_when_the_target_has_credentials() {
    let served = Served::start(&[]);
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = "[[scenario]]\nname = \"stays put\"\n\
                steps = [ { visit = \"/\" }, { remember_url = \"home\" }, { expect_url_differs = \"home\" } ]\n";
    std::fs::write(dir.path().join("url.toml"), spec).expect("write");
    let target = served.url.replace("http://", "http://user:pw@");
    let out = ft_in(dir.path(), &["--specs", "url.toml", "--liveserver", &target, "--max-wait", "3"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let case = read_junit(&dir.path().join("reports/junit.xml")).case("stays put").clone();
    assert_eq!(case.status, "failure", "{case:?}");
    let still = format!("the URL is still {}/, the one remembered as \"home\"", served.url);
    assert!(case.body.contains(&still) || case.message.contains(&still), "{case:?}");
    assert!(!out.all().contains(":pw@"), "no credentials in the output\n{}", out.all());
}

/// `expect_url_same`, the book's `assertEqual(browser.current_url, first_list_url)`: it holds
/// back on the remembered page though the target's URL has credentials and the page's not,
/// and fails on another page, saying both.
#[test]
fn expect_url_same_holds_on_the_remembered_page_and_fails_on_another() {
    let served = Served::start(&[]);
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = "[[scenario]]\nname = \"comes back\"\n\
                steps = [ { visit = \"/\" }, { remember_url = \"home\" }, { visit = \"/static/style.css\" },\n\
                          { visit = \"/\" }, { expect_url_same = \"home\" } ]\n\
                [[scenario]]\nname = \"goes elsewhere\"\n\
                steps = [ { visit = \"/\" }, { remember_url = \"home\" }, { visit = \"/static/style.css\" },\n\
                          { expect_url_same = \"home\" } ]\n";
    std::fs::write(dir.path().join("url.toml"), spec).expect("write");
    let target = served.url.replace("http://", "http://user:pw@");
    let out = ft_in(dir.path(), &["--specs", "url.toml", "--liveserver", &target, "--max-wait", "3"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let junit = read_junit(&dir.path().join("reports/junit.xml"));
    assert_eq!(junit.case("comes back").status, "passed", "{}", out.all());
    let case = junit.case("goes elsewhere").clone();
    assert_eq!(case.status, "failure", "{case:?}");
    let said = format!("the URL was {0}/static/style.css, not {0}/ (the one remembered as \"home\")", served.url);
    assert!(case.body.contains(&said) || case.message.contains(&said), "{case:?}");
    assert!(!out.all().contains(":pw@"), "no credentials in the output\n{}", out.all());
}
