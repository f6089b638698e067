//! The built-in suite against the embedded superlists app, through the real binary,
//! real chromedriver and headless Chromium (its headless shell, the default, and the full
//! browser); reports read back by independent parsers.

use crate::common;

use common::*;

#[test]
fn the_built_in_suite_passes_against_the_embedded_app_with_one_worker() {
    let (out, dir) = ft_in_empty_dir(&[]);
    assert_suite_passed(&out, dir.path(), "chrome-headless-shell");
    assert!(out.stdout.contains("from the built-in superlists suite"), "{}", out.stdout);
    assert!(!dir.path().join("reports/artifacts").exists(), "no evidence for a green run");
}

#[test]
fn the_built_in_suite_passes_with_two_workers_of_the_full_chromium() {
    let (out, dir) = ft_in_empty_dir(&["run", "--workers", "2", "--browser-binary", "chromium"]);
    assert_suite_passed(&out, dir.path(), "chrome");
    assert!(out.stdout.contains("2 workers"), "{}", out.stdout);
}

#[test]
fn the_built_in_suite_passes_with_a_fresh_browser_per_scenario() {
    // Two scenarios: the second one's browser is the first new one (each costs a start).
    let (out, dir) = ft_in_empty_dir(&["--fresh-session", "--tag", "smoke"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let junit = read_junit(&dir.path().join("reports/junit.xml"));
    assert_eq!(junit.tests, 2, "only the smoke scenarios were selected");
    assert_eq!(junit.property("sessions"), Some("fresh"));
}

#[test]
fn a_green_run_writes_a_run_record_that_says_so() {
    let (out, dir) = ft_in_empty_dir(&["--filter", "layout"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let rec = read_json(&dir.path().join("reports/run.json"));
    assert_eq!(rec["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(rec["predicateType"], "https://in-toto.io/attestation/test-result/v0.1");
    assert_eq!(rec["predicate"]["result"], "PASSED");
    assert_eq!(rec["predicate"]["passedTests"], serde_json::json!(["layout and styling"]));
    assert_eq!(rec["predicate"]["ft.run/v1"]["complete"], true);
    assert_eq!(rec["predicate"]["ft.run/v1"]["passed"], 1);
    let digest = rec["predicate"]["configuration"][0]["digest"]["sha256"].as_str().unwrap_or("");
    assert_eq!(digest.len(), 64, "a sha256 of the specs: {rec}");
}

#[test]
fn a_running_remote_end_can_be_used_instead_of_starting_a_driver() {
    let (driver, base) = chromedriver(&["--url-base=/wd/hub".to_string()]);
    // A bogus --driver proves ft starts no driver of its own with --webdriver. The path
    // (as Selenium 3 hubs and cloud grids have) must be kept, not replaced by `session`.
    let url = format!("{base}/wd/hub");
    let (out, dir) =
        ft_in_empty_dir(&["--webdriver", &url, "--driver", "/nonexistent/chromedriver", "--filter", "layout"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let junit = read_junit(&dir.path().join("reports/junit.xml"));
    assert_eq!((junit.tests, junit.failures), (1, 0));
    drop(driver);
}
