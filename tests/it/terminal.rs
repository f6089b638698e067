//! Issue 13, terminal safety: what ft prints from scenario names, pages, drivers and
//! browsers never reaches a terminal with its control characters raw. An ESC sequence
//! can clear the screen, retitle the window or forge a PASS line; here a spec's name and
//! a hostile page (relayed through chromedriver's "element click intercepted" message,
//! which quotes the covering element's HTML) try, and are shown escaped instead.

use crate::common;

use common::loopback;
use common::*;

/// The page: a button under a cover whose attribute and text carry escape sequences.
const COVERED: &str = "<!doctype html><html><head><title>Covered</title></head><body>\
<button id=\"under\" style=\"position:absolute;left:20px;top:20px;width:120px;height:40px\">Under</button>\
<div id=\"cover\" data-x=\"\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}31m\u{202e}\" \
style=\"position:absolute;left:0;top:0;width:400px;height:200px;background:#ddd\">\u{1b}[31mcover</div>\
</body></html>";

/// A scenario whose name tries to clear the screen, set the title, start a C1 CSI and
/// reverse the text after it.
const SPEC: &str = r##"
[[scenario]]
name = "evil \u001b[2J\u001b]0;title\u0007 name\u009b31m\u202e"
steps = [
  { visit = "/" },
  { click = "#under" },
  { expect_title = "Covered" },
]
"##;

#[test]
fn control_characters_from_a_name_and_a_page_are_printed_escaped() {
    let url = loopback::serve(|_, stream| loopback::respond(stream, "200 OK", COVERED));
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("evil.toml");
    std::fs::write(&spec, SPEC).expect("write spec");
    let spec = spec.to_str().expect("utf-8 path");

    let out = output(
        ft_command(dir.path())
            .args(["--specs", spec, "--liveserver", &url, "--max-wait", "3"])
            .env("GITHUB_ACTIONS", "true"),
    );
    assert_eq!(out.code, 1, "the click never lands: a failed scenario\n{}", out.all());
    assert_eq!(raw_controls(&out.stdout), Vec::<char>::new(), "{}", out.stdout.escape_debug());
    assert_eq!(raw_controls(&out.stderr), Vec::<char>::new(), "{}", out.stderr.escape_debug());
    // The name, escaped, on its result line and in the GitHub annotation's title.
    let name = "evil \\u{1b}[2J\\u{1b}]0;title\\u{7} name\\u{9b}31m\\u{202e}";
    assert!(out.stdout.lines().any(|l| l.contains("FAIL [") && l.ends_with(name)), "{}", out.stdout);
    assert!(out.stdout.contains(&format!("title=FAIL {name}::")), "{}", out.stdout);
    // The page's escape sequences, relayed by chromedriver, escaped in what was last seen.
    assert!(out.stdout.contains("element click intercepted"), "{}", out.stdout);
    assert!(out.stdout.contains("\\u{1b}]0;owned\\u{7}\\u{1b}[2J\\u{9b}31m\\u{202e}"), "{}", out.stdout);

    // `ft list` prints names too.
    let listed = ft_in(dir.path(), &["list", "--specs", spec]);
    assert_eq!(listed.code, 0, "{}", listed.all());
    assert_eq!(raw_controls(&listed.stdout), Vec::<char>::new(), "{}", listed.stdout.escape_debug());
    assert!(listed.stdout.starts_with(name), "{}", listed.stdout);
}
