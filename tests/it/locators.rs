//! Issue 21, locators a person would use: by text, by role and accessible name, by label,
//! placeholder and test id, CSS, and chains of them, on a real page in real Chromium (and
//! a few on Firefox). Each engine finds what it should, and a page without it fails with
//! a message that names the locator; an action on several matches waits, then says how
//! many and which.

use crate::common;

use common::loopback;
use common::*;

/// One page with something for every engine: links and a heading named from their text,
/// controls named by `<label for>`, a wrapping label, aria-labelledby and aria-label, an
/// image's alt inside a link, an input button's value, a hidden button, hidden text, and
/// "Get help" twice (a link and a list item).
pub const PAGE: &str = r##"<!doctype html><html><head><title>Locators</title></head><body>
<header><div role="button tabpanel" tabindex="0" title="Opens the menu">Menu</div>
<span role="img" aria-label="Logo"></span></header>
<nav aria-label="Main"><a href="/lists">My lists</a> | <a href="/help">Get help</a></nav>
<h1>Your To-Do list</h1>
<main>
<form id="f" action="/saved" method="get">
  <label for="email">Email address</label> <input id="email" name="email" placeholder="you@example.com">
  <label>Remember me <input type="checkbox" id="remember" checked></label>
  <label>Newsletter <input type="checkbox" id="news"></label>
  <span id="pwlabel">Secret word</span> <input type="password" id="pw" aria-labelledby="pwlabel">
  <input id="q" type="search" aria-label="Search lists">
  <select id="colour" aria-label="Colour"><option>Red</option><option selected>Green</option></select>
  <textarea id="notes" data-testid="notes">Some notes</textarea>
  <button type="submit" id="save">Save</button>
  <button type="button" id="delete" disabled>Delete</button>
  <fieldset disabled><button type="button" id="archive">Archive</button></fieldset>
  <input type="submit" value="Send it" id="send">
  <a href="/home"><img alt="Home" width="20" height="20" src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></a>
</form>
<table id="id_list_table"><tr><td>1: Buy milk</td></tr><tr><td>2: Buy eggs</td></tr></table>
<ul><li>Get help</li><li>Something   else</li></ul>
<div aria-hidden="true"><button type="button">Hidden button</button></div>
<p style="display:none">Gone text</p>
</main>
</body></html>"##;

/// A loopback server answering every request with `page`.
pub fn serve(page: &'static str) -> String {
    loopback::serve(move |_, stream| loopback::respond(stream, "200 OK", page))
}

/// Run `spec` (a spec file's text) against `url` with `args`; the output and the folder.
pub fn run(spec: &str, url: &str, args: &[&str]) -> (Output, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("spec.toml");
    std::fs::write(&path, spec).expect("write spec");
    let path = path.to_str().expect("utf-8 path").to_string();
    let mut all = vec!["--specs", path.as_str(), "--liveserver", url];
    all.extend_from_slice(args);
    let out = ft_in(dir.path(), &all);
    (out, dir)
}

const EVERY_ENGINE: &str = r##"
[[scenario]]
name = "every engine finds what a person sees"
steps = [
  { visit = "/" },
  # text= is the whole rendered text, of the innermost element; text*= a part of it.
  { expect_count = 2, of = "text=Get help" },
  { expect_count = 1, of = "text=Something else" },
  { expect_count = 1, of = "text*=Buy eggs" },
  { expect_hidden = "text=Gone text" },
  # Roles, implicit and named.
  { expect_count = 1, of = "role=navigation" },
  { expect_text = "Your To-Do list", in = "role=heading" },
  { expect_present = 'role=heading[name*="To-Do"]' },
  { expect_present = 'role=link[name="My lists"]' },
  { expect_present = 'role=link[name="Home"]' },
  { expect_present = 'role=textbox[name="Email address"]' },
  { expect_present = 'role=checkbox[name="Remember me"]' },
  { expect_present = 'role=textbox[name="Secret word"]' },
  { expect_present = 'role=searchbox[name="Search lists"]' },
  { expect_value = "Green", of = 'role=combobox[name="Colour"]' },
  { expect_present = 'role=button[name="Send it"]' },
  { expect_count = 2, of = "role=row >> role=cell >> text*=Buy" },
  { expect_count = 0, of = 'role=button[name="Hidden button"]' },
  { expect_count = 2, of = "role=listitem" },
  # An explicit role (its first word), a landmark, a name from aria-label on an image.
  { expect_present = 'role=button[name="Menu"]' },
  { expect_count = 1, of = "role=banner >> role=img[name=\"Logo\"]" },
  { expect_count = 0, of = "role=tabpanel" },
  # Labels, placeholders, test ids.
  { expect_checked = "label=Remember me" },
  { expect_unchecked = "label=Newsletter" },
  { expect_present = "label*=Search" },
  { expect_value = "Some notes", of = "testid=notes" },
  { type = "edith@example.com", into = "placeholder=you@example.com" },
  { expect_value = "edith@example.com", of = "label=Email address" },
  { expect_focused = "label=Email address" },
  # State.
  { expect_enabled = 'role=button[name="Save"]' },
  { expect_disabled = 'role=button[name="Delete"]' },
  { expect_disabled = "text=Archive" },
  # Chains: B inside each match of A.
  { expect_text = "1: Buy milk", in = "#id_list_table >> text=1: Buy milk" },
  { expect_count = 2, of = "#id_list_table >> css=tr" },
  { expect_count = 1, of = "role=list >> text=Get help" },
  { expect_row = "2: Buy eggs", in = "role=table" },
  # An action by role: the link a person would click.
  { click = 'role=link[name="My lists"]' },
  { expect_url = "/lists$" },
]
"##;

