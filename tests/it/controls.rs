//! The controls of real apps through real Chromium (and one scenario on Firefox): cookies,
//! reload, back and forward, selects, checkboxes, hover, uploads, dialogs, frames, tabs
//! and key chords. Each verb works on a real page and fails, saying what it met, where it
//! cannot; a dialog, a tab or a frame left behind does not reach the next scenario; and
//! the mistakes a spec can make with them are found at load time.

use crate::common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::loopback::{respond, serve};
use common::*;

/// The controls page: a select, a multiple select, checkboxes, a radio button, a hover
/// menu, a hidden file input behind a label, dialogs, a text box that echoes its value, a
/// link to a new tab, a link to /admin/ and a frame. Each control writes what happened
/// where an expectation can read it.
const CONTROLS: &str = r##"<!doctype html><html><head><title>Controls</title><link rel="icon" href="data:,">
<style>#submenu { display: none } #menu:hover #submenu { display: block } #avatar { display: none }</style></head>
<body>
<select id="mode" onchange="chosen.textContent = this.value">
  <option value="">Choose…</option><option value="strict">Strict</option><option value="lax">Lax</option>
</select><p id="chosen">none</p>
<select id="fruits" multiple onchange="fruits_chosen.textContent = Array.from(this.selectedOptions).map(o => o.value).join(',')">
  <option value="apple">Apple</option><option value="pear">Pear</option><option value="plum">Plum</option>
</select><p id="fruits_chosen">none</p>
<label><input type="checkbox" id="agree" onchange="agreed.textContent = (this.checked ? 'yes' : 'no') + ' ' + (++clicks)"> I agree</label>
<p id="agreed">never</p>
<label><input type="checkbox" id="locked" disabled> Locked</label>
<label><input type="radio" name="size" id="small" checked> Small</label>
<div id="menu">Menu <a id="submenu" href="#">Settings</a></div>
<label for="avatar">Choose a picture</label><input type="file" id="avatar" onchange="picked.textContent = this.files[0].name + ' ' + this.files[0].size">
<p id="picked">nothing</p>
<button id="alert" onclick="alert('Hello!'); result.textContent = 'alerted'">Alert</button>
<button id="confirm" onclick="result.textContent = confirm('Sure?') ? 'confirmed' : 'cancelled'">Confirm</button>
<button id="prompt" onclick="result.textContent = 'Hi ' + prompt('Name?')">Prompt</button>
<p id="result">nothing yet</p>
<input id="text" oninput="echo.textContent = this.value"><p id="echo"></p>
<a id="new_tab" href="/other" target="_blank">Other, in a new tab</a>
<a id="admin" href="/admin/">Admin</a>
<button id="push" onclick="history.pushState({}, '', '/admin/'); history.pushState({}, '', '/controls?pushed')">Push</button>
<iframe id="inner" src="/inner"></iframe>
<script>let clicks = 0;</script>
</body></html>"##;

const INNER: &str = r#"<!doctype html><html><head><title>Inner</title></head><body>
<p id="inside">inside the frame</p><button id="press" onclick="inside.textContent = 'pressed in the frame'">Press</button>
</body></html>"#;

/// A target serving the controls page and its neighbours. `/count` counts its loads;
/// `/flaky/*` answer 200 once each, then 500; `/cookies` shows the Cookie header it was sent.
fn target() -> String {
    let loads = Arc::new(AtomicUsize::new(0));
    let flaky = Arc::new(std::sync::Mutex::new(std::collections::HashMap::<String, usize>::new()));
    serve(move |req, stream| {
        let path = req.line.split(' ').nth(1).unwrap_or("/");
        let page = |title: &str, body: &str| {
            format!("<!doctype html><html><head><title>{title}</title><link rel=\"icon\" href=\"data:,\"></head><body>{body}</body></html>")
        };
        match path {
            "/" | "/controls" => respond(stream, "200 OK", CONTROLS),
            "/inner" => respond(stream, "200 OK", INNER),
            "/other" => respond(stream, "200 OK", &page("Other", "<p id=\"other\">the other page</p>")),
            "/admin/" => respond(stream, "200 OK", &page("Admin", "<p>the admin</p>")),
            "/count" => {
                let n = loads.fetch_add(1, Ordering::SeqCst) + 1;
                respond(stream, "200 OK", &page("Count", &format!("<p id=\"count\">load {n}</p>")));
            }
            p if p.starts_with("/flaky") => {
                match flaky.lock().map(|mut m| std::mem::replace(m.entry(p.into()).or_default(), 1)).unwrap_or(1) {
                    0 => respond_no_store(stream, "200 OK", &page("Flaky", "<p>fine the first time</p>")),
                    _ => respond_no_store(stream, "500 Internal Server Error", &page("Broken", "<p>broken now</p>")),
                }
            }
            "/cookies" => {
                let cookies = req
                    .head
                    .lines()
                    .find_map(|l| l.strip_prefix("Cookie: ").or_else(|| l.strip_prefix("cookie: ")))
                    .unwrap_or("none")
                    .trim()
                    .to_string();
                respond(stream, "200 OK", &page("Cookies", &format!("<p id=\"sent\">{cookies}</p>")));
            }
            _ => respond(stream, "404 Not Found", "not here"),
        }
    })
}

