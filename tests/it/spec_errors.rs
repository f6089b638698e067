//! Malformed specs are refused before any browser starts: every problem at once, as
//! `file:line:col: error: what`, with a hint, and exit code 2.

use crate::common;

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
fn a_url_must_be_remembered_before_it_is_said_to_be_the_same() {
    let out = refused(&with_steps("  { expect_url_same = \"first_list\" },"));
    assert_says(
        &out,
        "7:23: error: no URL was remembered as \"first_list\" before this step",
        "add { remember_url = \"first_list\" } earlier",
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
    assert_says(
        &out,
        "1:3: error: unknown field `senario`, expected one of `suite`, `selectors`, `values`, `steps`, `scenario`",
        "did you mean `scenario`?",
    );
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
    assert!(
        out.stderr.contains("--selector eror=.has-error: error: no spec file defines a selector named `eror`"),
        "{}",
        out.stderr
    );
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

// Issue 13: bad input caught before a browser starts, with its real source.

/// Issue 13: `div[[[` passed the spec check, then counted as the app's failure.
#[test]
fn a_css_selector_no_browser_accepts_is_refused_where_it_is_written() {
    let out = refused(&with_steps("  { click = \"div[[[\" },\n  { expect_present = \"p:contains('x')\" },"));
    assert_says(
        &out,
        "7:13: error: invalid CSS selector \"div[[[\": a malformed attribute selector",
        "browsers would refuse it",
    );
    assert_says(
        &out,
        "8:22: error: invalid CSS selector \"p:contains('x')\": unknown pseudo-class",
        "browsers would refuse it",
    );
    assert!(out.stderr.contains("2 spec errors; nothing was run"), "{}", out.stderr);
}

#[test]
fn a_named_selector_is_checked_where_it_is_defined() {
    let text = "[selectors]\nitem_input = \"#id_text >\"\n\n[[scenario]]\nname = \"one\"\nsteps = [\n  { click = \"@item_input\" },\n  { expect_title = \"To-Do\" },\n]\n";
    let out = refused(text);
    assert_says(&out, "2:14: error: invalid CSS selector \"#id_text >\": a combinator", "browsers would refuse it");
    assert!(out.stderr.contains("1 spec error;"), "reported once, at its definition:\n{}", out.stderr);
}

/// Selectors Chromium accepts, written so that none matches the home page: the suite
/// passes only if ft's check accepted every one *and* Chromium ran every one.
const CHROMIUM_ACCEPTS: &[&str] = &[
    "div > p + ul ~ span.ft-none",
    "a[data-ft-none]",
    "a[href^='https' i].ft-none",
    // Not the `s` flag: Chromium 156 refuses it (Firefox accepts it, and so does ft).
    "a[href$=\\\".pdf\\\" i]",
    "[data-x*=\\\"y\\\"], [lang|=ft-none], [class~=ft-none]",
    "input.ft-none:invalid",
    ":is(h1, h2) > span.ft-none",
    ":where(.ft-none, .ft-other) p",
    "div.ft-none:has(> img)",
    "section:has(+ footer, ~ aside)",
    "form:not(form, .x)",
    ":not(html, head, head *, body, body *)",
    "li:nth-child(2n+1 of .ft-none)",
    "li:nth-last-child(-n + 3)",
    "p:nth-of-type(odd):first-child.ft-none",
    "*|ft-none",
    "|ft-none",
    "#\\\\31 23",
    ".a\\\\:b",
    "#id_text.ft-none:focus-visible",
    "input.ft-none:placeholder-shown:not(:disabled)",
    ":root :scope",
    "p.ft-none:empty",
    "p::before",
    "p:before",
    "input::placeholder",
    "li::marker",
    "::selection",
    "input.ft-none:-webkit-autofill",
    "::-webkit-scrollbar",
    "div:-webkit-any(.ft-none, .ft-other)",
    ".ft-none:lang(en)",
    ".ft-none:dir(rtl)",
    ":host",
    "& > p.ft-none",
    "DIV.A#B",
    "a.ft-none:HOVER",
    "p /* a comment */ span.ft-none",
    "dialog:modal, details.ft-none:open, :popover-open",
    "input.ft-none:user-invalid",
    ":is(div[[[, p.ft-none)",
    ".ft-none:not(:has(b))",
    ":has(:is(a)).ft-none",
    ":is(:not(a)).ft-none",
    ":where()",
    ":is()",
    "p::first-line",
    "input::-webkit-input-placeholder",
    "[foo=\\\"bar\\\" I]",
    "[*|foo]",
    "[|foo]",
    "a.ft-none:visited",
    "::highlight(x)",
    "::view-transition-old(root)",
    ".ft-none:state(foo)",
    "::part(a b)",
    "::slotted(*)",
    ":host(:hover)",
    ":host-context(.dark)",
    "::cue(b)",
    "::cue",
    ".ft-none:nth-child(even)",
    ".ft-none:nth-child(+5)",
    ".ft-none:nth-child(n)",
    ".ft-none:nth-last-of-type(2n - 1)",
    "a.ft-none:any-link",
    ":has(> a.ft-none, + b)",
    ":is(a.ft-none, ::before)",
    "div:has(p.ft-none):has(span)",
    "* + .ft-none",
    "a.ft-none:is(:hover, :focus)",
    ".ft-none:where(:not(.a))",
    ".a.b.c#d[e]",
    ".ft-none:focus-within:not(:focus)",
    ":checked + label",
];

#[test]
fn every_selector_chromium_accepts_is_accepted_and_runs_in_chromium() {
    // One scenario each, so a refusal by Chromium names every selector concerned at once.
    let scenarios: Vec<String> = CHROMIUM_ACCEPTS
        .iter()
        .enumerate()
        .map(|(i, css)| {
            format!("[[scenario]]\nname = \"selector {i}\"\nsteps = [ {{ visit = \"/\" }}, {{ expect_absent = \"{css}\" }} ]\n")
        })
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("spec.toml"), scenarios.join("\n")).expect("write spec");
    let list = ft_in(dir.path(), &["list", "--specs", "spec.toml"]);
    assert_eq!(list.code, 0, "ft's check refused a selector Chromium accepts:\n{}", list.all());
    // The scenarios are independent of each other: two browsers share them out.
    let out = ft_in(dir.path(), &["--specs", "spec.toml", "--max-wait", "3", "--workers", "2"]);
    let refused: Vec<&str> = out.stdout.lines().filter(|l| l.contains("is not a valid selector")).collect();
    assert!(refused.is_empty(), "Chromium refused what ft accepted:\n{}", refused.join("\n"));
    assert_eq!(out.code, 0, "{}", out.all());
}

/// Issue 13: only the first type error of a file was reported.
#[test]
fn every_type_error_of_a_file_is_reported_at_once() {
    let text = "[suite]\ndescription = 1\n\n\
                [[scenario]]\nname = 3\nsteps = [ { expect_title = \"a\" } ]\n\n\
                [[scenario]]\nname = \"b\"\ntags = \"smoke\"\nsteps = [ { expect_title = \"b\" } ]\n\n\
                [[scenario]]\nname = \"c\"\nsteps = [\n  \"visit /\",\n  { expect_title = 3 },\n  42,\n]\n";
    let out = refused(text);
    for wanted in [
        "spec.toml:2:15: error: invalid type: integer `1`, expected a string",
        "spec.toml:5:8: error: invalid type: integer `3`, expected a string",
        "spec.toml:10:8: error: invalid type: string \"smoke\", expected a sequence",
        "spec.toml:16:3: error: invalid type: string \"visit /\", expected a map",
        "spec.toml:17:20: error: `expect_title` expects text the title must contain, found integer",
        "spec.toml:18:3: error: invalid type: integer `42`, expected a map",
    ] {
        assert!(out.stderr.contains(wanted), "wanted {wanted:?} in\n{}", out.stderr);
    }
    assert!(out.stderr.contains("6 spec errors; nothing was run"), "{}", out.stderr);
    // In the order of the file.
    let lines: Vec<usize> =
        out.stderr.lines().filter_map(|l| l.strip_prefix("spec.toml:")?.split(':').next()?.parse().ok()).collect();
    assert!(lines.windows(2).all(|w| w[0] <= w[1]), "{lines:?}");
}

/// Issue 13: a non-UTF-8 spec had no position.
#[test]
fn a_spec_that_is_not_utf8_is_located_at_its_first_bad_byte() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut bytes = b"[[scenario]]\nname = \"caf".to_vec();
    bytes.push(0xE9); // Latin-1 é
    bytes.extend_from_slice(b"\"\nsteps = [ { expect_title = \"x\" } ]\n");
    std::fs::write(dir.path().join("spec.toml"), bytes).expect("write spec");
    let out = ft_in(dir.path(), &["--specs", "spec.toml", "--driver", "/nonexistent/chromedriver"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert_says(&out, "2:12: error: this file is not UTF-8 text: invalid byte 0xE9", "re-save the file as UTF-8");
}

/// Issue 13: a one-line 5 MB spec gave a 10 MB message.
#[test]
fn a_huge_one_line_spec_gives_a_short_message() {
    // 1 MiB a value: three of them stay under the 4 MiB a spec file may hold (spec::MAX_FILE_BYTES).
    let filler = "x".repeat(1 << 20);
    let text = format!("[[scenario]] # {filler}\n");
    let mut one_line = format!("suite = {{ description = \"{filler}\" }}\nscenario = [ {{ name = \"n\", steps = [ {{ click = \"div[[[{filler}\" }}, {{ vist = \"/\" }} ] }} ]");
    one_line = one_line.replace('\n', " ");
    for spec in [one_line, text] {
        let out = refused(&spec);
        assert!(
            out.stderr.len() < 4_000,
            "{} bytes of message:\n{}",
            out.stderr.len(),
            &out.stderr[..2_000.min(out.stderr.len())]
        );
        assert!(out.stderr.contains("spec.toml:1:"), "{}", out.stderr);
        assert!(out.stderr.contains('…'), "the cut is shown:\n{}", out.stderr);
    }
}

/// ft.toml in a fresh folder with a spec folder beside it.
fn with_config(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("specs")).expect("mkdir");
    std::fs::write(dir.path().join("specs/spec.toml"), with_steps("  { click = \"@item_input\" },")).expect("write");
    std::fs::write(dir.path().join("ft.toml"), config).expect("write ft.toml");
    dir
}

/// Issue 13: ft.toml mistakes were reported as if from flags (`--specs:`, `--selector:`).
#[test]
fn mistakes_in_ft_toml_are_reported_in_ft_toml_with_their_key() {
    let dir = with_config("specs = \"spec\"\n");
    let out = ft_in(dir.path(), &["--driver", "/nonexistent/chromedriver"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.starts_with("ft.toml:1:9: error: `specs` names spec, which cannot be read"), "{}", out.stderr);
    assert!(out.stderr.contains("= hint: `specs` is relative to the folder of ft.toml"), "{}", out.stderr);
    assert!(!out.stderr.contains("--specs:"), "{}", out.stderr);

    let dir = with_config("specs = \"specs\"\nsensitive_url = \"(live\"\n\n[selectors]\neror = \".has-error\"\nitem_input = \"#id_text >\"\n");
    let out = ft_in(dir.path(), &["list"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.starts_with("ft.toml:2:17: error: `sensitive_url` is not a valid regular expression"),
        "{}",
        out.stderr
    );
    let out = ft_in(dir.path(), &["--sensitive-url", "x", "--driver", "/nonexistent/chromedriver"]);
    assert!(out.stderr.contains("ft.toml:2:17"), "a flag does not hide a broken file:\n{}", out.stderr);

    let dir = with_config("specs = \"specs\"\n\n[selectors]\neror = \".has-error\"\nitem_input = \"#id_text >\"\n");
    let out = ft_in(dir.path(), &["--driver", "/nonexistent/chromedriver"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("ft.toml:4:1: error: no spec file defines a selector named `eror`\n  |\n4 | eror = \".has-error\"\n  | ^^^^\n  = hint: did you mean `error`?") || out.stderr.contains("ft.toml:4:1: error: no spec file defines a selector named `eror`"), "{}", out.stderr);
    assert!(
        out.stderr.contains("ft.toml:5:14: error: invalid CSS selector for `item_input`: a combinator"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("--selector"), "{}", out.stderr);
}

#[test]
fn mistakes_in_flags_name_the_flag() {
    let dir = with_config("specs = \"specs\"\n[selectors]\nitem_input = \"#id_text\"\n");
    let out = ft_in(
        dir.path(),
        &["--selector", "item_input=#id_text >", "--selector", "eror=.x", "--driver", "/nonexistent/chromedriver"],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("--selector item_input=#id_text >: error: invalid CSS selector for `item_input`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("--selector eror=.x: error: no spec file defines a selector named `eror`"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("ft.toml:"), "the flag won over ft.toml, so the flag is named:\n{}", out.stderr);
}

#[test]
fn a_named_selector_of_the_wrong_type_is_reported_once_not_at_every_use() {
    let text = "[selectors]\nitem_input = 3\n\n[[scenario]]\nname = \"one\"\nsteps = [\n  { click = \"@item_input\" },\n  { clear = \"@item_input\" },\n  { expect_title = \"To-Do\" },\n]\n";
    let out = refused(text);
    assert_says(&out, "2:14: error: invalid type: integer `3`, expected a string", "a selector is CSS text");
    assert!(out.stderr.contains("1 spec error;"), "{}", out.stderr);
}

#[test]
fn a_bad_allow_pattern_of_a_step_is_reported_where_it_is_written() {
    // The second pattern of the list is the bad one: the caret is under it, not the list.
    let out = refused(&with_steps("  { expect_no_console_errors = true, allow = [\"fine\", \"boom(\"] },"));
    assert_says(
        &out,
        "7:56: error: bad allow pattern \"boom(\": unclosed group",
        "an allow pattern is a regular expression",
    );
    let out = refused(&with_steps("  { expect_no_failed_requests = true, allow = 404 },"));
    assert_says(&out, "7:47: error: `allow` expects a pattern or a list of patterns", "an allow pattern");
    let out = refused(&with_steps("  { expect_no_failed_requests = \"yes\" },"));
    assert_says(
        &out,
        "7:33: error: `expect_no_failed_requests` expects true",
        "e.g. { expect_no_failed_requests = true",
    );
}

#[test]
fn the_suite_signals_setting_is_checked_where_it_is_written() {
    let text = format!(
        "[suite]\nsignals = {{ console_errors = \"fial\", allow = [\"[a-\"] }}\n\n{}",
        with_steps("  { visit = \"/\" },")
    );
    let out = refused(&text);
    assert_says(
        &out,
        "2:30: error: unknown signals setting \"fial\", expected \"fail\" or \"ignore\"",
        "each of console_errors",
    );
    assert_says(&out, "2:47: error: bad allow pattern \"[a-\"", "an allow pattern is a regular expression");
    let out = refused(&format!(
        "[suite]\nsignals = {{ console_error = \"fail\" }}\n\n{}",
        with_steps("  { visit = \"/\" },")
    ));
    assert!(out.stderr.contains("spec.toml:2:13: error: unknown field `console_error`"), "{}", out.stderr);
}
