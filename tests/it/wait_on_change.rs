//! Waits that wake on change: on a local Chromium, an expectation that does not hold at
//! its first look waits in the page over DevTools for what it looks at to change, and
//! holds with what the page saw, no look over WebDriver to confirm it; an action after it
//! finds its element with a look of its own. Elsewhere (inside a frame, Firefox) it polls.
//! Real Chromium through a real chromedriver that ft starts itself (a wrapper script as
//! `--driver` turns its log on), pages on loopback; the looks over WebDriver are counted in
//! chromedriver's log (each carries the inspection script).

use crate::common;

use std::path::{Path, PathBuf};

use common::loopback::{respond, serve};
use common::*;

/// Where the inspection script begins: every look over WebDriver sends it whole, so each
/// is one line of chromedriver's log that holds it.
const A_LOOK: &str = "const [loc, attr, all, also] = arguments";

/// The test pages: `/late` adds `#late` 200 ms after load; `/typed` sets an input's value
/// from a script 300 ms after load (no DOM mutation, no event); `/moves` sends the browser
/// to `/arrived` 200 ms after load; `/framed` holds `/later` (`#late` after 600 ms) in a
/// frame; `/twice` adds `#late` 200 ms after ft's first look and `#later` 200 ms after that; `/swap` moves the id `go` from its button ("Wait", still on the page) to a new
/// one ("Go") 200 ms after load, whose click adds `#name` 150 ms later (the old one's
/// only says so), and what is typed there is echoed in `#out`.
fn pages() -> String {
    serve(|req, stream| {
        let path = req.line.split(' ').nth(1).unwrap_or("/");
        let page = match path {
            "/late" => {
                "<!doctype html><title>Late</title><p>waiting</p><script>setTimeout(() => { \
                 const p = document.createElement('p'); p.id = 'late'; p.textContent = 'here'; \
                 document.body.append(p); }, 200);</script>"
            }
            "/typed" => {
                "<!doctype html><title>Typed</title><input id=\"name\"><script>setTimeout(() => { \
                 document.getElementById('name').value = 'Edith'; }, 300);</script>"
            }
            "/moves" => {
                "<!doctype html><title>Moving</title><p>soon elsewhere</p><script>setTimeout(() => { \
                 location.href = '/arrived'; }, 200);</script>"
            }
            "/arrived" => "<!doctype html><title>Arrived</title><p id=\"here\">arrived</p>",
            "/later" => {
                "<!doctype html><title>Later</title><p>waiting</p><script>setTimeout(() => { \
                 const p = document.createElement('p'); p.id = 'late'; p.textContent = 'here'; \
                 document.body.append(p); }, 600);</script>"
            }
            "/framed" => "<!doctype html><title>Framed</title><iframe id=\"f\" src=\"/later\"></iframe>",
            // Its clock starts at ft's first look (the inspection reads `querySelectorAll`
            // through the prototypes, where the page wraps it), not at load: on a loaded
            // machine the visit's look can come 200 ms after load, and would see `#late`.
            "/twice" => {
                "<!doctype html><title>Twice</title><p>waiting</p><script>let armed = false; \
                 const add = (id) => { const p = document.createElement('p'); p.id = id; document.body.append(p); }; \
                 const arm = () => { if (armed) return; armed = true; \
                 setTimeout(() => { add('late'); setTimeout(() => add('later'), 200); }, 200); }; \
                 for (const proto of [Document.prototype, Element.prototype]) { \
                 const qsa = proto.querySelectorAll; \
                 proto.querySelectorAll = function (...args) { arm(); return qsa.apply(this, args); }; }</script>"
            }
            "/swap" => {
                "<!doctype html><title>Swap</title><p id=\"out\">nothing yet</p>\
                 <button id=\"go\" onclick=\"document.getElementById('out').textContent = 'the old button'\">Wait</button>\
                 <script>setTimeout(() => { document.getElementById('go').id = 'old'; \
                 const b = document.createElement('button'); b.id = 'go'; b.textContent = 'Go'; \
                 b.onclick = () => setTimeout(() => { const i = document.createElement('input'); i.id = 'name'; \
                 i.oninput = () => { document.getElementById('out').textContent = 'typed ' + i.value; }; document.body.append(i); }, 150); \
                 document.body.prepend(b); }, 200);</script>"
            }
            _ => return respond(stream, "404 Not Found", "not here"),
        };
        respond(stream, "200 OK", page)
    })
}

/// A chromedriver wrapper that logs every command to `dir/chromedriver.log`: ft starts it
/// as its own driver (`--driver`), so the waits may be held in the page.
fn logging_driver(dir: &Path) -> (PathBuf, PathBuf) {
    let log = dir.join("chromedriver.log");
    let wrapper = dir.join("chromedriver");
    let script = format!("#!/bin/sh\nexec /usr/bin/chromedriver --verbose --log-path={} \"$@\"\n", log.display());
    std::fs::write(&wrapper, script).expect("write the wrapper");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).expect("chmod the wrapper");
    (wrapper, log)
}

struct Run {
    out: Output,
    dir: tempfile::TempDir,
    /// The looks over WebDriver chromedriver's log shows.
    looks: usize,
}

