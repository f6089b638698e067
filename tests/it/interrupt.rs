//! Ctrl-C and SIGTERM: ft stops scheduling, writes complete reports with the unfinished
//! scenarios marked as not run, exits 130 / 143, and leaves no driver or browser behind.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use common::repo::Repo;
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
    let (code, _) = interrupt_until_exit(&mut ft.child, Duration::from_secs(60));
    assert_eq!(code, Some(130));
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
    // The four short validation scenarios: the one running when SIGTERM comes must finish
    // within its 10 s of grace on a loaded machine (a login scenario did not, at load 30,
    // and was rightly cut short).
    let mut ft = Running::start(&["--workers", "1", "--tag", "validation"]);
    ft.wait_for_line("browser:");
    let procs = ft.drivers_and_browsers();
    ft.wait_for_line("PASS [");
    ft.signal(libc::SIGTERM);
    assert_eq!(ft.wait(), 143);
    let junit = read_junit(&ft.dir.path().join("reports/junit.xml"));
    let scenarios: Vec<&Case> = junit.cases.iter().filter(|c| c.classname != "ft").collect();
    assert_eq!(scenarios.len(), 4, "every selected scenario is in the report: {:?}", junit.cases);
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
    assert_eq!((junit.tests, junit.errors, junit.failures), (SCENARIOS.len(), 1, 0));
    let case = junit.case("layout and styling");
    assert_eq!(case.status, "error");
    assert!(case.message.contains("ft's worker panicked"), "{case:?}");
    assert!(procs.len() >= 2, "{procs:?}");
    eventually("driver and browsers to be gone", Duration::from_secs(10), || procs.iter().all(|p| !alive(*p)));
}

/// The chromedriver ft started, with its guard (ft's child, the driver's parent, the
/// leader of the process group the driver and its browsers run in).
fn chromedriver_of(ft: u32) -> Option<(u32, u32)> {
    children_of(ft).into_iter().find_map(|guard| {
        children_of(guard)
            .into_iter()
            .find(|p| std::fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim() == "chromedriver"))
            .map(|driver| (driver, guard))
    })
}

#[test]
fn a_driver_killed_mid_run_is_replaced_and_the_run_goes_on_with_a_complete_report() {
    let mut ft = Running::start(&["--workers", "1"]);
    ft.wait_for_line("browser:");
    let (first, _) = chromedriver_of(ft.child.id()).expect("ft started chromedriver");
    let mut procs = ft.drivers_and_browsers();
    ft.wait_for_line("PASS [");
    // The driver alone, not its group: the browser is orphaned the way a crashing driver
    // would leave it.
    signal(first, libc::SIGKILL).expect("the driver can be killed");
    let mut second = None;
    eventually("a new chromedriver", Duration::from_secs(30), || {
        second = chromedriver_of(ft.child.id()).filter(|(p, _)| *p != first);
        second.is_some() || ft.child.try_wait().ok().flatten().is_some()
    });
    if let Some((_, guard)) = second {
        procs.extend(group_members(guard));
    }
    let code = ft.wait();
    let junit = read_junit(&ft.dir.path().join("reports/junit.xml"));
    assert_eq!(junit.tests, SCENARIOS.len(), "every scenario is in the report: {:?}", ft.seen);
    assert_eq!(junit.failures, 0, "a dead driver is not the app's fault: {:?}", junit.cases);
    assert!(junit.errors <= 1, "at most the scenario running at the kill is an error: {:?}", junit.cases);
    assert_eq!(junit.cases.iter().filter(|c| c.status == "passed").count(), SCENARIOS.len() - junit.errors);
    assert_eq!(code, if junit.errors == 0 { 0 } else { 3 });
    assert!(second.is_some(), "ft started a second chromedriver");
    eventually("old and new drivers and browsers to be gone", Duration::from_secs(15), || {
        procs.iter().all(|p| !alive(*p))
    });
}

/// Live processes under `pid` (children, their children, ...), from the process table.
fn descendants_of(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let mut next = vec![pid];
    while let Some(p) = next.pop() {
        for child in children_of(p) {
            if alive(child) {
                found.push(child);
            }
            next.push(child);
        }
    }
    found
}

fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default().trim().to_string()
}

/// Kills `pids` when dropped (processes a failing test would otherwise leave running).
struct KillPids(Vec<u32>);

impl Drop for KillPids {
    fn drop(&mut self) {
        for pid in &self.0 {
            if alive(*pid) {
                let _ = signal(*pid, libc::SIGKILL);
            }
        }
    }
}

