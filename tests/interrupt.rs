//! Ctrl-C and SIGTERM: ft stops scheduling, writes complete reports with the unfinished
//! scenarios marked as not run, exits 130 / 143, and leaves no driver or browser behind.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use common::*;

#[test]
fn a_second_ctrl_c_stops_at_once_and_still_leaves_a_valid_report() {
    // This scenario waits for an error to vanish that never does: it is mid-wait when
    // the signals arrive.
    let served = Served::start(&["error-not-cleared"]);
    let mut ft = Running::start(&["--liveserver", &served.url, "--filter", "cleared", "--max-wait", "120"]);
    ft.wait_for_line("browser:");
    let procs = ft.drivers_and_browsers();
    assert!(procs.len() >= 2, "a driver and a browser are running: {procs:?}");
    ft.signal(libc::SIGINT);
    ft.signal(libc::SIGINT);
    assert_eq!(ft.wait(), 130);
    let junit = read_junit(&ft.dir.path().join("reports/junit.xml"));
    assert_eq!(junit.tests, 1);
    // Issue 10: the scenario cut short is an error, so no parser reads the run as passed.
    let case = junit.case("error messages are cleared on input");
    assert_eq!((case.status.as_str(), case.kind.as_str()), ("error", "interrupted"), "{case:?}");
    assert!(case.message.contains("interrupted while running"), "{case:?}");
    assert!(junit.errors > 0);
    assert_eq!(junit.property("interrupted"), Some("true"));
    let rec = read_json(&ft.dir.path().join("reports/run.json"));
    assert_eq!(rec["predicate"]["result"], "FAILED");
    assert_eq!(rec["predicate"]["ft.run/v1"]["complete"], false);
    eventually("driver and browsers to be gone", Duration::from_secs(10), || procs.iter().all(|p| !alive(*p)));
}

#[test]
fn sigterm_lets_the_running_scenario_finish_and_marks_the_rest_not_run() {
    let mut ft = Running::start(&["--workers", "1"]);
    ft.wait_for_line("browser:");
    let procs = ft.drivers_and_browsers();
    ft.wait_for_line("PASS [");
    ft.signal(libc::SIGTERM);
    assert_eq!(ft.wait(), 143);
    let junit = read_junit(&ft.dir.path().join("reports/junit.xml"));
    let scenarios: Vec<&Case> = junit.cases.iter().filter(|c| c.classname != "ft").collect();
    assert_eq!(scenarios.len(), SCENARIOS.len(), "every selected scenario is in the report");
    assert_eq!(junit.failures, 0, "an interrupted run fails nothing: {:?}", junit.cases);
    // Issue 10: but it is not a success either. Nothing was cut short (SIGTERM lets the
    // running scenario finish), so one testcase stands for the interrupt.
    assert_eq!(junit.errors, 1, "{:?}", junit.cases);
    let run = junit.case("run interrupted");
    assert_eq!((run.status.as_str(), run.kind.as_str()), ("error", "interrupted"), "{run:?}");
    let passed = scenarios.iter().filter(|c| c.status == "passed").count();
    let skipped: Vec<&&Case> = scenarios.iter().filter(|c| c.status == "skipped").collect();
    assert!(passed >= 1 && !skipped.is_empty(), "{:?}", junit.cases);
    assert!(skipped.iter().all(|c| c.message.contains("interrupted")), "{skipped:?}");
    let console = ft.seen.join("\n");
    assert!(console.contains("PASS ["), "{console}");
    eventually("driver and browsers to be gone", Duration::from_secs(10), || procs.iter().all(|p| !alive(*p)));
}

#[test]
fn a_finished_run_leaves_no_driver_or_browser_behind() {
    let mut ft = Running::start(&["--workers", "2", "--tag", "validation"]);
    ft.wait_for_line("browser:");
    ft.wait_for_line("PASS [");
    let procs = ft.drivers_and_browsers();
    assert!(procs.len() >= 3, "a driver and two browsers: {procs:?}");
    assert_eq!(ft.wait(), 0, "{:?}", ft.seen);
    eventually("driver and browsers to be gone", Duration::from_secs(10), || procs.iter().all(|p| !alive(*p)));
}

#[test]
fn a_panicking_worker_is_an_error_for_its_scenario_and_leaves_no_browser() {
    // FT_TEST_PANIC_AT_VERB is a debug-build test seam: the worker panics at that step.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = KillOnDrop::new(
        ft_command(dir.path())
            .args(["--workers", "1"])
            .env("FT_TEST_PANIC_AT_VERB", "window_size")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("ft starts"),
    );
    let stdout = child.stdout.take().expect("stdout");
    let mut procs = Vec::new();
    let mut lines = Vec::new();
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        if line.contains("browser:") {
            procs.extend(drivers_and_browsers_of(child.id()));
        }
        lines.push(line);
    }
    let code = child.wait().expect("wait").code();
    assert_eq!(code, Some(3), "only an infrastructure error: {lines:?}");
    let junit = read_junit(&dir.path().join("reports/junit.xml"));
    assert_eq!((junit.tests, junit.errors, junit.failures), (7, 1, 0));
    let case = junit.case("layout and styling");
    assert_eq!(case.status, "error");
    assert!(case.message.contains("ft's worker panicked"), "{case:?}");
    assert!(procs.len() >= 2, "{procs:?}");
    eventually("driver and browsers to be gone", Duration::from_secs(10), || procs.iter().all(|p| !alive(*p)));
}

/// The chromedriver ft started (its child named chromedriver).
fn chromedriver_of(ft: u32) -> Option<u32> {
    children_of(ft)
        .into_iter()
        .find(|p| std::fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim() == "chromedriver"))
}

#[test]
fn a_driver_killed_mid_run_is_replaced_and_the_run_goes_on_with_a_complete_report() {
    let mut ft = Running::start(&["--workers", "1"]);
    ft.wait_for_line("browser:");
    let first = chromedriver_of(ft.child.id()).expect("ft started chromedriver");
    let mut procs = ft.drivers_and_browsers();
    ft.wait_for_line("PASS [");
    // The driver alone, not its group: the browser is orphaned the way a crashing driver
    // would leave it.
    signal(first, libc::SIGKILL).expect("the driver can be killed");
    let mut second = None;
    eventually("a new chromedriver", Duration::from_secs(30), || {
        second = chromedriver_of(ft.child.id()).filter(|p| *p != first);
        second.is_some() || ft.child.try_wait().ok().flatten().is_some()
    });
    if let Some(p) = second {
        procs.push(p);
        procs.extend(group_members(p));
    }
    let code = ft.wait();
    let junit = read_junit(&ft.dir.path().join("reports/junit.xml"));
    assert_eq!(junit.tests, 7, "every scenario is in the report: {:?}", ft.seen);
    assert_eq!(junit.failures, 0, "a dead driver is not the app's fault: {:?}", junit.cases);
    assert!(junit.errors <= 1, "at most the scenario running at the kill is an error: {:?}", junit.cases);
    assert_eq!(junit.cases.iter().filter(|c| c.status == "passed").count(), 7 - junit.errors);
    assert_eq!(code, if junit.errors == 0 { 0 } else { 3 });
    assert!(second.is_some(), "ft started a second chromedriver");
    eventually("old and new drivers and browsers to be gone", Duration::from_secs(15), || {
        procs.iter().all(|p| !alive(*p))
    });
}
