//! Values in named selectors: a `[selectors]` entry may use `${name}` (the row a scenario
//! just added, an id it captured), filled in where a step uses it. Checked at load as a
//! step's own templated selector is: the syntax and built-ins where the entry is written,
//! and at each step that uses it, that every value is set before that step. Real Chromium,
//! a real page on loopback.

use crate::common;

use common::loopback::{respond, serve};
use common::*;

const PAGE: &str = "<!doctype html><title>Rows</title><link rel=\"icon\" href=\"data:,\">\
    <table id=\"t\"><tr><td>1: Buy milk</td></tr><tr><td>2: Buy eggs</td></tr></table>\
    <p id=\"wanted\">Buy eggs</p><p id=\"missing\">Buy bread</p>";

fn run_spec(spec: &str) -> (Output, tempfile::TempDir) {
    let url = serve(|_, stream| respond(stream, "200 OK", PAGE));
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("rows.toml"), spec).expect("write");
    let out = ft_in(dir.path(), &["--specs", "rows.toml", "--liveserver", &url, "--max-wait", "3"]);
    (out, dir)
}

const SPEC: &str = r##"[selectors]
row = "#t >> text=${n}: ${item}"

[[scenario]]
name = "finds the row it names"
steps = [
  { visit = "/" },
  { capture = "n", count_of = "#t tr" },
  { capture = "item", text_of = "#wanted" },
  { expect_present = "@row" },
]

[[scenario]]
name = "does not find a row that is not there"
steps = [
  { visit = "/" },
  { capture = "n", count_of = "#t tr" },
  { capture = "item", text_of = "#missing" },
  { expect_present = "@row" },
]
"##;

#[test]
fn a_named_selector_with_values_finds_what_they_name_and_fails_naming_it_filled_in() {
    let (out, dir) = run_spec(SPEC);
    assert_eq!(out.code, 1, "{}", out.all());
    let junit = read_junit(&dir.path().join("reports/junit.xml"));
    assert_eq!(junit.case("finds the row it names").status, "passed", "{}", out.all());
    let failed = junit.case("does not find a row that is not there");
    assert_eq!(failed.status, "failure", "{failed:?}");
    assert!(failed.message.contains("@row (#t >> text=2: Buy bread)"), "named, with its values: {failed:?}");
}

#[test]
fn a_named_selector_s_values_are_checked_at_load_where_it_is_written_and_where_it_is_used() {
    let spec = r##"[selectors]
row = "#t >> text=${n}: ${item}"
odd = "#t-${run.nope}"
broken = "#t-${"

[[scenario]]
name = "uses the row before it counts"
steps = [
  { visit = "/" },
  { capture = "item", text_of = "#wanted" },
  { expect_present = "@row" },
]
"##;
    let (out, _dir) = run_spec(spec);
    assert_eq!(out.code, 2, "{}", out.all());
    let err = &out.stderr;
    assert!(err.contains("rows.toml:3:7: error: unknown built-in value `${run.nope}`"), "{err}");
    assert!(err.contains("rows.toml:4:10: error:"), "the entry's syntax: {err}");
    assert!(
        err.contains("rows.toml:11:22: error: `${n}` (by @row) is used before any step sets it"),
        "at the step that uses it: {err}"
    );
    assert!(!err.contains("`${item}` (by @row)"), "item is set before: {err}");
}