/// Issue 13: a second Ctrl-C during a deploy command used to wait for it (up to
/// `--command-timeout`, 30 minutes), and its process group never saw a Ctrl-C. The first
/// lets it finish (a deploy cut off half-way is worse); the second ends its group.
#[test]
fn a_second_ctrl_c_during_a_deploy_command_ends_its_process_group_at_once() {
    let dir = Repo::new();
    let (staging, live) = (format!("127.0.0.1:{}", free_port()), format!("127.0.0.1:{}", free_port()));
    let mut ft = KillOnDrop::new(
        ft_command(dir.path())
            .args(["deploy", "--staging", &staging, "--live", &live, "--staging-deploy", "--deploy-cmd", "sleep 60"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("ft starts"),
    );
    let lines = lines_of(&mut ft);
    let mut sleep = None;
    eventually("the deploy command to run", Duration::from_secs(30), || {
        sleep = descendants_of(ft.id()).into_iter().find(|p| comm(*p) == "sleep");
        sleep.is_some()
    });
    let sleep = sleep.expect("the sleep");
    let _cleanup = KillPids(vec![sleep]);
    signal(ft.id(), libc::SIGINT).expect("signal");
    let said = wait_for(&lines, "interrupt again to stop it now");
    assert!(alive(sleep), "the first Ctrl-C lets the command go on: {said:?}");
    let second = std::time::Instant::now();
    signal(ft.id(), libc::SIGINT).expect("signal");
    let mut code = None;
    eventually("ft to exit", Duration::from_secs(15), || {
        code = ft.try_wait().expect("try_wait").map(|s| s.code());
        code.is_some()
    });
    assert!(second.elapsed() < Duration::from_secs(10), "returned within a few seconds: {:?}", second.elapsed());
    assert_eq!(code, Some(Some(130)));
    assert!(!alive(sleep), "the command's process is gone when ft has returned");
    let said = wait_for(&lines, "NOT RELEASED");
    assert!(said.iter().any(|l| l.contains("stopped by a second interrupt")), "{said:?}");
    let log = std::fs::read_to_string(dir.path().join("reports/staging/deploy.log")).expect("the command's log");
    assert!(log.contains("stopped by a second interrupt"), "{log}");
    let history = std::fs::read_to_string(dir.path().join("reports/deploys.jsonl")).expect("the history");
    let line: serde_json::Value = serde_json::from_str(history.trim()).expect("one JSON line");
    assert_eq!(line["outcome"], "interrupted", "{line}");
}

/// Issue 13: Ctrl-Cs during a preflight against a server that accepts and never answers
/// used to wait for the preflight. The second stops it at once, before any browser.
#[test]
fn a_second_ctrl_c_during_a_preflight_against_a_silent_server_stops_at_once() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, accepted) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().map_while(Result::ok) {
            held.push(conn);
            let _ = tx.send(());
        }
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ft = KillOnDrop::new(
        ft_command(dir.path())
            .args(["--liveserver", &url, "--max-wait", "60"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ft starts"),
    );
    accepted.recv_timeout(Duration::from_secs(30)).expect("ft's preflight connects");
    let started = descendants_of(ft.id());
    let (code, took) = interrupt_until_exit(&mut ft, Duration::from_secs(60));
    assert!(took < Duration::from_secs(8), "stopped at once, not after the preflight: {took:?}");
    assert_eq!(code, Some(130));
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut ft.stderr.take().expect("stderr"), &mut stderr).expect("stderr");
    assert!(stderr.contains(&format!("stopped by a second interrupt during the preflight of {url}")), "{stderr}");
    assert!(started.iter().all(|p| !alive(*p)), "nothing left behind: {started:?}");
    assert!(!dir.path().join("reports/junit.xml").exists(), "nothing ran, so no report claims a run");
}

/// ft's stdout lines, read by a thread.
fn lines_of(ft: &mut KillOnDrop) -> std::sync::mpsc::Receiver<String> {
    let stdout = ft.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The lines read until one contains `text` (bounded).
fn wait_for(lines: &std::sync::mpsc::Receiver<String>, text: &str) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let line = lines.recv_timeout(Duration::from_secs(30)).unwrap_or_else(|_| panic!("no {text:?} in {seen:?}"));
        let done = line.contains(text);
        seen.push(line);
        if done {
            return seen;
        }
    }
}

/// Issue 13: a second Ctrl-C while a browser session is starting (here a "browser" that
/// never comes up) stops at once, and takes the half-started browser with it.
#[test]
fn a_second_ctrl_c_during_a_session_start_stops_at_once_and_leaves_no_browser() {
    let served = Served::start(&[]);
    let dir = tempfile::tempdir().expect("tempdir");
    let browser = dir.path().join("never-starts.sh");
    let started = dir.path().join("never-starts.started");
    std::fs::write(&browser, format!("#!/bin/sh\ntouch '{}'\nexec sleep 300\n", started.display())).expect("write");
    std::fs::set_permissions(&browser, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    let mut ft = KillOnDrop::new(
        ft_command(dir.path())
            .args(["--liveserver", &served.url, "--browser-binary"])
            .arg(&browser)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ft starts"),
    );
    let mut procs = Vec::new();
    eventually("the browser to be starting", Duration::from_secs(30), || {
        procs = descendants_of(ft.id());
        started.exists() && procs.iter().any(|p| comm(*p) == "sleep")
    });
    let _cleanup = KillPids(procs.clone());
    let (code, took) = interrupt_until_exit(&mut ft, Duration::from_secs(60));
    assert!(took < Duration::from_secs(10), "stopped at once: {took:?}");
    assert_eq!(code, Some(130));
    eventually("the driver and the browser to be gone", Duration::from_secs(10), || procs.iter().all(|p| !alive(*p)));
}