/// Run one scenario of `steps` against the test pages on a local Chromium (ft's own
/// chromedriver, logged), with `extra` arguments (`--max-wait 5` unless given).
fn run(steps: &str, extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = format!("[[scenario]]\nname = \"waits for the page\"\nsteps = [\n{steps}\n]\n");
    std::fs::write(dir.path().join("wait.toml"), spec).expect("write the spec");
    let (wrapper, log) = logging_driver(dir.path());
    let target = pages();
    let driver = wrapper.display().to_string();
    let mut args = vec!["--specs", "wait.toml", "--liveserver", &target, "--workers", "1", "--driver", &driver];
    args.extend_from_slice(extra);
    if !extra.contains(&"--max-wait") {
        args.extend_from_slice(&["--max-wait", "5"]);
    }
    let out = ft_in(dir.path(), &args);
    let looks = std::fs::read_to_string(&log).unwrap_or_default().matches(A_LOOK).count();
    Run { out, dir, looks }
}

const LATE: &str = "  { visit = \"/late\" },\n  { expect_present = \"#late\" },";

#[test]
fn an_element_added_200_ms_after_load_is_seen_in_one_look_on_a_local_chromium() {
    let run = run(LATE, &[]);
    assert_eq!(run.out.code, 0, "{}", run.out.all());
    // Polling every 25 ms would look ~8 times in 200 ms; waiting in the page, only the
    // visit's look (made for this expectation): what the page saw is the step's.
    assert_eq!(run.looks, 1, "looks over WebDriver:\n{}", run.out.all());
}

/// The page makes the next expectation's first look in the moment it answers: the next
/// step judges that (`#later` is not there yet: it waits in the page in turn, in the tab
/// that look was made in, without asking WebDriver for the window again), and the one
/// after it too (the title), with no look over WebDriver but the visit's.
#[test]
fn expectations_one_after_another_are_judged_on_what_the_page_saw_without_a_look_each() {
    let steps = "  { visit = \"/twice\" },\n  { expect_present = \"#late\" },\n  { expect_present = \"#later\" },\n  \
                 { expect_title = \"Twice\" },";
    let run = run(steps, &[]);
    assert_eq!(run.out.code, 0, "{}", run.out.all());
    assert_eq!(run.looks, 1, "looks over WebDriver:\n{}", run.out.all());
    let log = std::fs::read_to_string(run.dir.path().join("chromedriver.log")).unwrap_or_default();
    assert_eq!(log.matches("COMMAND GetWindow ").count(), 1, "the window asked once, for the first wait");
}

/// An expectation that held in the page leaves no element reference to act on: the
/// action right after it finds its element anew. The id moved to a new button while the
/// old one, which the first look found, stays on the page; the click lands on the new one,
/// and the typing on the field that click made (which an expectation held in the page saw).
#[test]
fn a_click_and_typing_right_after_an_expectation_held_in_the_page_act_on_what_it_saw() {
    let steps = "  { visit = \"/swap\" },\n  { expect_text = \"Go\", in = \"#go\" },\n  { click = \"#go\" },\n  \
                 { expect_present = \"#name\" },\n  { type = \"Edith\", into = \"#name\" },\n  \
                 { expect_text = \"typed Edith\", in = \"#out\" },";
    let run = run(steps, &[]);
    assert_eq!(run.out.code, 0, "{}", run.out.all());
    // The visit's look (the first expectation's), the click's and the typing's (each finds
    // its element), each later expectation's first: none confirms what the page saw.
    assert!(run.looks <= 5, "{} looks over WebDriver:\n{}", run.looks, run.out.all());
}

/// An expectation that never holds waits out its deadline in the page, without looking
/// over WebDriver again, and fails with what the last look saw, as it did polling.
#[test]
fn an_expectation_that_never_holds_fails_at_its_deadline_with_what_the_last_look_saw() {
    let steps = "  { visit = \"/late\" },\n  { expect_text = \"gone\", in = \"#late\" },";
    let run = run(steps, &["--max-wait", "2"]);
    assert_eq!(run.out.code, 1, "{}", run.out.all());
    let junit = read_junit(&run.dir.path().join("reports/junit.xml"));
    let case = junit.case("waits for the page");
    assert!(case.message.contains("still not true after 2."), "{case:?}");
    assert!(case.body.contains("last seen: the text of #late was \"here\""), "{case:?}");
    assert!(run.looks <= 3, "{} looks over WebDriver in 2 s:\n{}", run.looks, run.out.all());
}

/// A value set by a script changes no DOM and fires no event: the page's own look at the
/// end of each wait still sees it.
#[test]
fn a_value_a_script_sets_without_any_event_is_still_seen() {
    let steps = "  { visit = \"/typed\" },\n  { expect_value = \"Edith\", of = \"#name\" },";
    let run = run(steps, &[]);
    assert_eq!(run.out.code, 0, "{}", run.out.all());
}

/// A navigation under the wait destroys the page it was held in: ft looks again at the
/// page the browser landed on.
#[test]
fn an_expectation_holds_on_the_page_a_script_sends_the_browser_to() {
    let steps = "  { visit = \"/moves\" },\n  { expect_title = \"Arrived\" },\n  { expect_text = \"arrived\", in = \"#here\" },";
    let run = run(steps, &[]);
    assert_eq!(run.out.code, 0, "{}", run.out.all());
    assert!(run.looks <= 4, "{} looks over WebDriver:\n{}", run.looks, run.out.all());
}

/// Inside a frame the page cannot hold the wait (it runs in the tab's top document): it
/// polls, and still sees the element.
#[test]
fn inside_a_frame_an_expectation_polls_and_holds() {
    let steps = "  { visit = \"/framed\" },\n  { frame = \"#f\" },\n  { expect_present = \"#late\" },";
    let run = run(steps, &[]);
    assert_eq!(run.out.code, 0, "{}", run.out.all());
    assert!(run.looks >= 4, "polling looks more than thrice in 600 ms: {} looks\n{}", run.looks, run.out.all());
}
