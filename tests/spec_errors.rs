//! Malformed specs are refused before any browser starts: every problem at once, as
//! `file:line:col: error: what`, with a hint, and exit code 2.

mod common;

use common::*;

const HEADER: &str = "[selectors]\nitem_input = \"#id_text\"\n\n[[scenario]]\nname = \"one\"\nsteps = [\n";

/// Write `text` as spec.toml in a fresh folder, run ft on it, expect exit 2.
/// `--driver` points nowhere: had ft tried to start a browser, it would exit 3 instead.
fn refused(text: &str) -> Output {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("spec.toml"), text).expect("write spec");
    let out = ft_in(dir.path(), &["--specs", "spec.toml", "--driver", "/nonexistent/chromedriver"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(!out.stderr.contains("chromedriver"), "no browser was involved:\n{}", out.stderr);
    assert!(!dir.path().join("reports").exists(), "nothing written for a refused spec");
    out
}

/// A spec whose steps are `steps` (one per line, starting at line 7).
fn with_steps(steps: &str) -> String {
    format!("{HEADER}{steps}\n  {{ expect_title = \"To-Do\" }},\n]\n")
}

fn assert_says(out: &Output, location_and_message: &str, hint: &str) {
    assert!(
        out.stderr.contains(&format!("spec.toml:{location_and_message}")),
        "wanted {location_and_message:?} in\n{}",
        out.stderr
    );
    assert!(out.stderr.contains(&format!("= hint: {hint}")), "wanted hint {hint:?} in\n{}", out.stderr);
}

#[test]
fn toml_syntax_errors_point_at_the_spot() {
    let out = refused("[[scenario]]\nname = \"x\"\nsteps = [ { visit = \"/\" }\n");
    assert_says(&out, "3:26: error: unclosed array, expected `]`", "this is not valid TOML here");
}

#[test]
fn an_unknown_step_suggests_the_closest_verb() {
    let out = refused(&with_steps("  { vist = \"/\" },"));
    assert_says(&out, "7:5: error: unknown step `vist`", "did you mean `visit`?");
    assert!(out.stderr.contains("7 |   { vist = \"/\" },\n  |     ^^^^"), "caret under the word:\n{}", out.stderr);
}

#[test]
fn a_scenario_without_steps_is_a_missing_field() {
    let out = refused("[[scenario]]\nname = \"x\"\n");
    assert_says(&out, "1:1: error: missing field `steps`", "every [[scenario]] needs");
}

#[test]
fn a_step_missing_its_argument_says_which() {
    let out = refused(&with_steps("  { type = \"Buy milk\" },"));
    assert_says(&out, "7:5: error: `type` needs `into`", "e.g. { type = \"Buy milk\", into = \"@item_input\" }");
}

#[test]
fn a_misspelt_argument_suggests_the_right_one() {
    let out = refused(&with_steps("  { type = \"x\", int = \"@item_input\" },"));
    assert_says(&out, "7:17: error: `type` does not take `int`", "did you mean `into`?");
}

#[test]
fn a_bad_regular_expression_is_reported_where_it_is() {
    let out = refused(&with_steps("  { expect_url = \"/lists/(.+\" },"));
    assert_says(&out, "7:18: error: bad regular expression: unclosed group", "escape a literal");
}

#[test]
fn an_unknown_selector_name_suggests_a_defined_one() {
    let out = refused(&with_steps("  { click = \"@itme_input\" },"));
    assert_says(&out, "7:13: error: unknown selector name `@itme_input`", "did you mean `@item_input`?");
}

#[test]
fn duplicate_scenario_names_name_the_first_definition() {
    let text = "[[scenario]]\nname = \"same\"\nsteps = [ { expect_title = \"a\" } ]\n\n[[scenario]]\nname = \"same\"\nsteps = [ { expect_title = \"b\" } ]\n";
    let out = refused(text);
    assert_says(&out, "6:8: error: duplicate scenario name \"same\"", "it is first defined at spec.toml:2");
}

#[test]
fn a_step_doing_two_things_is_refused() {
    let out = refused(&with_steps("  { visit = \"/\", click = \"a\" },"));
    assert_says(
        &out,
        "7:5: error: a step does one thing, but this one has both `click` and `visit`",
        "split it into two steps",
    );
}

#[test]
fn a_url_must_be_remembered_before_it_is_compared() {
    let out = refused(&with_steps("  { expect_url_differs = \"edith\" },"));
    assert_says(
        &out,
        "7:26: error: no URL was remembered as \"edith\" before this step",
        "add { remember_url = \"edith\" } earlier",
    );
}

#[test]
fn visit_takes_a_path_not_a_host() {
    let out = refused(&with_steps("  { visit = \"superlists.example\" },"));
    assert_says(&out, "7:13: error: `visit` takes a path on the target", "start it with `/`");
}

#[test]
fn unknown_keys_and_wrong_types_are_caught() {
    let out = refused(&with_steps(
        "  { press = \"Entr\", on = \"@item_input\" },\n  { window_size = [1024] },\n  { expect_title = 3 },",
    ));
    assert_says(&out, "7:13: error: unknown key \"Entr\"", "keys: Enter, Tab");
    assert_says(&out, "8:19: error: `window_size` expects [width, height]", "e.g. { window_size = [1024, 768] }");
    assert_says(
        &out,
        "9:20: error: `expect_title` expects text the title must contain, found integer",
        "e.g. { expect_title = \"To-Do\" }",
    );
}

#[test]
fn a_scenario_that_checks_nothing_is_refused() {
    let out = refused("[[scenario]]\nname = \"x\"\nsteps = [ { visit = \"/\" } ]\n");
    assert_says(&out, "3:9: error: scenario \"x\" has no expect_* step", "add at least one expectation");
}

#[test]
fn a_misspelt_table_is_an_unknown_field() {
    let out = refused("[[senario]]\nname = \"x\"\n");
    assert_says(&out, "1:3: error: unknown field `senario`, expected one of `suite`, `selectors`, `scenario`", "did you mean `scenario`?");
}

#[test]
fn every_problem_in_every_file_is_reported_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let specs = dir.path().join("specs");
    std::fs::create_dir(&specs).expect("mkdir");
    std::fs::write(specs.join("a.toml"), with_steps("  { vist = \"/\" },\n  { click = \"@nope\" },")).expect("write");
    std::fs::write(specs.join("b.toml"), "[[scenario]]\nname = \"one\"\nsteps = [ { expect_title = \"x\" } ]\n")
        .expect("write");
    std::fs::write(specs.join("c.toml"), "not toml at all [").expect("write");
    let out = ft_in(dir.path(), &["--specs", "specs", "--driver", "/nonexistent/chromedriver"]);
    assert_eq!(out.code, 2, "{}", out.all());
    for wanted in [
        "specs/a.toml:7:5: error: unknown step",
        "specs/a.toml:8:13: error: unknown selector name `@nope`",
        "specs/b.toml:2:8: error: duplicate scenario name \"one\"",
        "specs/c.toml:1:",
    ] {
        assert!(out.stderr.contains(wanted), "wanted {wanted:?} in\n{}", out.stderr);
    }
    assert!(out.stderr.contains("4 spec errors; nothing was run"), "{}", out.stderr);
}

#[test]
fn list_reports_the_same_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("spec.toml"), with_steps("  { vist = \"/\" },")).expect("write");
    let out = ft_in(dir.path(), &["list", "--specs", "spec.toml"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("spec.toml:7:5: error: unknown step `vist`"), "{}", out.stderr);
}

#[test]
fn an_override_for_a_selector_no_spec_names_is_refused() {
    let out = ft_in(&root(), &["list", "--selector", "eror=.has-error"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("--selector eror=.has-error: error: no spec file defines a selector named `eror`"), "{}", out.stderr);
    assert!(out.stderr.contains("did you mean `error`?"), "{}", out.stderr);
}

/// Issue 13: `at = inf` always failed and `nan` never held: neither is a check.
#[test]
fn a_centre_that_is_not_a_finite_number_is_refused() {
    for (value, col) in [("inf", 39), ("nan", 39), ("-inf", 39)] {
        let out = refused(&with_steps(&format!("  {{ expect_centred = \"#id_text\", at = {value} }},")));
        assert_says(
            &out,
            &format!("7:{col}: error: `at` must be a finite number, found {}", value.replace("nan", "NaN")),
            "e.g. { expect_centred",
        );
    }
}