/// A response the browser may not keep: going back to it loads it again.
fn respond_no_store(stream: &mut std::net::TcpStream, status: &str, body: &str) {
    use std::io::Write;
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nCache-Control: no-store\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
}

/// Write `specs` (and `files/hello.txt`, for uploads) into a folder.
fn spec_dir(specs: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("controls.toml"), specs).expect("write");
    std::fs::create_dir(dir.path().join("files")).expect("mkdir");
    std::fs::write(dir.path().join("files/hello.txt"), "hello, upload").expect("write");
    dir
}

/// Run `specs` against a fresh target with `extra` flags; the output, the JUnit report
/// and the folder the reports are in.
pub(crate) fn run(specs: &str, extra: &[&str]) -> (Output, Junit, tempfile::TempDir) {
    let url = target();
    let specs = spec_dir(specs);
    let dir = tempfile::tempdir().expect("tempdir");
    let specs_path = specs.path().join("controls.toml").display().to_string();
    // Most of these scenarios fail on purpose and wait out --max-wait: a look every 100 ms
    // rather than 25 costs the browser 40 % less CPU while it waits (BENCHMARKS.md, "Test
    // time"), and what a failure says does not depend on how often it looked.
    let mut args =
        vec!["--specs", specs_path.as_str(), "--liveserver", url.as_str(), "--max-wait", "3", "--poll", "100"];
    args.extend_from_slice(extra);
    let out = ft_in(dir.path(), &args);
    let junit = read_junit(&dir.path().join("reports/junit.xml"));
    (out, junit, dir)
}

const PASSING: &str = r##"
[[scenario]]
name = "cookies are set, sent, seen and deleted"
steps = [
  { visit = "/controls" },
  { set_cookie = "flavour", value = "oat", path = "/", same_site = "Lax" },
  { expect_cookie = "flavour", equals = "oat" },
  { set_cookie = "hidden", value = "1", http_only = true },
  { visit = "/cookies" },
  { expect_text_contains = "flavour=oat", in = "#sent" },
  { delete_cookie = "flavour" },
  { expect_no_cookie = "flavour" },
  { expect_cookie = "hidden" },
]

[[scenario]]
name = "reload loads the page again and back and forward walk the history"
steps = [
  { visit = "/count" },
  { expect_text = "load 1", in = "#count" },
  { reload = true },
  { expect_text = "load 2", in = "#count" },
  { visit = "/other" },
  { back = true },
  { expect_title = "Count" },
  { forward = true },
  { expect_text = "the other page", in = "#other" },
]

[[scenario]]
name = "options are selected by label or value and a multiple select adds"
steps = [
  { visit = "/controls" },
  { select = "Lax", in = "#mode" },
  { expect_text = "lax", in = "#chosen" },
  { select = "strict", in = "#mode" },
  { expect_text = "strict", in = "#chosen" },
  { select = "Apple", in = "#fruits" },
  { select = "Plum", in = "#fruits" },
  { select = "Apple", in = "#fruits" },
  { expect_text = "apple,plum", in = "#fruits_chosen" },
]

