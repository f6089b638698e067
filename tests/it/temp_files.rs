//! What a run leaves in the temp folder: nothing. chromedriver removes a session's profile
//! folder only a while after the session ended, and not at all once killed (which is how
//! ft ends it): every run used to leave its Chromium profile in /tmp, the target's cached
//! pages in it, and a CI machine collects thousands. (After kill -9 of ft: orphans.rs.)

use crate::common;

use std::time::Duration;

use common::*;

/// Run ft with ARGS against a clean app, with a temp folder of its own (TMPDIR), and check
/// nothing is left in it once ft and its drivers' guards are done.
fn assert_leaves_nothing(args: &[&str]) {
    let served = Served::start(&[]);
    let (dir, tmp) = (tempfile::tempdir().expect("tempdir"), tempfile::tempdir().expect("tempdir"));
    let out = output(ft_command(dir.path()).args(["--liveserver", &served.url]).args(args).env("TMPDIR", tmp.path()));
    assert_eq!(out.code, 0, "{}", out.all());
    // ft does not wait for a guard to finish removing: it may outlive ft by a moment.
    let mut kept = Vec::new();
    let cleared = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        eventually("the run's temp files to be gone", Duration::from_secs(10), || {
            kept = crate::orphans::left_in(tmp.path());
            kept.is_empty()
        })
    }));
    assert!(cleared.is_ok(), "left in the run's temp folder: {kept:?}\n{}", out.all());
}

#[test]
fn a_chromium_run_with_fresh_sessions_leaves_no_profile_behind() {
    // Three browsers: the first session's, and one per scenario after it.
    assert_leaves_nothing(&["--tag", "smoke", "--fresh-session"]);
}

#[test]
fn a_firefox_run_leaves_no_profile_behind() {
    assert_leaves_nothing(&["--filter", "layout", "--browser", "firefox"]);
}