#[test]
fn every_locator_engine_finds_what_a_person_sees_on_a_real_page() {
    let url = serve(PAGE);
    let (out, _dir) = run(EVERY_ENGINE, &url, &["--max-wait", "5"]);
    assert_eq!(out.code, 0, "{}", out.all());
}

/// Each scenario fails on its own, for one reason: the message names what was looked for.
const EACH_FAILS: &str = r##"
[[scenario]]
name = "an action on a text that matches twice"
steps = [ { visit = "/" }, { click = "text=Get help" }, { expect_title = "Locators" } ]

[[scenario]]
name = "an action on CSS that matches twice"
steps = [ { visit = "/" }, { click = "li" }, { expect_title = "Locators" } ]

[[scenario]]
name = "a role with a name the page lacks"
steps = [ { visit = "/" }, { expect_present = 'role=button[name="Publish"]' } ]

[[scenario]]
name = "a text the page lacks"
steps = [ { visit = "/" }, { click = "text=Nowhere" }, { expect_title = "Locators" } ]

[[scenario]]
name = "a label the page lacks"
steps = [ { visit = "/" }, { expect_value = "x", of = "label=Phone" } ]

[[scenario]]
name = "a placeholder the page lacks"
steps = [ { visit = "/" }, { type = "x", into = "placeholder=Your name" }, { expect_title = "Locators" } ]

[[scenario]]
name = "a test id the page lacks"
steps = [ { visit = "/" }, { expect_present = "testid=nope" } ]

[[scenario]]
name = "a chain whose second part is not inside the first"
steps = [ { visit = "/" }, { expect_present = "nav >> text=1: Buy milk" } ]

[[scenario]]
name = "a count that differs"
steps = [ { visit = "/" }, { expect_count = 3, of = "text=Get help" } ]

[[scenario]]
name = "a checked box expected unchecked"
steps = [ { visit = "/" }, { expect_unchecked = "label=Remember me" } ]

[[scenario]]
name = "a disabled button expected enabled"
steps = [ { visit = "/" }, { expect_enabled = "text=Archive" } ]

[[scenario]]
name = "a value that differs"
steps = [ { visit = "/" }, { expect_value = "Red", of = 'role=combobox[name="Colour"]' } ]

[[scenario]]
name = "focus elsewhere"
steps = [ { visit = "/" }, { expect_focused = "testid=notes" } ]
"##;

#[test]
fn a_page_without_what_a_locator_names_fails_saying_so_and_an_action_on_two_matches_names_them() {
    let url = serve(PAGE);
    let (out, _dir) = run(EACH_FAILS, &url, &["--max-wait", "3", "--workers", "2"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let said = |text: &str| assert!(out.stdout.contains(text), "expected {text:?} in:\n{}", out.stdout);
    said("2 elements match text=Get help (an action needs exactly one): <a href=\"/help\">Get help</a>, <li>Get help</li>");
    said("2 elements match li (an action needs exactly one): <li>Get help</li>, <li>Something else</li>");
    said("no element matches role=button[name=\"Publish\"] on");
    said("no element matches text=Nowhere on");
    said("no element matches label=Phone on");
    said("no element matches placeholder=Your name on");
    said("no element matches testid=nope on");
    said("no element matches nav >> text=1: Buy milk on");
    said("2 element(s) match text=Get help: <a href=\"/help\">Get help</a>, <li>Get help</li>");
    said("label=Remember me is checked");
    said("text=Archive is disabled");
    said("the value of role=combobox[name=\"Colour\"] was \"Green\"");
    said("testid=notes does not have the focus");
    assert!(out.stdout.contains("13 failed"), "{}", out.stdout);
}

/// The same engines in Firefox (geckodriver), whose accessibility and layout code is
/// not Chromium's: the one script must find the same elements there.
#[test]
fn every_locator_engine_finds_the_same_elements_on_firefox() {
    let url = serve(PAGE);
    let (out, _dir) = run(EVERY_ENGINE, &url, &["--max-wait", "5", "--browser", "firefox"]);
    assert_eq!(out.code, 0, "{}", out.all());
}