[[scenario]]
name = "a box is checked and unchecked, and clicked only when it is not so already"
steps = [
  { visit = "/controls" },
  { check = "#agree" },
  { expect_text = "yes 1", in = "#agreed" },
  { check = "#agree" },
  { uncheck = "#agree" },
  { expect_text = "no 2", in = "#agreed" },
  { uncheck = "#agree" },
  { check = "#small" },
  { expect_text = "no 2", in = "#agreed" },
]

[[scenario]]
name = "hovering over the menu shows its items"
steps = [
  { visit = "/controls" },
  { expect_hidden = "#submenu" },
  { hover = "#menu" },
  { expect_visible = "#submenu" },
]

[[scenario]]
name = "a file is uploaded into a hidden file input"
steps = [
  { visit = "/controls" },
  { upload = "files/hello.txt", into = "#avatar" },
  { expect_text = "hello.txt 13", in = "#picked" },
]

[[scenario]]
name = "dialogs are accepted, dismissed and answered"
steps = [
  { visit = "/controls" },
  { click = "#alert" },
  { accept_dialog = "Hello!" },
  { expect_text = "alerted", in = "#result" },
  { click = "#confirm" },
  { dismiss_dialog = "Sure?" },
  { expect_text = "cancelled", in = "#result" },
  { click = "#confirm" },
  { accept_dialog = true },
  { expect_text = "confirmed", in = "#result" },
  { click = "#prompt" },
  { accept_dialog = "Name?", prompt = "Edith" },
  { expect_text = "Hi Edith", in = "#result" },
]

[[scenario]]
name = "steps act inside a frame and back on the page"
steps = [
  { visit = "/controls" },
  { frame = "#inner" },
  { click = "#press" },
  { expect_text = "pressed in the frame", in = "#inside" },
  { main_frame = true },
  { expect_present = "#mode" },
]

[[scenario]]
name = "a link's new tab is switched to and closed"
steps = [
  { visit = "/controls" },
  { click = "#new_tab" },
  { tab = "newest" },
  { expect_text = "the other page", in = "#other" },
  { tab = "first" },
  { expect_title = "Controls" },
  { tab = 2 },
  { close_tab = true },
  { expect_title = "Controls" },
]

[[scenario]]
name = "a key chord selects what was typed so typing replaces it"
steps = [
  { visit = "/controls" },
  { type = "hello", into = "#text" },
  { press = "Control+A", on = "#text" },
  { type = "bye", into = "#text" },
  { expect_text = "bye", in = "#echo" },
  { press = "Shift+x", on = "#text" },
  { expect_text = "byeX", in = "#echo" },
]
"##;

