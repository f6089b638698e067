//! Values in steps (`${name}`): captures set them from the page, built-ins come from the
//! run, `${env.NAME}` from the environment; secrets never reach an output; mistakes are
//! refused at load at the `${`.

use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::common;

use common::*;

/// Run `ft` on `spec` (written as spec.toml in a fresh folder) against the embedded app.
fn run(spec: &str, extra: &[&str]) -> (Output, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("spec.toml"), spec).expect("write spec");
    let mut args = vec!["--specs", "spec.toml", "--max-wait", "5"];
    args.extend(extra);
    (ft_in(dir.path(), &args), dir)
}

const SELECTORS: &str = "[selectors]\nitem_input = \"#id_text\"\nlist_table = \"#id_list_table\"\n\n";

fn scenario(steps: &str) -> String {
    format!("{SELECTORS}[[scenario]]\nname = \"values\"\nsteps = [\n{steps}\n]\n")
}

/// Refused before any browser starts, with exit 2.
fn refused(steps: &str) -> Output {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("spec.toml"), scenario(steps)).expect("write spec");
    let out = ft_in(dir.path(), &["--specs", "spec.toml", "--driver", "/nonexistent/chromedriver"]);
    assert_eq!(out.code, 2, "{}", out.all());
    out
}

#[test]
fn a_captured_url_an_attribute_and_a_count_are_used_by_later_steps() {
    let (out, _dir) = run(
        &scenario(
            r##"  { visit = "/" },
  { capture = "rows", count_of = "#id_list_table tr" },
  { capture = "hint", attribute = "placeholder", of = "@item_input" },
  { type = "${hint} ${rows + 1}", into = "@item_input" },
  { press = "Enter", on = "@item_input" },
  { expect_row = "1: Enter a to-do item 1" },
  { capture = "list", from = "url", regex = "^https?://[^/]+(/lists/[0-9]+/)$" },
  { capture = "first", text_of = "#id_list_table tr", regex = "^1: (.*)$" },
  { visit = "/" },
  { expect_no_text = "${first}" },
  { visit = "${list}" },
  { expect_row = "1: ${first}" },
  { type = "$${not a value}", into = "@item_input" },
  { press = "Enter", on = "@item_input" },
  { expect_row = "2: $${not a value}" },"##,
        ),
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
}

#[test]
fn a_capture_that_never_finds_its_element_fails_saying_what_it_saw() {
    let (out, _dir) = run(
        &scenario(
            r##"  { visit = "/" },
  { capture = "owner", text_of = "#id_list_owner" },
  { expect_page_text = "${owner}" },"##,
        ),
        &[],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("capture \"owner\" from the text of #id_list_owner"), "{}", out.all());
    assert!(out.stdout.contains("no element matches #id_list_owner"), "{}", out.all());
}

#[test]
fn a_regex_that_never_matches_keeps_the_capture_waiting_then_fails() {
    let (out, _dir) = run(
        &scenario(
            r##"  { visit = "/" },
  { capture = "n", from = "url", regex = "/lists/([0-9]+)/" },
  { expect_page_text = "${n}" },"##,
        ),
        &[],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("does not match /\\/lists\\/([0-9]+)\\//") || out.stdout.contains("does not match"),
        "{}",
        out.all()
    );
}

#[test]
fn a_missing_environment_variable_fails_the_step_naming_it() {
    let (out, _dir) = run(
        &scenario(
            r##"  { visit = "/" },
  { type = "${env.FT_TEST_SURELY_UNSET}", into = "@item_input" },
  { expect_row = "1: x" },"##,
        ),
        &[],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("the environment variable FT_TEST_SURELY_UNSET is not set"), "{}", out.all());
}

/// Every file written under `dir` (recursively), as bytes, with its path.
fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries.flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else if let Ok(bytes) = std::fs::read(&p) {
            out.push((p.display().to_string(), bytes));
        }
    }
    out
}

#[test]
fn secrets_appear_in_no_output_and_no_report_file() {
    let secret = "hunter2-s3cr3t-9f8e";
    let captured = "Buy milk with the captured secret";
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("spec.toml"),
        scenario(&format!(
            r##"  {{ visit = "/" }},
  {{ type = "${{env.FT_TEST_SECRET}}", into = "@item_input" }},
  {{ press = "Enter", on = "@item_input" }},
  {{ capture = "key", text_of = "#id_list_table tr", regex = "^1: (.*)$", secret = true }},
  {{ type = "{captured}", into = "@item_input" }},
  {{ press = "Enter", on = "@item_input" }},
  {{ capture = "item", text_of = "#id_list_table tr:nth-child(2)", regex = "^2: (.*)$", secret = true }},
  {{ expect_text = "${{key}} and ${{item}}", in = "#id_list_table tr" }},"##
        )),
    )
    .expect("write spec");
    let out = output(
        ft_command(dir.path())
            .env("FT_TEST_SECRET", secret)
            .args(["--specs", "spec.toml", "--max-wait", "3", "--retries", "1", "--allure", "allure-results"])
            .args(["--message-format", "json"]),
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.all().contains("[secret]"), "the secret is shown as [secret]:\n{}", out.all());
    for needle in [secret, captured] {
        assert!(!out.stdout.contains(needle) && !out.stderr.contains(needle), "{needle} printed:\n{}", out.all());
        let files = files_under(&dir.path().join("reports"))
            .into_iter()
            .chain(files_under(&dir.path().join("allure-results")))
            .collect::<Vec<_>>();
        assert!(files.iter().any(|(p, _)| p.ends_with("run.json")), "reports were written");
        for (path, bytes) in files {
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains(needle), "{needle} is in {path}");
        }
    }
}

