//! Issue 21, "pages ft must not misread": markup that shadows what ft's inspection reads
//! (DOM clobbering). On Django's admin change list the page's form has a control named
//! `action`, so `form.action` was that element and every expectation failed with
//! "unexpected inspection result: invalid type: map, expected a string". Here a form's
//! controls are named after the properties a script would read of it (`action`, `method`,
//! `closest`, `getAttribute`, `noValidate`, `requestSubmit`, `submit`...) and the
//! document's named elements after the document's (`title`, `body`, `querySelectorAll`,
//! `getElementsByTagName`, `getElementById`, `activeElement`): every expectation and
//! action must still read the page as a person sees it.
//!
//! Not on the page ft types into: `<form name="documentElement">` and `<img
//! name="activeElement">`. chromedriver's own code reads `document.documentElement` to
//! tell whether an element a script returns is still in the page (with it every element
//! reference comes back "stale") and `document.activeElement` to tell whether typing
//! focused the element ("element not interactable"): the driver is misled before ft
//! sees anything. The focus a page shadows that way is read on a page of its own.

use crate::common;

use common::loopback;
use common::*;

/// The page; a submitted form lands on `/saved`, which says so.
const HOSTILE: &str = r##"<!doctype html><html><head><title>Hostile</title></head><body>
<img name="title" alt=""><img name="body" alt=""><img name="querySelectorAll" alt="">
<img name="getElementsByTagName" alt=""><img name="getElementById" alt="">
<h1>Welcome</h1>
<form id="f" action="/saved" method="post">
  <input type="hidden" name="action" value="delete_selected">
  <input type="hidden" name="method" value="x">
  <input type="hidden" name="closest" value="x">
  <input type="hidden" name="getAttribute" value="x">
  <input type="hidden" name="attributes" value="x">
  <input type="hidden" name="innerText" value="x">
  <input type="hidden" name="children" value="x">
  <input type="hidden" name="parentElement" value="x">
  <input type="hidden" name="noValidate" value="x">
  <input type="hidden" name="requestSubmit" value="x">
  <input type="hidden" name="getBoundingClientRect" value="x">
  <label for="item">New item</label> <input id="item" name="item" required>
  <button type="submit" name="submit">Save</button>
</form>
</body></html>"##;

/// Focus given by the page itself, its `document.activeElement` shadowed.
const FOCUS: &str = r##"<!doctype html><html><head><title>Focus</title></head><body>
<img name="activeElement" alt=""><input id="other"> <input id="auto" autofocus>
</body></html>"##;

const SAVED: &str = "<!doctype html><html><head><title>Saved</title></head><body><p>Saved it</p></body></html>";

fn serve() -> String {
    loopback::serve(|request, stream| {
        let page = if request.line.contains("/saved") {
            SAVED
        } else if request.line.contains("/focus") {
            FOCUS
        } else {
            HOSTILE
        };
        loopback::respond(stream, "200 OK", page)
    })
}

/// Steps with verbs every build of ft has had: what the old inspection script failed on.
const WITH_THE_FIRST_VERBS: &str = r##"
[[scenario]]
name = "a form and a document full of shadowing names read as shown"
steps = [
  { visit = "/" },
  { expect_title = "Hostile" },
  { expect_page_text = "Welcome" },
  { expect_text = "Welcome", in = "h1" },
  { expect_visible = "form#f" },
  { expect_attribute = "method", of = "form#f", equals = "post" },
  { type = "Buy milk", into = "#item" },
  { click = "button[name=submit]" },
  { expect_url = "/saved$" },
  { expect_page_text = "Saved it" },
]
"##;

/// The same page through the new locators and expectations, and a submit without the
/// browser's validation (its script reads the form's `noValidate` and `requestSubmit`).
const WITH_LOCATORS: &str = r##"
[[scenario]]
name = "locators and state read through a shadowing form"
steps = [
  { visit = "/" },
  { expect_text = "Welcome", in = "role=heading" },
  { expect_count = 1, of = "role=button[name=\"Save\"]" },
  { type = "Buy milk", into = "label=New item" },
  { expect_value = "Buy milk", of = "label=New item" },
  { expect_focused = "label=New item" },
  { expect_enabled = "text=Save" },
  { clear = "label=New item" },
  { submit_novalidate = "label=New item" },
  { expect_url = "/saved$" },
  { expect_title = "Saved" },
  { visit = "/focus" },
  { expect_focused = "#auto" },
]
"##;

fn run(spec: &str) -> Output {
    let url = serve();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("hostile.toml");
    std::fs::write(&path, spec).expect("write spec");
    ft_in(dir.path(), &["--specs", path.to_str().expect("utf-8 path"), "--liveserver", &url, "--max-wait", "3"])
}

/// Checked against the build before this change: the scenario failed at once, at its
/// visit, with "unexpected inspection result: invalid type: map, expected a string".
#[test]
fn a_form_with_controls_named_action_and_method_and_a_document_with_named_elements_are_read_as_shown() {
    let out = run(WITH_THE_FIRST_VERBS);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(!out.all().contains("unexpected inspection result"), "{}", out.all());
}

#[test]
fn locators_expectations_and_a_submit_without_validation_work_through_a_shadowing_form() {
    let out = run(WITH_LOCATORS);
    assert_eq!(out.code, 0, "{}", out.all());
}