#[test]
fn every_control_works_on_real_pages_in_chromium() {
    let (out, junit, _dir) = run(PASSING, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(junit.failed_names(), Vec::<String>::new(), "{}", out.all());
    assert_eq!(junit.tests, 10, "{}", out.all());
}

const FAILING: &str = r##"
[[scenario]]
name = "set_cookie on a blank page"
steps = [{ set_cookie = "flavour", value = "oat" }, { expect_present = "body" }]

[[scenario]]
name = "delete_cookie on a blank page"
steps = [{ delete_cookie = "flavour" }, { expect_present = "body" }]

[[scenario]]
name = "expect_cookie that was never set"
steps = [{ visit = "/controls" }, { set_cookie = "a", value = "1" }, { expect_cookie = "flavour" }]

[[scenario]]
name = "expect_cookie with another value"
steps = [{ visit = "/controls" }, { set_cookie = "flavour", value = "oat" }, { expect_cookie = "flavour", equals = "rye" }]

[[scenario]]
name = "expect_no_cookie that is set"
steps = [{ visit = "/controls" }, { set_cookie = "flavour", value = "oat" }, { expect_no_cookie = "flavour" }]

[[scenario]]
name = "reload a page that now fails"
steps = [{ visit = "/flaky/reload" }, { reload = true }, { expect_present = "body" }]

[[scenario]]
name = "forward to where there is nothing"
steps = [{ visit = "/other" }, { forward = true }, { expect_title = "Never" }]

[[scenario]]
name = "select an option there is not"
steps = [{ visit = "/controls" }, { select = "Medium", in = "#mode" }, { expect_present = "body" }]

[[scenario]]
name = "select in something that is not a select"
steps = [{ visit = "/controls" }, { select = "Lax", in = "#text" }, { expect_present = "body" }]

[[scenario]]
name = "check a disabled box"
steps = [{ visit = "/controls" }, { check = "#locked" }, { expect_present = "body" }]

[[scenario]]
name = "uncheck a radio button"
steps = [{ visit = "/controls" }, { uncheck = "#small" }, { expect_present = "body" }]

[[scenario]]
name = "hover over nothing"
steps = [{ visit = "/controls" }, { hover = "#no_menu" }, { expect_present = "body" }]

[[scenario]]
name = "upload into nothing"
steps = [{ visit = "/controls" }, { upload = "files/hello.txt", into = "#no_input" }, { expect_present = "body" }]

[[scenario]]
name = "accept a dialog that never opens"
steps = [{ visit = "/controls" }, { accept_dialog = true }, { expect_present = "body" }]

[[scenario]]
name = "dismiss a dialog that says something else"
steps = [{ visit = "/controls" }, { click = "#confirm" }, { dismiss_dialog = "Really?" }, { expect_present = "body" }]

[[scenario]]
name = "answer an alert as a prompt"
steps = [{ visit = "/controls" }, { click = "#alert" }, { accept_dialog = true, prompt = "Edith" }, { expect_present = "body" }]

[[scenario]]
name = "enter a frame there is not"
steps = [{ visit = "/controls" }, { frame = "#no_frame" }, { expect_present = "body" }]

[[scenario]]
name = "a frame's element is not on the page"
steps = [{ visit = "/controls" }, { frame = "#inner" }, { main_frame = true }, { click = "#press" }, { expect_present = "body" }]

[[scenario]]
name = "switch to a tab that never opens"
steps = [{ visit = "/controls" }, { tab = "newest" }, { expect_present = "body" }]

[[scenario]]
name = "switch to a third tab of two"
steps = [{ visit = "/controls" }, { click = "#new_tab" }, { tab = 3 }, { expect_present = "body" }]

[[scenario]]
name = "close the only tab"
steps = [{ visit = "/controls" }, { close_tab = true }, { expect_present = "body" }]

[[scenario]]
name = "press a chord on nothing"
steps = [{ visit = "/controls" }, { press = "Control+A", on = "#no_text" }, { expect_present = "body" }]
"##;

#[test]
fn each_control_fails_saying_what_it_met() {
    // Most of these scenarios wait out --max-wait before failing: two browsers wait side by
    // side (a shorter wait would not do: on a loaded machine a click that opens a dialog
    // can take over a second to answer).
    let (out, junit, _dir) = run(FAILING, &["--workers", "2"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let said = |name: &str| {
        let case = junit.case(name);
        assert_eq!(case.status, "failure", "{name}: {}", out.all());
        format!("{}\n{}", case.message, case.body)
    };
    let expect = |name: &str, wants: &[&str]| {
        let text = said(name);
        for want in wants {
            assert!(text.contains(want), "{name}: wanted {want:?} in:\n{text}");
        }
    };
    expect(
        "set_cookie on a blank page",
        &["cannot set the cookie \"flavour\"", "about:blank", "visit a page of the site first"],
    );
    expect(
        "delete_cookie on a blank page",
        &["cannot delete the cookie \"flavour\"", "visit a page of the site first"],
    );
    expect("expect_cookie that was never set", &["no cookie \"flavour\"", "the site's cookies are \"a\""]);
    expect("expect_cookie with another value", &["the cookie \"flavour\" has another value (3 characters"]);
    assert!(!said("expect_cookie with another value").contains("oat"), "a cookie's value is not shown");
    expect("expect_no_cookie that is set", &["the cookie \"flavour\" is still set"]);
    expect("reload a page that now fails", &["/flaky/reload answered HTTP 500: the server is failing"]);
    expect("forward to where there is nothing", &["the title was \"Other\""]);
    expect(
        "select an option there is not",
        &[
            "cannot select \"Medium\" in #mode: it has no option labelled or valued \"Medium\"",
            "its options: \"Choose…\" (\"\"), \"Strict\" (\"strict\"), \"Lax\" (\"lax\")",
        ],
    );
    expect("select in something that is not a select", &["it is a <input>, not a <select>"]);
    expect("check a disabled box", &["clicking #locked did not check it"]);
    expect("uncheck a radio button", &["clicking #small did not uncheck it"]);
    expect("hover over nothing", &["no element matches #no_menu"]);
    expect("upload into nothing", &["no element matches #no_input"]);
    expect("accept a dialog that never opens", &["no dialog is open"]);
    expect("dismiss a dialog that says something else", &["the dialog says \"Sure?\", not \"Really?\""]);
    expect("answer an alert as a prompt", &["failed to answer the dialog: it is not a prompt"]);
    expect("enter a frame there is not", &["no element matches #no_frame"]);
    expect("a frame's element is not on the page", &["no element matches #press"]);
    expect("switch to a tab that never opens", &["the visitor has only one tab"]);
    expect("switch to a third tab of two", &["the visitor has 2 tabs"]);
    expect("close the only tab", &["this is the visitor's only tab"]);
    expect("press a chord on nothing", &["no element matches #no_text"]);
}

/// A dialog left open, a tab opened and switched to, a frame entered: the scenario after
/// it, in the same browser, starts on one sane tab with no dialog.
const LEFT_BEHIND: &str = r##"
# Run longest first: 1 before 2, 3 before 4, with one worker (one browser).
[[scenario]]
name = "1 leaves a dialog open"
steps = [
  { visit = "/controls" },
  { expect_title = "Controls" },
  { expect_present = "#mode" },
  { expect_present = "#text" },
  { expect_present = "#result" },
  { expect_present = "#confirm" },
  { click = "#confirm" },
  { expect_text = "never", in = "#result" },
]

[[scenario]]
name = "2 finds no dialog"
steps = [
  { visit = "/controls" },
  { expect_title = "Controls" },
  { expect_text = "nothing yet", in = "#result" },
  { expect_present = "#alert" },
  { click = "#alert" },
  { accept_dialog = "Hello!" },
  { expect_text = "alerted", in = "#result" },
]

[[scenario]]
name = "3 leaves a new tab and a frame"
steps = [
  { visit = "/controls" },
  { click = "#new_tab" },
  { tab = "newest" },
  { tab = "first" },
  { frame = "#inner" },
  { expect_present = "#inside" },
]

[[scenario]]
name = "4 starts on one tab out of any frame"
steps = [{ visit = "/controls" }, { expect_present = "#mode" }, { close_tab = true }]
"##;

fn assert_nothing_left_behind(extra: &[&str]) {
    let mut args = vec!["--workers", "1"];
    args.extend_from_slice(extra);
    let (out, junit, _dir) = run(LEFT_BEHIND, &args);
    assert_eq!(
        junit.failed_names(),
        vec!["1 leaves a dialog open", "4 starts on one tab out of any frame"],
        "{}",
        out.all()
    );
    let first = junit.case("1 leaves a dialog open");
    let said = format!("{}{}", first.message, first.body);
    assert!(said.contains("a dialog is open, saying \"Sure?\""), "{}", out.all());
    let last = junit.case("4 starts on one tab out of any frame");
    assert!(last.message.contains("this is the visitor's only tab"), "{}", out.all());
    assert_eq!(junit.case("2 finds no dialog").status, "passed", "{}", out.all());
}

#[test]
fn a_dialog_tab_or_frame_left_behind_does_not_reach_the_next_scenario() {
    assert_nothing_left_behind(&[]);
}

#[test]
fn a_dialog_tab_or_frame_left_behind_does_not_reach_the_next_visitor_in_user_contexts() {
    assert_nothing_left_behind(&["--isolation", "user-context"]);
}

/// `back` and `forward` land where the guard judges: an unsafe scenario going back or
/// forward onto a sensitive page is stopped there.
#[test]
fn going_back_or_forward_onto_a_sensitive_page_is_refused() {
    let specs = r##"
[[scenario]]
name = "walks forward onto the admin"
steps = [
  { visit = "/controls" },
  { click = "#admin" },
  { back = true },
  { expect_title = "Controls" },
  { forward = true },
  { expect_title = "Admin" },
]

[[scenario]]
name = "walks back onto the admin"
steps = [
  { visit = "/controls" },
  { click = "#push" },
  { expect_url = "pushed" },
  { back = true },
  { expect_title = "Controls" },
]
"##;
    let (out, junit, _dir) = run(specs, &["--sensitive-url", "/admin/"]);
    for name in ["walks forward onto the admin", "walks back onto the admin"] {
        let case = junit.case(name);
        assert_eq!(case.status, "error", "{name}: {}", out.all());
        assert!(case.message.contains("the browser landed on") && case.message.contains("/admin/"), "{}", out.all());
    }
}

/// A file uploaded through a Selenium Grid: sent to the Grid first (see grid.rs).
pub(crate) const UPLOAD: &str = r##"
[[scenario]]
name = "a file is uploaded through the grid"
steps = [
  { visit = "/controls" },
  { upload = "files/hello.txt", into = "#avatar" },
  { expect_text = "hello.txt 13", in = "#picked" },
]
"##;

/// One scenario of select, check, a dialog and a frame on Firefox.
#[test]
fn select_check_dialogs_and_frames_work_on_firefox() {
    let specs = r##"
[[scenario]]
name = "the controls on firefox"
steps = [
  { visit = "/controls" },
  { select = "Lax", in = "#mode" },
  { expect_text = "lax", in = "#chosen" },
  { check = "#agree" },
  { expect_text = "yes 1", in = "#agreed" },
  { click = "#prompt" },
  { accept_dialog = "Name?", prompt = "Francis" },
  { expect_text = "Hi Francis", in = "#result" },
  { frame = "#inner" },
  { click = "#press" },
  { expect_text = "pressed in the frame", in = "#inside" },
  { main_frame = true },
  { expect_present = "#mode" },
]
"##;
    let (out, junit, _dir) = run(specs, &["--browser", "firefox"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(junit.case("the controls on firefox").status, "passed", "{}", out.all());
}

/// Every mistake with these verbs is a spec error at its line and column, before any
/// browser starts.
#[test]
fn mistakes_with_the_controls_are_found_at_load_time() {
    let specs = r##"
[[scenario]]
name = "mistakes"
steps = [
  { press = "Ctrl+A", on = "#text" },
  { press = "Control+Nope", on = "#text" },
  { upload = "files/missing.png", into = "#avatar" },
  { reload = false },
  { tab = "last" },
  { set_cookie = "flavour" },
  { set_cookie = "a b", value = "1" },
  { set_cookie = "c", value = "1", same_site = "Sometimes" },
  { set_cookie = "d", value = "1", secure = "yes" },
  { accept_dialog = 3 },
  { dismiss_dialog = true, prompt = "x" },
  { select = "Lax" },
]
"##;
    let dir = spec_dir(specs);
    let file = dir.path().join("controls.toml");
    let out = ft_in(dir.path(), &["--specs", &file.display().to_string(), "--liveserver", "http://127.0.0.1:9"]);
    assert_eq!(out.code, 2, "{}", out.all());
    let at = |line: usize, col: usize| format!("{}:{line}:{col}", file.display());
    for (line, col, want) in [
        (5, 13, "bad key \"Ctrl+A\": \"Ctrl\" is not a modifier (Control, Shift, Alt, Meta)"),
        (6, 13, "bad key \"Control+Nope\": unknown key \"Nope\""),
        (7, 14, "failed to find the file to upload"),
        (8, 14, "`reload` expects true"),
        (9, 11, "`tab` expects \"newest\", \"first\" or a tab's number"),
        (10, 5, "`set_cookie` needs `value`"),
        (11, 18, "\"a b\" is not a cookie name"),
        (12, 48, "same_site is \"Strict\", \"Lax\" or \"None\", found \"Sometimes\""),
        (13, 45, "`secure` is true or false, found string"),
        (14, 21, "`accept_dialog` expects true or the text the dialog must show"),
        (15, 28, "`dismiss_dialog` does not take `prompt`"),
        (16, 5, "`select` needs `in`"),
    ] {
        let line_text = out.stderr.lines().find(|l| l.contains(&at(line, col)) && l.contains(want));
        assert!(line_text.is_some(), "wanted {want:?} at {}:\n{}", at(line, col), out.stderr);
    }
    assert!(out.stderr.contains("the path is relative to this spec file's folder"), "{}", out.stderr);
}