/// A server that refuses a name it has seen, as a real app refuses to add the same user
/// twice; its first registration ever is saved but answered with an error page, so the
/// scenario's first attempt fails after the data exists.
fn registration_server() -> String {
    let seen: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    loopback::serve(move |request, stream| {
        let form = "<form method=post action=/register><input id=name name=name><button>Go</button></form>";
        if request.line.starts_with("POST /register") {
            let body = String::from_utf8_lossy(&request.body).to_string();
            let name = body.strip_prefix("name=").unwrap_or("").to_string();
            let mut seen = seen.lock().expect("lock");
            let page = if seen.contains(&name) {
                format!("<title>taken</title><p>{name} is already taken</p>")
            } else if seen.is_empty() {
                seen.push(name.clone());
                "<title>oops</title><p>Something went wrong, try again</p>".to_string()
            } else {
                seen.push(name.clone());
                format!("<title>welcome</title><p id=welcome>Welcome {name}</p>")
            };
            loopback::respond(stream, "200 OK", &page);
        } else {
            loopback::respond(stream, "200 OK", &format!("<title>register</title>{form}"));
        }
    })
}

fn register(name: &str) -> String {
    format!(
        r##"[[scenario]]
name = "a new user registers"
steps = [
  {{ visit = "/" }},
  {{ type = "{name}", into = "#name" }},
  {{ press = "Enter", on = "#name" }},
  {{ expect_text_contains = "Welcome", in = "p" }},
]
"##
    )
}

#[test]
fn a_retry_gets_a_new_unique_token_so_a_server_refusing_duplicates_lets_it_pass() {
    let url = registration_server();
    let (out, dir) = run(&register("edith-${unique}"), &["--liveserver", &url, "--retries", "1"]);
    assert_eq!(out.code, 0, "the retry registers a new name:\n{}", out.all());
    let junit = read_junit(&dir.path().join("reports/junit.xml"));
    assert_eq!(junit.case("a new user registers").flaky.len(), 1, "passed on its retry: flaky");
}

#[test]
fn a_retry_with_a_fixed_name_meets_its_first_attempts_data() {
    let url = registration_server();
    let (out, _dir) = run(&register("edith"), &["--liveserver", &url, "--retries", "1"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("already taken"), "{}", out.all());
}

#[test]
fn built_ins_name_the_run_the_scenario_and_the_attempt() {
    let (out, _dir) = run(
        &scenario(
            r##"  { visit = "/" },
  { type = "${run.id}/${scenario.id}/${attempt}/${unique}", into = "@item_input" },
  { press = "Enter", on = "@item_input" },
  { capture = "row", text_of = "#id_list_table tr" },
  { expect_row = "1: ${run.id}/${scenario.id}/1/${unique}" },"##,
        ),
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
}

#[test]
fn a_value_used_before_any_step_sets_it_is_refused_at_its_dollar() {
    let out = refused("  { visit = \"/\" },\n  { type = \"item ${rows}\", into = \"@item_input\" },\n  { capture = \"rows\", count_of = \"tr\" },\n  { expect_row = \"1: ${rows + 1}\" },");
    assert!(out.stderr.contains("spec.toml:9:18: error: `${rows}` is used before any step sets it"), "{}", out.stderr);
    assert!(!out.stderr.contains(":11:"), "used after its capture: fine\n{}", out.stderr);
}

#[test]
fn an_unknown_built_in_is_refused_with_the_closest() {
    let out = refused(
        "  { visit = \"/\" },\n  { type = \"${run.idd}\", into = \"@item_input\" },\n  { expect_row = \"1: x\" },",
    );
    assert!(out.stderr.contains("spec.toml:9:13: error: unknown built-in value `${run.idd}`"), "{}", out.stderr);
    assert!(out.stderr.contains("did you mean `${run.id}`?"), "{}", out.stderr);
}

#[test]
fn bad_value_syntax_is_refused_at_the_dollar() {
    let out = refused("  { visit = \"/\" },\n  { type = \"a ${rows + x}\", into = \"@item_input\" },\n  { expect_title = \"b ${oops\" },");
    assert!(
        out.stderr.contains("spec.toml:9:15: error: `${rows + x}` adds \"x\", which is not a whole number"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("spec.toml:10:23: error: `${` is not closed by `}`"), "{}", out.stderr);
}

#[test]
fn a_key_or_a_pattern_cannot_hold_a_value_set_at_run_time() {
    let out = refused("  { visit = \"/\" },\n  { capture = \"k\", from = \"url\" },\n  { press = \"${k}\", on = \"@item_input\" },\n  { expect_url = \"${k}\" },");
    assert!(out.stderr.contains("spec.toml:10:13: error: `press` cannot use a value here"), "{}", out.stderr);
    assert!(out.stderr.contains("spec.toml:11:18: error: `expect_url` cannot use a value here"), "{}", out.stderr);
}

#[test]
fn a_capture_needs_one_source_and_a_plain_name() {
    let out = refused("  { capture = \"rows\" },\n  { capture = \"a.b\", from = \"url\" },\n  { capture = \"unique\", from = \"url\" },\n  { capture = \"x\", from = \"title\" },\n  { expect_title = \"x\" },");
    assert!(out.stderr.contains("spec.toml:8:5: error: `capture` needs one of"), "{}", out.stderr);
    assert!(out.stderr.contains("spec.toml:9:15: error: \"a.b\" is not a value's name"), "{}", out.stderr);
    assert!(out.stderr.contains("spec.toml:10:15: error: `unique` is a built-in value"), "{}", out.stderr);
    assert!(out.stderr.contains("spec.toml:11:27: error: `capture` reads `from = \"url\"` only"), "{}", out.stderr);
}
