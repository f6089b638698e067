//! Issue 21: a locator no page could ever satisfy is refused at load, before any browser
//! starts, at file:line:col with a hint, wherever a selector goes: a step's value or
//! argument, `[selectors]`, ft.toml's `[selectors]` and `--selector`. And the new
//! expectations' values are checked too.

use crate::common;

use common::*;

/// Write `text` as spec.toml (and `config` as ft.toml, when given) in a fresh folder, run
/// ft with `args`, expect exit 2 without a browser (`--driver` points nowhere).
fn refused(text: &str, config: Option<&str>, args: &[&str]) -> Output {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("spec.toml"), text).expect("write spec");
    if let Some(config) = config {
        std::fs::write(dir.path().join("ft.toml"), config).expect("write ft.toml");
    }
    let mut all = vec!["--specs", "spec.toml", "--driver", "/nonexistent/chromedriver"];
    all.extend_from_slice(args);
    let out = ft_in(dir.path(), &all);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(!out.stderr.contains("failed to find chromedriver"), "no browser was involved:\n{}", out.stderr);
    out
}

/// A spec whose steps start at line 7, after a `[selectors]` naming `item_input`.
fn with_steps(steps: &str) -> String {
    format!(
        "[selectors]\nitem_input = \"#id_text\"\n\n[[scenario]]\nname = \"one\"\nsteps = [\n{steps}\n  {{ expect_title = \"To-Do\" }},\n]\n"
    )
}

fn says(out: &Output, wanted: &str) {
    assert!(out.stderr.contains(wanted), "wanted {wanted:?} in\n{}", out.stderr);
}

#[test]
fn a_misspelt_locator_engine_suggests_the_right_one() {
    let out = refused(&with_steps("  { click = \"txt=Get help\" },"), None, &[]);
    says(&out, "spec.toml:7:13: error: unknown locator `txt=` in \"txt=Get help\"");
    says(&out, "= hint: did you mean `text=`?");
}

#[test]
fn every_locator_mistake_of_a_file_is_reported_at_once_where_it_is_written() {
    let steps = [
        "  { click = 'role=buton[name=\"Save\"]' },",
        "  { expect_present = 'role=link[name=My lists]' },",
        "  { type = \"x\", into = \"label=\" },",
        "  { expect_count = 2, of = \"#id_list_table >> \" },",
        "  { expect_value = \"x\", of = \"placeholder*=you\" },",
        "  { expect_checked = \"css=input[[\" },",
    ];
    let out = refused(&with_steps(&steps.join("\n")), None, &[]);
    says(&out, "spec.toml:7:13: error: unknown role `buton`");
    says(&out, "= hint: did you mean `button`?");
    says(&out, "spec.toml:8:22: error: malformed name filter \"[name=My lists]\" after role=link");
    says(&out, "spec.toml:9:24: error: `label=` needs the label's text");
    says(&out, "spec.toml:10:28: error: a part of the chain \"#id_list_table >> \" is empty");
    says(&out, "spec.toml:11:30: error: `placeholder*=` does not exist");
    says(&out, "spec.toml:12:22: error: invalid CSS selector \"input[[\": a malformed attribute selector");
    says(&out, "6 spec errors");
}

#[test]
fn a_locator_under_selectors_is_checked_where_it_is_defined_and_usable_by_name() {
    let text = "[selectors]\nsave = 'role=button[name=\"Save\"]'\nbroken = \"text*=\"\n\n[[scenario]]\nname = \"one\"\nsteps = [\n  { click = \"@save\" },\n  { click = \"@broken\" },\n  { expect_title = \"x\" },\n]\n";
    let out = refused(text, None, &[]);
    says(&out, "spec.toml:3:10: error: `text*=` needs the text to find");
    assert!(!out.stderr.contains("@save"), "a good named locator is no error:\n{}", out.stderr);
    assert!(out.stderr.contains("1 spec error"), "the use of the broken name is no second error:\n{}", out.stderr);
}

#[test]
fn an_override_in_ft_toml_or_a_flag_is_checked_as_a_locator_where_it_was_given() {
    let text = with_steps("  { click = \"@item_input\" },");
    let out = refused(&text, Some("specs = \"spec.toml\"\n\n[selectors]\nitem_input = \"lable=Email\"\n"), &[]);
    says(&out, "ft.toml:4:14: error: invalid selector for `item_input`: unknown locator `lable=`");
    says(&out, "did you mean `label=`?");
    let out = refused(&text, None, &["--selector", "item_input=role=textbx"]);
    says(&out, "--selector item_input=role=textbx: error: invalid selector for `item_input`: unknown role `textbx`");
}

#[test]
fn an_expected_count_is_a_whole_number() {
    let out = refused(
        &with_steps("  { expect_count = -1, of = \"li\" },\n  { expect_count = \"3\", of = \"li\" },"),
        None,
        &[],
    );
    says(&out, "spec.toml:7:20: error: `expect_count` expects a whole number, 0 or more");
    says(&out, "spec.toml:8:20: error: `expect_count` expects a whole number, 0 or more");
    says(&out, "= hint: e.g. { expect_count = 2, of = \"#id_list_table tr\" }");
}

#[test]
fn a_valid_locator_of_every_engine_loads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let steps = [
        "  { click = 'role=link[name=\"My lists\"]' },",
        "  { click = \"text=Get help\" },",
        "  { expect_present = \"text*=help\" },",
        "  { type = \"x\", into = \"label=Email address\" },",
        "  { expect_focused = \"label*=Email\" },",
        "  { expect_value = \"x\", of = \"placeholder=you@example.com\" },",
        "  { expect_enabled = \"testid=save\" },",
        "  { expect_disabled = \"css=#id_submit\" },",
        "  { expect_count = 0, of = \"#id_list_table >> text=1: Buy milk\" },",
        "  { expect_checked = \"role=checkbox\" },",
        "  { expect_unchecked = \"role=radio[name*='No']\" },",
    ];
    std::fs::write(dir.path().join("spec.toml"), with_steps(&steps.join("\n"))).expect("write spec");
    let out = ft_in(dir.path(), &["list", "--specs", "spec.toml"]);
    assert_eq!(out.code, 0, "{}", out.all());
}
