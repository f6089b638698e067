//! The strongest test of a functional-test runner: it catches real bugs. Each target
//! below is the embedded app with one deliberate defect; the built-in suite must fail
//! exactly the scenarios that defect breaks, with a message that points at the bug.

use crate::common;

use common::*;

struct Verdict {
    out: Output,
    junit: Junit,
    dir: tempfile::TempDir,
}

fn run_against(served: &Served, extra: &[&str]) -> Verdict {
    let dir = tempfile::tempdir().expect("tempdir");
    // The failing scenarios wait out --max-wait: a look every 100 ms, not 25, costs the
    // browser less CPU while they wait, and what a failure says does not depend on it.
    let mut args = vec!["--liveserver", served.url.as_str(), "--max-wait", "4", "--poll", "100"];
    args.extend_from_slice(extra);
    let out = ft_in(dir.path(), &args);
    let junit = read_junit(&dir.path().join("reports/junit.xml"));
    Verdict { out, junit, dir }
}

/// Run the whole suite against a target with `defect` and check which scenarios fail.
fn assert_catches(defect: &str, failing: &[&str], last_seen: &str) {
    let served = Served::start(&[defect]);
    let v = run_against(&served, &[]);
    assert_fails_exactly(&v.out, v.dir.path(), failing, last_seen);
}

#[test]
fn accepting_empty_items_fails_only_the_empty_item_scenarios() {
    // Neither the browser (no `required`) nor the server stops a blank item.
    let served = Served::start(&["accept-empty"]);
    let v = run_against(&served, &[]);
    let browser = "cannot add empty list items";
    let server = "the server itself refuses empty list items";
    assert_fails_exactly(&v.out, v.dir.path(), &[browser, server], "no element matches @");
    let case = v.junit.case(browser);
    assert!(case.body.contains("no element matches @item_input_invalid (#id_text:invalid)"), "{}", case.body);
    let case = v.junit.case(server);
    assert!(case.body.contains("no element matches @error (.invalid-feedback)"), "{}", case.body);
}

/// Beyond the book: a page that keeps `required` while its server saves blank items
/// passes the book's own empty-item test (the browser refuses the item); only asking
/// the server itself (`submit_novalidate`) catches it.
#[test]
fn a_server_that_saves_blank_items_behind_required_fails_only_the_server_validation_scenario() {
    let served = Served::start(&["server-saves-empty"]);
    let v = run_against(&served, &[]);
    let name = "the server itself refuses empty list items";
    assert_fails_exactly(&v.out, v.dir.path(), &[name], "no element matches @error (.invalid-feedback)");
    let case = v.junit.case(name);
    // The failing step is the server's answer to the blank home-page item: a new list.
    assert!(case.message.contains("expect the text of @error (.invalid-feedback) to equal"), "{}", case.message);
    assert!(case.body.contains("/lists/"), "the blank item started a list: {}", case.body);
    // The faithful app passes the same scenario.
    let faithful = Served::start(&[]);
    let v = run_against(&faithful, &["--filter", "server itself"]);
    assert_eq!(v.out.code, 0, "{}", v.out.all());
    assert_eq!(v.junit.tests, 1);
}

#[test]
fn accepting_duplicates_fails_the_duplicate_and_error_clearing_scenarios() {
    // The error-clearing scenario provokes its error with a duplicate, so it breaks too.
    assert_catches(
        "accept-duplicates",
        &["cannot add duplicate items", "error messages are cleared on input"],
        "no element matches @error (.invalid-feedback)",
    );
}

#[test]
fn an_error_that_stays_after_typing_fails_only_the_clearing_scenario() {
    assert_catches(
        "error-not-cleared",
        &["error messages are cleared on input"],
        "is still visible, showing \"You've already got this in your list\"",
    );
}

#[test]
fn an_off_centre_input_fails_only_the_layout_scenario() {
    assert_catches("off-centre", &["layout and styling"], "px off");
}

#[test]
fn a_title_without_to_do_fails_only_the_first_scenario() {
    assert_catches("wrong-title", &["can start a to-do list"], "the title was \"Superlists\"");
}

#[test]
fn one_list_for_everybody_fails_the_multiple_users_scenario() {
    // Every visitor shares one list, so scenarios also see each other's rows; each is
    // judged on a fresh target of its own.
    let served = Served::start(&["shared-list"]);
    let v = run_against(&served, &["--filter", "multiple users"]);
    assert_eq!(v.out.code, 1, "{}", v.out.all());
    assert_eq!(v.junit.failed_names(), vec!["multiple users can start lists at different urls".to_string()]);
    let case = v.junit.case("multiple users can start lists at different urls");
    assert!(case.body.contains("the rows were [\"1: Buy peacock feathers\", \"2: Buy milk\"]"), "{}", case.body);

    let served = Served::start(&["shared-list"]);
    let v = run_against(&served, &["--filter", "can start a to-do list"]);
    assert_eq!(v.out.code, 0, "one visitor alone cannot see the defect\n{}", v.out.all());
}

/// A page script that throws changes nothing a visitor sees: every expectation holds, and
/// only the browser's signals (the built-in suite's `[suite] signals` check) catch it, on
/// Chromium and on Firefox. With signals off the same suite passes, which shows that
/// nothing else would have.
#[test]
fn a_page_script_that_throws_fails_every_scenario_through_the_signals_alone() {
    let served = Served::start(&["script-error"]);
    for browser in ["chrome", "firefox"] {
        let v = run_against(&served, &["--browser", browser]);
        assert_fails_exactly(&v.out, v.dir.path(), &LIST_SCENARIOS, " uncaught exception");
        let case = v.junit.case(LIST_SCENARIOS[0]);
        assert!(case.message.contains("[suite] signals"), "{browser}: {}", case.message);
        assert!(case.body.contains("TypeError"), "{browser}: the exception's text: {}", case.body);
    }
    let v = run_against(&served, &["--no-signals"]);
    assert_eq!(v.out.code, 0, "nothing but the signals catches it\n{}", v.out.all());
}
