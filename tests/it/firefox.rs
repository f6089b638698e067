//! `--browser firefox`: the built-in suite through real geckodriver and headless Firefox
//! (Debian's firefox-esr), a deliberate defect caught on Firefox too, and a missing
//! driver or browser named with the command that installs it.

use crate::common;

use std::time::Duration;

use common::*;

#[test]
fn the_built_in_suite_passes_on_firefox() {
    let (out, dir) = ft_in_empty_dir(&["--browser", "firefox", "--workers", "1"]);
    assert_suite_passed(&out, dir.path(), "firefox");
}

#[test]
fn an_error_that_stays_after_typing_fails_only_the_clearing_scenario_on_firefox() {
    let served = Served::start(&["error-not-cleared"]);
    let (out, dir) = ft_in_empty_dir(&["--browser", "firefox", "--liveserver", &served.url, "--max-wait", "4"]);
    assert_fails_exactly(
        &out,
        dir.path(),
        &["error messages are cleared on input"],
        "is still visible, showing \"You've already got this in your list\"",
    );
}

#[test]
fn a_missing_geckodriver_names_the_install_command_and_exits_3() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = ft_in(dir.path(), &["--browser", "firefox", "--driver", "/nonexistent/geckodriver"]);
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(
        out.stderr.contains("failed to find geckodriver (looked for --driver /nonexistent/geckodriver)"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("cargo install geckodriver --locked"), "{}", out.stderr);
}

#[test]
fn geckodriver_neither_on_path_nor_in_cargo_bin_names_both_places() {
    // A PATH with the browser but no geckodriver, and a HOME without ~/.cargo/bin.
    let dir = tempfile::tempdir().expect("tempdir");
    let out = output(
        ft_command(dir.path())
            .args(["--browser", "firefox"])
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", dir.path())
            .env_remove("CARGO_HOME"),
    );
    let stderr = out.stderr.as_str();
    assert_eq!(out.code, 3, "{stderr}");
    let cargo_bin = dir.path().join(".cargo/bin/geckodriver");
    assert!(
        stderr.contains(&format!(
            "failed to find geckodriver (looked for geckodriver on PATH and {})",
            cargo_bin.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("cargo install geckodriver --locked"), "{stderr}");
}

#[test]
fn a_missing_firefox_names_the_install_command_and_exits_3() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = ft_in(dir.path(), &["--browser", "firefox", "--browser-binary", "/nonexistent/firefox"]);
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(out.stderr.contains("failed to find a Firefox browser (looked for --browser-binary /nonexistent/firefox)"));
    assert!(out.stderr.contains("apt-get install -y firefox-esr"), "{}", out.stderr);
}

/// Each Firefox session has its own geckodriver (it serves one session at a time); a
/// second Ctrl-C mid-wait must still take every geckodriver and Firefox with it.
#[test]
fn a_second_ctrl_c_leaves_no_geckodriver_or_firefox_behind() {
    let served = Served::start(&["error-not-cleared"]);
    let mut ft =
        Running::start(&["--browser", "firefox", "--workers", "2", "--liveserver", &served.url, "--max-wait", "120"]);
    // The first result means both sessions were asked for; the clearing scenario then
    // waits (up to 120 s) for an error that never goes away.
    ft.wait_for_line("PASS [");
    let mut procs = Vec::new();
    eventually("two geckodrivers, each with a Firefox", Duration::from_secs(60), || {
        procs = children_of(ft.child.id()).into_iter().flat_map(group_members).collect();
        children_of(ft.child.id()).len() >= 2 && procs.len() >= 4
    });
    // A second Ctrl-C stops at once, Firefox's sessions included (issue 10).
    let (code, took) = interrupt_until_exit(&mut ft.child, Duration::from_secs(60));
    assert_eq!(code, Some(130), "{:?}", ft.seen);
    assert!(took < Duration::from_secs(20), "stopped at once, not after the 120 s wait: {took:?}");
    let junit = read_junit(&ft.dir.path().join("reports/junit.xml"));
    // Besides the scenarios, JUnit may hold ft's own "run interrupted" testcase (classname
    // `ft`) when no scenario was cut short.
    let scenarios = junit.cases.iter().filter(|c| c.classname != "ft").count();
    assert_eq!(scenarios, LIST_SCENARIOS.len(), "a complete report after the interrupt: {:?}", junit.cases);
    assert!(junit.errors > 0, "an interrupted run is not a pass: {:?}", junit.cases);
    eventually("geckodrivers and Firefox to be gone", Duration::from_secs(10), || procs.iter().all(|p| !alive(*p)));
}

/// Issue 14: synthetic traffic is marked on Firefox too. Firefox has no DevTools override,
/// so ft starts it with its own user agent plus the marker (from `firefox --version`).
#[test]
fn a_watched_firefox_marks_every_request_as_synthetic() {
    // With signals (BiDi) and without: a local Firefox starts with the marked user agent,
    // so it needs no BiDi to be marked.
    for extra in [&[][..], &["--no-signals"][..]] {
        let log = tempfile::NamedTempFile::new().expect("log file");
        let served = Served::start_with(&["--access-log", &log.path().display().to_string()]);
        let args = ["watch", "--browser", "firefox", "--liveserver", &served.url, "--every", "1h"];
        let mut ft = Running::start(&[&args[..], extra].concat());
        ft.wait_for_line("ft watch: run 1: passed");
        let (code, _) = interrupt_until_exit(&mut ft.child, Duration::from_secs(60));
        assert_eq!(code, Some(130), "{extra:?}: {:?}", ft.seen);
        let access = std::fs::read_to_string(log.path()).expect("access log");
        let marker = format!(" ft-synthetic/{}\"", env!("CARGO_PKG_VERSION"));
        let firefox: Vec<&str> = access.lines().filter(|l| l.contains("Firefox/")).collect();
        assert!(!firefox.is_empty(), "{extra:?}: Firefox's requests reached the app:\n{access}");
        assert!(access.lines().all(|l| l.ends_with(&marker)), "{extra:?}: every request is marked:\n{access}");
    }
}
