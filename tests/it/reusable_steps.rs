//! Reusable steps (`[steps.NAME]`): written once with parameters, called like a verb from
//! any file, expanded at load; reports show each expanded step under its call; mistakes
//! (an unknown or missing parameter, a cycle, a verb's name, a runaway expansion) are
//! refused at load.

use crate::common;

use common::*;

/// A library file: reusable steps and selectors, no scenarios.
const LIBRARY: &str = r##"[selectors]
item_input = "#id_text"
list_rows = "#id_list_table tr"

[steps.add_list_item]
params = ["text"]
steps = [
  { capture = "rows", count_of = "@list_rows" },
  { type = "${text}", into = "@item_input" },
  { press = "Enter", on = "@item_input" },
  { expect_row = "${rows + 1}: ${text}", in = "#id_list_table" },
]

[steps.start_list]
params = ["first", "second"]
steps = [
  { visit = "/" },
  { add_list_item = "${first}" },
  { add_list_item = "${second}" },
]

[steps.go_home]
steps = [{ visit = "/" }]
"##;

/// Write lib.toml and spec.toml in a fresh folder and run ft on the folder.
fn run(spec: &str, extra: &[&str]) -> (Output, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("specs")).expect("specs folder");
    std::fs::write(dir.path().join("specs/lib.toml"), LIBRARY).expect("write library");
    std::fs::write(dir.path().join("specs/spec.toml"), spec).expect("write spec");
    let mut args = vec!["--specs", "specs", "--max-wait", "5"];
    args.extend(extra);
    (ft_in(dir.path(), &args), dir)
}

fn refused(spec: &str) -> Output {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("specs")).expect("specs folder");
    std::fs::write(dir.path().join("specs/lib.toml"), LIBRARY).expect("write library");
    std::fs::write(dir.path().join("specs/spec.toml"), spec).expect("write spec");
    let out = ft_in(dir.path(), &["--specs", "specs", "--driver", "/nonexistent/chromedriver"]);
    assert_eq!(out.code, 2, "{}", out.all());
    out
}

fn scenario(steps: &str) -> String {
    format!("[[scenario]]\nname = \"reuse\"\nsteps = [\n{steps}\n]\n")
}

#[test]
fn reusable_steps_from_a_library_file_add_items_as_the_book_does() {
    let (out, _dir) = run(
        &scenario(
            r##"  { start_list = "Buy milk", second = "Buy eggs" },
  { add_list_item = "Buy bread" },
  { expect_row = "1: Buy milk", in = "#id_list_table" },
  { go_home = true },
  { expect_no_text = "Buy bread" },"##,
        ),
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
}

#[test]
fn a_failure_inside_a_reusable_step_is_shown_under_its_call() {
    // The second item is typed twice: the app refuses the duplicate, so row 2 never comes.
    let (out, dir) = run(&scenario("  { start_list = \"Buy milk\", second = \"Buy milk\" },"), &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains(
            "start_list › add_list_item › expect a row \"2: Buy milk\" in #id_list_table (specs/lib.toml:11:3)"
        ),
        "the failing step under its calls, where it is written:\n{}",
        out.all()
    );
    assert!(out.stdout.contains("specs/spec.toml:4"), "the scenario's call is the failure's line:\n{}", out.all());
    let html = std::fs::read_to_string(dir.path().join("reports/index.html")).expect("index.html");
    assert!(
        html.contains("<li class=\"call\">line 4: start_list (specs/spec.toml:4:3)"),
        "the timeline nests it:\n{html}"
    );
    assert!(
        html.contains("<li class=\"call\">line 4: add_list_item (specs/lib.toml:31:3)")
            || html.contains("add_list_item (specs/lib.toml:"),
        "{html}"
    );
    let junit = read_junit(&dir.path().join("reports/junit.xml"));
    assert!(junit.case("reuse").message.contains("start_list › add_list_item"), "{}", junit.case("reuse").message);
}

#[test]
fn an_unknown_parameter_is_refused_with_the_closest() {
    let out = refused(&scenario("  { start_list = \"a\", secnd = \"b\" },"));
    assert!(out.stderr.contains("spec.toml:4:23: error: `start_list` has no parameter `secnd`"), "{}", out.stderr);
    assert!(out.stderr.contains("did you mean `second`?"), "{}", out.stderr);
}

#[test]
fn a_missing_parameter_is_refused_at_the_call() {
    let out = refused(&scenario("  { start_list = \"a\" },"));
    assert!(out.stderr.contains("spec.toml:4:5: error: `start_list` needs `second`"), "{}", out.stderr);
}

#[test]
fn a_reusable_step_without_parameters_is_called_with_true() {
    let out = refused(&scenario("  { go_home = \"/\" },\n  { expect_title = \"x\" },"));
    assert!(out.stderr.contains("spec.toml:4:15: error: `go_home` takes no parameters"), "{}", out.stderr);
}

#[test]
fn a_cycle_is_refused_naming_the_chain() {
    let out = refused(
        "[steps.a]\nsteps = [{ b = true }]\n\n[steps.b]\nsteps = [{ a = true }]\n\n[[scenario]]\nname = \"loop\"\nsteps = [{ a = true }, { expect_title = \"x\" }]\n",
    );
    assert!(out.stderr.contains("error: reusable step `a` calls itself: a → b → a"), "{}", out.stderr);
    assert!(
        out.stderr.contains("spec.toml:5:12: error: reusable step `a` calls itself: a → b → a (in reusable step `b`, called at specs/spec.toml:2:10)"),
        "at the call that closes the loop, with the call that led there:\n{}",
        out.stderr
    );
}

#[test]
fn a_reusable_step_may_not_take_a_verbs_name() {
    let out = refused("[steps.visit]\nsteps = [{ visit = \"/\" }]\n\n[[scenario]]\nname = \"x\"\nsteps = [{ expect_title = \"x\" }]\n");
    assert!(
        out.stderr.contains("spec.toml:1:8: error: reusable step `visit` has the name of a verb"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_runaway_expansion_is_refused() {
    // Each level calls the next ten times: 10^5 steps.
    let mut spec = String::new();
    for level in 0..5 {
        let calls = vec![format!("{{ l{} = true }}", level + 1); 10].join(", ");
        spec.push_str(&format!("[steps.l{level}]\nsteps = [{calls}]\n\n"));
    }
    spec.push_str(
        "[steps.l5]\nsteps = [{ expect_title = \"x\" }]\n\n[[scenario]]\nname = \"big\"\nsteps = [{ l0 = true }]\n",
    );
    let out = refused(&spec);
    assert!(out.stderr.contains("error: this scenario expands to more than 5000 steps through `l0`"), "{}", out.stderr);
}

#[test]
fn a_mistake_inside_a_reusable_step_is_reported_where_it_is_written_with_its_call() {
    let out = refused(
        "[steps.broken]\nparams = [\"x\"]\nsteps = [{ type = \"${x} ${nope}\", into = \"#a\" }]\n\n[[scenario]]\nname = \"x\"\nsteps = [{ broken = \"1\" }, { broken = \"2\" }, { expect_title = \"x\" }]\n",
    );
    assert!(
        out.stderr.contains("spec.toml:3:25: error: `${nope}` is used before any step sets it (in reusable step `broken`, called at specs/spec.toml:7:10)"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stderr.matches("`${nope}` is used before").count(), 1, "once, at its first call:\n{}", out.stderr);
}
