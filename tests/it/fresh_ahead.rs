//! Issue 22: with `--fresh-session`, a worker starts the next attempt's browser while the
//! current attempt runs (one ahead), so the next attempt takes a browser that is already
//! up; the spare is ended with the run, on Ctrl-C and when ft is killed.

use crate::common;
use crate::orphans::sigkill_mid_run_with_leaves_nothing;

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;

/// The browser sessions `ft` (pid) runs now, each known by a process that lives as long
/// as it (ft → guard → driver → browser): for chromedriver, which serves every session,
/// each browser it started; for geckodriver, one per session, the driver itself (Firefox
/// may restart itself under a new pid while it starts with a new profile).
fn sessions_of(ft: u32, driver: &str) -> BTreeSet<u32> {
    let comm = |pid: u32| std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    let drivers = children_of(ft).into_iter().flat_map(children_of).filter(|&pid| comm(pid).trim() == driver);
    let live = |pid: &u32| alive(*pid);
    match driver {
        "geckodriver" => drivers.filter(live).collect(),
        _ => drivers.flat_map(children_of).filter(live).collect(),
    }
}

/// One scenario that fails (its error never clears) with one retry, fresh sessions, one
/// worker: while the first attempt waits, a second browser is already running; the retry
/// runs in that very browser. Ctrl-C then ends the run, and no driver or browser is left.
fn a_retry_runs_in_the_browser_started_while_the_first_attempt_ran(browser: &str, driver: &str) {
    let served = Served::start(&["error-not-cleared"]);
    let args = ["--browser", browser, "--liveserver", &served.url, "--filter", "cleared"];
    let mut ft = Running::start(
        &[&args[..], &["--fresh-session", "--workers", "1", "--retries", "1", "--max-wait", "15"]].concat(),
    );
    ft.wait_for_line("browser:");
    let header = ft.seen.join("\n");
    assert!(header.contains("1 worker, fresh sessions (the next one started ahead)"), "{header}");
    let mut first = BTreeSet::new();
    eventually("the next attempt's browser to start beside the first attempt", Duration::from_secs(60), || {
        first = sessions_of(ft.child.id(), driver);
        first.len() == 2
    });
    let mut procs = ft.drivers_and_browsers();
    ft.wait_for_line("RETRY");
    let mut now = BTreeSet::new();
    eventually("the first attempt's browser to be gone", Duration::from_secs(30), || {
        now = sessions_of(ft.child.id(), driver);
        now.len() == 1
    });
    assert!(
        now.is_subset(&first),
        "the retry runs in a browser started during the first attempt: {first:?} then {now:?}"
    );
    procs.extend(ft.drivers_and_browsers());
    let (code, _) = interrupt_until_exit(&mut ft.child, Duration::from_secs(60));
    assert_eq!(code, Some(130));
    eventually("drivers and browsers to be gone", Duration::from_secs(10), || procs.iter().all(|p| !alive(*p)));
}

#[test]
fn with_fresh_chromium_sessions_a_retry_runs_in_the_browser_started_while_the_first_attempt_ran() {
    a_retry_runs_in_the_browser_started_while_the_first_attempt_ran("chrome", "chromedriver");
}

#[test]
fn with_fresh_firefox_sessions_a_retry_runs_in_the_browser_started_while_the_first_attempt_ran() {
    a_retry_runs_in_the_browser_started_while_the_first_attempt_ran("firefox", "geckodriver");
}

#[test]
fn kill_9_of_ft_with_fresh_firefox_sessions_started_ahead_leaves_no_driver_or_browser() {
    // Two workers, each with its browser and the next one starting: three geckodrivers
    // or more (one per Firefox session) when ft is killed. It is also orphans::'s Firefox
    // case (two workers killed mid-run), with more of ft's processes to leave behind.
    sigkill_mid_run_with_leaves_nothing("firefox", "geckodriver", false, &["--fresh-session"], 3);
}
