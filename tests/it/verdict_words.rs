//! Issue 24, small wrong words: what a run says when every scenario that ran is a
//! quarantined failure. Real browser, a page on loopback.

use crate::common::*;

// Issue 24 finding 17: two quarantined scenarios ran and failed, and ft said
// `NOT OK (nothing ran)` and exited 3, the code for "the infrastructure broke".
#[test]
fn a_run_of_only_quarantined_failures_failed_and_says_why() {
    let url = loopback::serve(|_, stream| {
        loopback::respond(stream, "200 OK", "<!doctype html><html><head><title>Page</title></head></html>")
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = r#"
[[scenario]]
name = "known broken one"
quarantine = "flaky since the redesign"
steps = [ { visit = "/" }, { expect_title = "Never" } ]

[[scenario]]
name = "known broken two"
quarantine = "flaky since the redesign"
steps = [ { visit = "/" }, { expect_title = "Never" } ]
"#;
    std::fs::write(dir.path().join("q.toml"), spec).expect("write");
    let out = ft_in(dir.path(), &["--specs", "q.toml", "--liveserver", &url, "--max-wait", "3", "--no-signals"]);
    assert_eq!(out.code, 1, "scenarios ran and failed: not an infrastructure problem\n{}", out.all());
    assert!(!out.stdout.contains("nothing ran"), "{}", out.stdout);
    assert!(out.stdout.contains("NOT OK (failed): 2 scenarios"), "{}", out.stdout);
    assert!(
        out.stdout.contains("2 quarantined scenarios failed, and no other scenario ran: nothing vouches for the app"),
        "{}",
        out.stdout
    );
}
